// SPDX-License-Identifier: MIT
/*
 * NSG rules as Azure validates them: ARM strings → match sets, the six
 * default rules and whole-NSG validation (spec §1–2). Live edits are nsg_edit.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vnetlab/ip.h"
#include "vnetlab/model.h"

#define NAME_MAX_LEN 80
#define PREFIXES_PER_NSG_MAX 4000

/* ---- default rules ---- */

static struct vl_addr_match m_any[] = {{.kind = VL_ADDR_ANY}};
static struct vl_addr_match m_vnet[] = {{.kind = VL_ADDR_TAG_VNET}};
static struct vl_addr_match m_internet[] = {{.kind = VL_ADDR_TAG_INTERNET}};
static struct vl_addr_match m_lb[] = {{.kind = VL_ADDR_TAG_LB}};
static struct vl_port_range p_any[] = {{0, 65535}};

#define DEFAULT_RULE(nm, dsc, pri, d, acc, sp, sm, dp, dm)                                                   \
	{                                                                                                    \
		.name = nm, .description = dsc, .priority = pri, .dir = d, .access = acc,                    \
		.proto = VL_PROTO_ANY, .src_prefix = sp, .dst_prefix = dp, .src_port = "*", .dst_port = "*", \
		.is_default = true, .src = sm, .n_src = 1, .dst = dm, .n_dst = 1, .sport = p_any,            \
		.n_sport = 1, .dport = p_any, .n_dport = 1,                                                  \
	}

static const struct vl_rule default_rules[] = {
    DEFAULT_RULE("AllowVnetInBound", "Allow inbound traffic from all VMs in VNET", 65000, VL_DIR_IN, VL_ALLOW,
		 "VirtualNetwork", m_vnet, "VirtualNetwork", m_vnet),
    DEFAULT_RULE("AllowAzureLoadBalancerInBound", "Allow inbound traffic from azure load balancer", 65001,
		 VL_DIR_IN, VL_ALLOW, "AzureLoadBalancer", m_lb, "*", m_any),
    DEFAULT_RULE("DenyAllInBound", "Deny all inbound traffic", 65500, VL_DIR_IN, VL_DENY, "*", m_any, "*",
		 m_any),
    DEFAULT_RULE("AllowVnetOutBound", "Allow outbound traffic from all VMs to all VMs in VNET", 65000,
		 VL_DIR_OUT, VL_ALLOW, "VirtualNetwork", m_vnet, "VirtualNetwork", m_vnet),
    DEFAULT_RULE("AllowInternetOutBound", "Allow outbound traffic from all VMs to Internet", 65001,
		 VL_DIR_OUT, VL_ALLOW, "*", m_any, "Internet", m_internet),
    DEFAULT_RULE("DenyAllOutBound", "Deny all outbound traffic", 65500, VL_DIR_OUT, VL_DENY, "*", m_any, "*",
		 m_any),
};

const struct vl_rule *vl_default_rules(size_t *n)
{
	if (n)
		*n = sizeof(default_rules) / sizeof(default_rules[0]);
	return default_rules;
}

/* ---- parsing one rule ---- */

static bool is_set(const char *s)
{
	return s && *s;
}

static int parse_tag(const struct vl_lab *lab, const char *s, enum vl_addr_kind *kind, int *ref)
{
	*ref = VL_NONE;
	if (!strcasecmp(s, "VirtualNetwork"))
		*kind = VL_ADDR_TAG_VNET;
	else if (!strcasecmp(s, "Internet"))
		*kind = VL_ADDR_TAG_INTERNET;
	else if (!strcasecmp(s, "AzureLoadBalancer"))
		*kind = VL_ADDR_TAG_LB;
	else if (!strcasecmp(s, "AzurePlatformDNS"))
		*kind = VL_ADDR_TAG_PLATFORM_DNS;
	else if (!strcasecmp(s, "AzurePlatformIMDS"))
		*kind = VL_ADDR_TAG_PLATFORM_IMDS;
	else if (!strcasecmp(s, "AzurePlatformLKM"))
		*kind = VL_ADDR_TAG_PLATFORM_LKM;
	else if (lab && (*ref = vl_lab_find_service_tag(lab, s)) != VL_NONE)
		*kind = VL_ADDR_TAG_SERVICE;
	else
		return -ENOENT;
	return 0;
}

static bool looks_like_address(const char *s)
{
	return isdigit((unsigned char)s[0]);
}

static int parse_addr(const struct vl_lab *lab, const char *field, const char *s, bool plural, void *out,
		      char *why, size_t why_len)
{
	struct vl_addr_match *m = out;
	enum vl_addr_kind kind;
	struct vl_prefix p;
	int ref = VL_NONE;

	if (!strcmp(s, "*") || parse_tag(lab, s, &kind, &ref) == 0) {
		if (plural) {
			snprintf(why, why_len,
				 "SecurityRuleParameterContainsUnsupportedValue: %s may hold only IP "
				 "addresses and "
				 "CIDRs, not \"%s\" (put \"*\" or a service tag in the singular field)",
				 field, s);
			return -EINVAL;
		}
		m->kind = strcmp(s, "*") ? kind : VL_ADDR_ANY;
		m->ref = strcmp(s, "*") ? ref : VL_NONE;
		return 0;
	}
	if (vl_prefix_parse(s, true, &p) == 0) {
		m->kind = p.len == 0 ? VL_ADDR_ANY : VL_ADDR_PREFIX;
		m->prefix = p;
		return 0;
	}
	if (vl_prefix_parse(s, false, &p) == 0) {
		char buf[VL_PREFIX_STRLEN];

		snprintf(why, why_len, "%s: \"%s\" has host bits set (did you mean %s?)", field, s,
			 vl_prefix_fmt(p, buf));
	} else if (!looks_like_address(s)) {
		snprintf(why, why_len,
			 "%s: unknown service tag \"%s\" (vnetlab knows VirtualNetwork, Internet, "
			 "AzureLoadBalancer, AzurePlatformDNS, AzurePlatformIMDS, AzurePlatformLKM and the %zu tags of the topology's serviceTags)",
			 field, s, lab ? lab->n_service_tags : 0);
	} else {
		snprintf(why, why_len, "%s: \"%s\" is not an IPv4 address or CIDR", field, s);
	}
	return -EINVAL;
}

static int parse_port_num(const char *s, const char *end, unsigned *out)
{
	unsigned v = 0;

	if (s == end || end - s > 5)
		return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_port(const struct vl_lab *lab, const char *field, const char *s, bool plural, void *out,
		      char *why, size_t why_len)
{
	struct vl_port_range *r = out;
	const char *dash;
	unsigned lo, hi;

	(void)lab;
	if (!strcmp(s, "*")) {
		if (plural) {
			snprintf(
			    why, why_len,
			    "SecurityRuleParameterContainsUnsupportedValue: %s may hold only ports and port "
			    "ranges, not \"*\" (use the singular field)",
			    field);
			return -EINVAL;
		}
		r->lo = 0;
		r->hi = 65535;
		return 0;
	}
	dash = strchr(s, '-');
	if (!dash) {
		if (parse_port_num(s, s + strlen(s), &lo))
			goto bad;
		hi = lo;
	} else {
		if (parse_port_num(s, dash, &lo) ||
		    parse_port_num(dash + 1, dash + 1 + strlen(dash + 1), &hi))
			goto bad;
		if (lo > hi) {
			snprintf(why, why_len, "%s: range \"%s\" runs backwards (want N-M with N <= M)",
				 field, s);
			return -EINVAL;
		}
	}
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return 0;
bad:
	snprintf(why, why_len, "%s: \"%s\" is not a port (\"*\", N or N-M with 0 <= N <= M <= 65535)", field,
		 s);
	return -EINVAL;
}

/* parse_addr and parse_port: one element of a match set into *out. */
typedef int (*parse_one_fn)(const struct vl_lab *lab, const char *field, const char *s, bool plural,
			    void *out, char *why, size_t why_len);

/* Singular ∪ plural of one dimension (addresses or ports) into a fresh array of `size` elements. */
static int parse_set(const struct vl_lab *lab, const char *sing_name, const char *sing, const char *plur_name,
		     const struct vl_strv *plur, parse_one_fn parse, size_t size, void **out, size_t *n,
		     char *why, size_t why_len)
{
	char *v;
	size_t k = 0;

	if (is_set(sing) && plur->n) {
		snprintf(why, why_len, "both %s and %s are set; use one of them", sing_name, plur_name);
		return -EINVAL;
	}
	if (!is_set(sing) && !plur->n) {
		snprintf(why, why_len, "no %s (or %s) given", sing_name, plur_name);
		return -EINVAL;
	}
	v = calloc(plur->n + 1, size);
	if (!v)
		return -ENOMEM;
	if (is_set(sing) && parse(lab, sing_name, sing, false, v + size * k++, why, why_len))
		goto fail;
	for (size_t i = 0; i < plur->n; i++)
		if (parse(lab, plur_name, plur->v[i], true, v + size * k++, why, why_len))
			goto fail;
	*out = v;
	*n = k;
	return 0;
fail:
	free(v);
	return -EINVAL;
}

#define ASGS_PER_SIDE_MAX 10

/* One address side: its prefixes, or its application security groups, never both (spec 1.1). */
static int parse_side(const struct vl_lab *lab, const char *side, const char *sing,
		      const struct vl_strv *plur, const struct vl_strv *asgs, void **out, size_t *n,
		      char *why, size_t why_len)
{
	/* the field names as constants: formatting them cost a third of validating a rule */
	bool src = !strcmp(side, "source");
	const char *sing_name = src ? "sourceAddressPrefix" : "destinationAddressPrefix";
	const char *plur_name = src ? "sourceAddressPrefixes" : "destinationAddressPrefixes";
	const char *asg_name =
	    src ? "sourceApplicationSecurityGroups" : "destinationApplicationSecurityGroups";
	struct vl_addr_match *v;

	if (!asgs->n)
		return parse_set(lab, sing_name, sing, plur_name, plur, parse_addr, sizeof(*v), out, n, why,
				 why_len);
	if (is_set(sing) || plur->n) {
		snprintf(why, why_len,
			 "%s and %s are both set; a side takes address prefixes or application security "
			 "groups, not both",
			 asg_name, is_set(sing) ? sing_name : plur_name);
		return -EINVAL;
	}
	if (asgs->n > ASGS_PER_SIDE_MAX) {
		snprintf(why, why_len,
			 "%s: %zu application security groups; Azure allows at most %d per side", asg_name,
			 asgs->n, ASGS_PER_SIDE_MAX);
		return -EINVAL;
	}
	v = calloc(asgs->n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < asgs->n; i++) {
		v[i].kind = VL_ADDR_ASG;
		v[i].ref = lab ? vl_lab_find_asg(lab, asgs->v[i]) : VL_NONE;
		if (v[i].ref == VL_NONE) {
			snprintf(why, why_len,
				 "%s: no application security group named \"%s\" in the "
				 "topology's applicationSecurityGroups",
				 asg_name, asgs->v[i]);
			free(v);
			return -EINVAL;
		}
	}
	*out = v;
	*n = asgs->n;
	return 0;
}

int vl_rule_parse(struct vl_rule *r, char *why, size_t why_len)
{
	return vl_rule_parse_lab(NULL, r, why, why_len);
}

int vl_rule_parse_lab(const struct vl_lab *lab, struct vl_rule *r, char *why, size_t why_len)
{
	void *src = NULL, *dst = NULL, *sp = NULL, *dp = NULL;
	size_t nsrc = 0, ndst = 0, nsp = 0, ndp = 0;
	char scratch[8];
	int rc;

	if (!why || !why_len) {
		why = scratch;
		why_len = sizeof(scratch);
	}
	why[0] = '\0';
	if ((unsigned)r->proto > VL_PROTO_AH) {
		snprintf(why, why_len, "protocol must be one of Tcp, Udp, Icmp, Esp, Ah, *");
		return -EINVAL;
	}
	if ((unsigned)r->dir > VL_DIR_OUT) {
		snprintf(why, why_len, "direction must be Inbound or Outbound");
		return -EINVAL;
	}
	if ((unsigned)r->access > VL_DENY) {
		snprintf(why, why_len, "access must be Allow or Deny");
		return -EINVAL;
	}
	rc = parse_side(lab, "source", r->src_prefix, &r->src_prefixes, &r->src_asgs, &src, &nsrc, why,
			why_len);
	if (!rc)
		rc = parse_side(lab, "destination", r->dst_prefix, &r->dst_prefixes, &r->dst_asgs, &dst,
				&ndst, why, why_len);
	if (!rc)
		rc = parse_set(lab, "sourcePortRange", r->src_port, "sourcePortRanges", &r->src_ports,
			       parse_port, sizeof(*r->sport), &sp, &nsp, why, why_len);
	if (!rc)
		rc = parse_set(lab, "destinationPortRange", r->dst_port, "destinationPortRanges",
			       &r->dst_ports, parse_port, sizeof(*r->dport), &dp, &ndp, why, why_len);
	if (rc) {
		free(src);
		free(dst);
		free(sp);
		free(dp);
		if (rc == -ENOMEM)
			snprintf(why, why_len, "out of memory");
		return rc;
	}
	free(r->src);
	free(r->dst);
	free(r->sport);
	free(r->dport);
	r->src = src;
	r->n_src = nsrc;
	r->dst = dst;
	r->n_dst = ndst;
	r->sport = sp;
	r->n_sport = nsp;
	r->dport = dp;
	r->n_dport = ndp;
	return 0;
}

/* ---- whole NSG ---- */

static bool is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > NAME_MAX_LEN || !is_word(s[0]) || !is_word(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static size_t prefix_count(const char *sing, const struct vl_strv *plur)
{
	return (is_set(sing) ? 1 : 0) + plur->n;
}

int vl_nsg_validate(struct vl_nsg *nsg, const char *file, struct vl_error *err)
{
	return vl_nsg_validate_lab(NULL, nsg, file, err);
}

/*
 * The good rules seen so far, for validation in one pass: by name (case-insensitive, open
 * addressing) and by direction and priority. A scan of every earlier rule was quadratic: 46% of a
 * live edit of a 1,000-rule NSG went to strcasecmp, and every edit revalidates its NSG.
 */
struct seen {
	size_t *by_name; /* rule index + 1; 0 empty */
	size_t cap;	 /* a power of two, at least twice the rules */
	size_t by_prio[2][4097]; /* [dir][priority]: rule index + 1 */
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)tolower((unsigned char)*s)) * 0x100000001b3ull;
	return h;
}

static int seen_init(struct seen *sn, size_t n)
{
	memset(sn->by_prio, 0, sizeof(sn->by_prio));
	for (sn->cap = 16; sn->cap < 2 * n; sn->cap *= 2)
		;
	sn->by_name = calloc(sn->cap, sizeof(*sn->by_name));
	return sn->by_name ? 0 : -ENOMEM;
}

/* The slot of `name`: the good rule of that name, or the empty slot where it would go. */
static size_t *seen_slot(struct seen *sn, const struct vl_nsg *nsg, const char *name)
{
	size_t i = (size_t)name_hash(name) & (sn->cap - 1);

	while (sn->by_name[i] && strcasecmp(nsg->rules[sn->by_name[i] - 1].name, name))
		i = (i + 1) & (sn->cap - 1);
	return &sn->by_name[i];
}

static size_t *seen_prio(struct seen *sn, const struct vl_rule *r)
{
	return &sn->by_prio[r->dir == VL_DIR_OUT][r->priority];
}

/* Rule i of nsg against itself and the good rules before it (in sn). */
static int rule_check(const struct vl_lab *lab, struct vl_nsg *nsg, size_t i, struct seen *sn, const char *file,
		      struct vl_error *err)
{
	const char *nn = nsg->name ? nsg->name : "?";
	struct vl_rule *r = &nsg->rules[i];
	size_t *name_at, *prio_at;
	char why[400];
	int rc;

	if (!name_ok(r->name)) {
		vl_error_set(err, file, r->loc,
			     "NSG %s: invalid rule name \"%s\": 1-80 characters of letters, digits, '_', "
			     "'.' and '-', starting with a letter, digit or '_' and ending with a letter, "
			     "digit or '_'",
			     nn, r->name ? r->name : "");
		return -EINVAL;
	}
	name_at = seen_slot(sn, nsg, r->name);
	if (*name_at) {
		vl_error_set(err, file, r->loc,
			     "NSG %s: duplicate rule name \"%s\" (same as \"%s\"; names are "
			     "compared case-insensitively)",
			     nn, r->name, nsg->rules[*name_at - 1].name);
		return -EINVAL;
	}
	if (r->priority < 100 || r->priority > 4096) {
		if (r->priority == 0)
			vl_error_set(err, file, r->loc, "NSG %s: rule %s: missing priority (100-4096)", nn, r->name);
		else
			vl_error_set(err, file, r->loc, "NSG %s: rule %s: priority %d is out of range (100-4096)", nn,
				     r->name, r->priority);
		return -EINVAL;
	}
	rc = vl_rule_parse_lab(lab, r, why, sizeof(why));
	if (rc) {
		vl_error_set(err, file, r->loc, "NSG %s: rule %s: %s", nn, r->name, why);
		return rc;
	}
	prio_at = seen_prio(sn, r);
	if (*prio_at) {
		const struct vl_rule *o = &nsg->rules[*prio_at - 1];

		vl_error_set(err, file, r->loc,
			     "NSG %s: SecurityRuleConflict: rules \"%s\" and \"%s\" have the same "
			     "priority %d and direction %s",
			     nn, o->name, r->name, r->priority, vl_dir_name(r->dir));
		return -EINVAL;
	}
	*name_at = *prio_at = i + 1;
	return 0;
}

int vl_nsg_validate_lab(const struct vl_lab *lab, struct vl_nsg *nsg, const char *file, struct vl_error *err)
{
	return vl_nsg_validate_all(lab, nsg, file, err, NULL);
}

int vl_nsg_validate_all(const struct vl_lab *lab, struct vl_nsg *nsg, const char *file, struct vl_error *err,
			struct vl_errors *errs)
{
	const char *nn = nsg->name ? nsg->name : "?";
	size_t nsrc = 0, ndst = 0;
	struct seen *sn;
	int rc = 0, e;

	if (nsg->n_rules > VL_NSG_RULES_MAX) {
		vl_error_set(err, file, nsg->rules[VL_NSG_RULES_MAX].loc,
			     "NSG %s: %zu security rules; Azure allows at most %d per NSG", nn, nsg->n_rules,
			     VL_NSG_RULES_MAX);
		if (errs)
			vl_errors_add(errs, err);
		return -EINVAL;
	}
	sn = malloc(sizeof(*sn));
	if (!sn || seen_init(sn, nsg->n_rules)) {
		free(sn);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nsg->n_rules; i++) {
		struct vl_rule *r = &nsg->rules[i];

		e = rule_check(lab, nsg, i, sn, file, err);
		if (e) {
			rc = e;
			if (e == -EINVAL && errs && vl_errors_add(errs, err))
				continue;
			break;
		}
		nsrc += prefix_count(r->src_prefix, &r->src_prefixes);
		ndst += prefix_count(r->dst_prefix, &r->dst_prefixes);
		if (nsrc > PREFIXES_PER_NSG_MAX || ndst > PREFIXES_PER_NSG_MAX) {
			vl_error_set(err, file, r->loc, "NSG %s: more than %d %s address prefixes in one NSG",
				     nn, PREFIXES_PER_NSG_MAX,
				     nsrc > PREFIXES_PER_NSG_MAX ? "source" : "destination");
			if (errs)
				vl_errors_add(errs, err);
			rc = -EINVAL;
			break;
		}
	}
	free(sn->by_name);
	free(sn);
	return rc;
}
