// SPDX-License-Identifier: MIT
/* Typed access to located YAML nodes, and NSG / security rule mapping shared by
 * topology files and az JSON imports. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ld.h"
#include "vnetlab/loader.h"

int ld_fail(struct ld *c, const struct ynode *n, const char *fmt, ...)
{
	char msg[sizeof(c->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vl_error_set(c->err, c->file, n ? n->loc : (struct vl_loc){1, 1}, "%s", msg);
	return -EINVAL;
}

int ld_keep(struct ld *c, int r)
{
	struct vl_errors *e = c->errs;

	if (r != -EINVAL || !e)
		return r;
	for (size_t i = 0; i < e->n; i++)
		if (!memcmp(&e->v[i], c->err, sizeof(*c->err)))
			return 0; /* added where it was found (vl_nsg_validate_all, an item inside this one) */
	return vl_errors_add(e, c->err) ? 0 : r;
}

static const char *escape(const char *s, size_t max, char *buf, size_t len)
{
	size_t n = 0, i;

	for (i = 0; s[i] && i < max && n + 5 < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f || ch == '\\' || ch == '\'' || ch >= 0x80)
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", ch);
		else
			buf[n++] = (char)ch;
	}
	if (s[i] && n + 4 <= len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

const char *ld_quote(const struct ld *c, const char *s, char *buf, size_t len)
{
	if (c->hide) {
		snprintf(buf, len, "(not shown)");
		return buf;
	}
	return escape(s, 64, buf, len);
}

const char *ld_quote_key(const struct ld *c, const char *s, char *buf, size_t len)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.$@");

	/* from an imported file only what looks like a field name: a line of /etc/shadow is a "key" too */
	if ((!c || c->hide) && (s[n] || n == 0 || n > 32)) {
		snprintf(buf, len, "(not shown)");
		return buf;
	}
	return escape(s, 32, buf, len);
}

const char *ld_kind(const struct ynode *n)
{
	if (!n || n->null)
		return "nothing";
	switch (n->kind) {
	case YN_SEQ:
		return "a list";
	case YN_MAP:
		return "a mapping";
	default:
		return "a string";
	}
}

static const struct ynode *find(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YN_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->kids[2 * i]->str, key))
			return map->kids[2 * i + 1];
	return NULL;
}

const struct ynode *ld_get(const struct ynode *map, const char *key)
{
	const struct ynode *v = find(map, key);

	return v && !v->null ? v : NULL;
}

/* "a, b, c" for messages; cut short when buf is full. */
static const char *word_list(char *buf, size_t len, const char *const *words)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; words[i] && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", words[i]);
	return buf;
}

int ld_keys(struct ld *c, const struct ynode *map, const char *what, const char *const *allowed)
{
	for (size_t i = 0; i < map->n; i++) {
		const struct ynode *k = map->kids[2 * i];
		size_t j;

		for (j = 0; allowed[j]; j++)
			if (!strcmp(allowed[j], k->str))
				break;
		if (!allowed[j]) {
			char list[400], q[160];

			return ld_fail(c, k, "unknown key '%s' in %s; expected one of: %s",
				       ld_quote_key(c, k->str, q, sizeof(q)), what, word_list(list, sizeof(list), allowed));
		}
	}
	return 0;
}

int ld_map(struct ld *c, const struct ynode *n, const char *what)
{
	if (n->kind != YN_MAP || n->null)
		return ld_fail(c, n, "expected a mapping for %s, got %s", what, ld_kind(n));
	return 0;
}

int ld_seq(struct ld *c, const struct ynode *n, const char *what)
{
	if (n->kind != YN_SEQ)
		return ld_fail(c, n, "expected a list for %s, got %s", what, ld_kind(n));
	return 0;
}

int ld_str(struct ld *c, const struct ynode *n, const char *what, char **out)
{
	if (n->kind != YN_SCALAR || n->null)
		return ld_fail(c, n, "expected a string for %s, got %s", what, ld_kind(n));
	free(*out);
	*out = strdup(n->str);
	return *out ? 0 : -ENOMEM;
}

int ld_int(struct ld *c, const struct ynode *n, const char *what, long lo, long hi, int *out)
{
	const char *s = n->str;
	char *end, q[400];
	long v;

	if (n->kind != YN_SCALAR || n->null)
		return ld_fail(c, n, "expected a number for %s, got %s", what, ld_kind(n));
	if (*s == '-' ? (s[1] < '0' || s[1] > '9') : (*s < '0' || *s > '9'))
		return ld_fail(c, n, "expected a number for %s, got '%s'", what, ld_quote(c, s, q, sizeof(q)));
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end)
		return ld_fail(c, n, "expected a number for %s, got '%s'", what, ld_quote(c, s, q, sizeof(q)));
	if (errno || v < lo || v > hi)
		return ld_fail(c, n, "%s must be between %ld and %ld, got %s", what, lo, hi,
			       ld_quote(c, s, q, sizeof(q)));
	*out = (int)v;
	return 0;
}

int ld_need(struct ld *c, const struct ynode *map, const char *key, const char *what,
	    const struct ynode **out)
{
	*out = ld_get(map, key);
	if (!*out)
		return ld_fail(c, map, "missing '%s' in %s", key, what);
	return 0;
}

const char *ld_read_reason(int e)
{
	return e == -EFBIG ? "file too large" : e == -EINVAL ? "not a regular file" : strerror(-e);
}

static int read_regular(const char *path, char **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *b;
	/* O_NONBLOCK: a FIFO without a writer is refused below instead of blocking here */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int r = 0;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if ((unsigned long long)st.st_size > LD_FILE_MAX) {
		r = -EFBIG;
		goto out;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			free(b);
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
out:
	close(fd);
	return r;
}

int ld_read_file(const char *path, const char *what, char **buf, size_t *len, struct vl_error *err)
{
	int r = read_regular(path, buf, len);

	if (r)
		vl_error_set(err, path, (struct vl_loc){0, 0}, "cannot read %s: %s", what, ld_read_reason(r));
	return r;
}

/* ---- NSGs and rules ---- */

/* A rule or NSG may be flat (az) or nest its fields under `properties` (REST). */
struct view {
	const struct ynode *outer;
	const struct ynode *props;
};

static const struct ynode *vget(const struct view *v, const char *key)
{
	const struct ynode *n = ld_get(v->outer, key);

	return n ? n : ld_get(v->props, key);
}

static const struct ynode *vfind(const struct view *v, const char *key)
{
	const struct ynode *n = find(v->outer, key);

	return n ? n : find(v->props, key);
}

static int view_open(struct ld *c, const struct ynode *map, const char *what, const char *const *keys,
		     struct view *v)
{
	int r;

	v->outer = map;
	v->props = NULL;
	r = ld_map(c, map, what);
	if (!r)
		r = ld_keys(c, map, what, keys);
	if (r)
		return r;
	v->props = ld_get(map, "properties");
	if (!v->props)
		return 0;
	r = ld_map(c, v->props, "properties");
	if (!r)
		r = ld_keys(c, v->props, what, keys);
	if (r)
		return r;
	for (size_t i = 0; i < v->props->n; i++) {
		const struct ynode *k = v->props->kids[2 * i];

		if (!strcmp(k->str, "properties"))
			return ld_fail(c, k, "'properties' inside 'properties'");
		if (find(map, k->str)) {
			char q[160];

			return ld_fail(c, k, "'%s' given both in the %s and in its properties",
				       ld_quote_key(c, k->str, q, sizeof(q)), what);
		}
	}
	return 0;
}

static const char *const rule_keys[] = {
    "name",
    LD_RULE_FIELDS,
    "sourceApplicationSecurityGroups",
    "destinationApplicationSecurityGroups",
    "id",
    "etag",
    "type",
    "provisioningState",
    "resourceGroup",
    "properties",
    NULL,
};

static int word_opt(struct ld *c, const struct ynode *n, const char *what, const char *const *words, int *out)
{
	if (n->kind != YN_SCALAR || n->null)
		return ld_fail(c, n, "expected a string for %s, got %s", what, ld_kind(n));
	for (int i = 0; words[i]; i++) {
		if (!strcasecmp(n->str, words[i])) {
			*out = i;
			return 0;
		}
	}
	char list[200], q[400];

	return ld_fail(c, n, "invalid %s '%s'; expected one of: %s", what, ld_quote(c, n->str, q, sizeof(q)),
		       word_list(list, sizeof(list), words));
}

static int strv_opt(struct ld *c, const struct ynode *n, const char *what, struct vl_strv *sv)
{
	if (n->kind == YN_SCALAR)
		return vl_strv_push(sv, n->str);
	if (n->kind != YN_SEQ)
		return ld_fail(c, n, "expected a list for %s, got %s", what, ld_kind(n));
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *e = n->kids[i];
		int r;

		if (e->kind != YN_SCALAR || e->null)
			return ld_fail(c, e, "expected a string in %s, got %s", what, ld_kind(e));
		r = vl_strv_push(sv, e->str);
		if (r)
			return r;
	}
	return 0;
}

static int str_opt(struct ld *c, const struct view *v, const char *key, char **out)
{
	const struct ynode *n = vget(v, key);

	return n ? ld_str(c, n, key, out) : 0;
}

static int plural_opt(struct ld *c, const struct view *v, const char *key, struct vl_strv *sv)
{
	const struct ynode *n = vget(v, key);

	return n ? strv_opt(c, n, key, sv) : 0;
}

/* In enum vl_proto order; "Any" is what older exports say for "*". */
static const char *const proto_words[] = {"*", "Tcp", "Udp", "Icmp", "Esp", "Ah", "Any", NULL};
static const char *const dir_words[] = {"Inbound", "Outbound", NULL};
static const char *const access_words[] = {"Allow", "Deny", NULL};

static int rule_need(struct ld *c, const struct view *v, const struct ynode *map, const char *key,
		     const char *rule, const struct ynode **out)
{
	char q[400];

	*out = vget(v, key);
	return *out ? 0 : ld_fail(c, map, "missing '%s' in security rule '%s'", key, ld_quote(c, rule, q, sizeof(q)));
}

/*
 * An ASG list as az prints it ([{id: …/applicationSecurityGroups/NAME, resourceGroup}], REST
 * [{id}]) or as a person writes it ([NAME]): the names, an id by its last segment.
 */
static int asg_refs(struct ld *c, const struct ynode *n, const char *what, struct vl_strv *sv)
{
	static const char *const keys[] = {"id",   "name", "resourceGroup", "location",
					   "etag", "type", "properties",    NULL};

	if (!n)
		return 0;
	if (n->kind != YN_SEQ)
		return ld_fail(c, n, "expected a list for %s, got %s", what, ld_kind(n));
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *e = n->kids[i], *id;
		const char *s, *slash;
		int r;

		if (e->kind == YN_MAP) {
			if ((r = ld_keys(c, e, "application security group reference", keys)))
				return r;
			id = ld_get(e, "id");
			if (!id)
				id = ld_get(e, "name");
			if (!id)
				return ld_fail(c, e, "an entry of %s needs an 'id'", what);
			e = id;
		}
		if (e->kind != YN_SCALAR || e->null || !*e->str)
			return ld_fail(c, e, "expected an id or a name in %s, got %s", what, ld_kind(e));
		s = e->str;
		slash = strrchr(s, '/');
		if (slash && strstr(s, "/applicationSecurityGroups/") == NULL) {
			char q[400];

			return ld_fail(c, e, "%s: '%s' is not an application security group id", what,
				       ld_quote(c, s, q, sizeof(q)));
		}
		if (slash)
			s = slash + 1;
		if (!*s)
			return ld_fail(c, e, "%s: an id ends with '/'", what);
		if ((r = vl_strv_push(sv, s)))
			return r;
	}
	return 0;
}

static int rule_parse(struct ld *c, const struct ynode *map, struct vl_rule *r)
{
	struct view v;
	const struct ynode *n;
	int e, w;

	e = view_open(c, map, "security rule", rule_keys, &v);
	if (e)
		return e;
	r->loc = map->loc;
	n = vget(&v, "name");
	if (!n)
		return ld_fail(c, map, "missing 'name' in security rule");
	if ((e = ld_str(c, n, "name", &r->name)) || (e = rule_need(c, &v, map, "priority", r->name, &n)) ||
	    (e = ld_int(c, n, "priority", 0, 1000000, &r->priority)) ||
	    (e = rule_need(c, &v, map, "direction", r->name, &n)) ||
	    (e = word_opt(c, n, "direction", dir_words, &w)))
		return e;
	r->dir = w ? VL_DIR_OUT : VL_DIR_IN;
	if ((e = rule_need(c, &v, map, "access", r->name, &n)) ||
	    (e = word_opt(c, n, "access", access_words, &w)))
		return e;
	r->access = w ? VL_DENY : VL_ALLOW;
	r->proto = VL_PROTO_ANY;
	n = vget(&v, "protocol");
	if (n) {
		e = word_opt(c, n, "protocol", proto_words, &w);
		if (e)
			return e;
		r->proto = w == 6 ? VL_PROTO_ANY : (enum vl_proto)w;
	}
	if ((e = asg_refs(c, vget(&v, "sourceApplicationSecurityGroups"), "sourceApplicationSecurityGroups",
			  &r->src_asgs)) ||
	    (e = asg_refs(c, vget(&v, "destinationApplicationSecurityGroups"),
			  "destinationApplicationSecurityGroups", &r->dst_asgs)))
		return e;
	if ((e = str_opt(c, &v, "description", &r->description)) ||
	    (e = str_opt(c, &v, "sourceAddressPrefix", &r->src_prefix)) ||
	    (e = str_opt(c, &v, "destinationAddressPrefix", &r->dst_prefix)) ||
	    (e = str_opt(c, &v, "sourcePortRange", &r->src_port)) ||
	    (e = str_opt(c, &v, "destinationPortRange", &r->dst_port)) ||
	    (e = plural_opt(c, &v, "sourceAddressPrefixes", &r->src_prefixes)) ||
	    (e = plural_opt(c, &v, "destinationAddressPrefixes", &r->dst_prefixes)) ||
	    (e = plural_opt(c, &v, "sourcePortRanges", &r->src_ports)) ||
	    (e = plural_opt(c, &v, "destinationPortRanges", &r->dst_ports)))
		return e;
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return !a || !b || !strcasecmp(a, b);
}

/* Exports list the six defaults; they must be Azure's (they cannot be changed). */
static int default_check(struct ld *c, const struct ynode *map, bool seen[], size_t nseen)
{
	struct vl_rule r = {0};
	const struct vl_rule *d = NULL;
	size_t nd = 0, i;
	const struct vl_rule *defs = vl_default_rules(&nd);
	int e = rule_parse(c, map, &r);

	if (e)
		goto out;
	for (i = 0; i < nd && i < nseen; i++) {
		if (!strcmp(defs[i].name, r.name)) {
			d = &defs[i];
			break;
		}
	}
	if (!d) {
		char q[400];

		e = ld_fail(c, map, "'%s' is not one of Azure's default security rules", ld_quote(c, r.name, q, sizeof(q)));
		goto out;
	}
	if (seen[i]) {
		char q[400];

		e = ld_fail(c, map, "default security rule '%s' is listed twice", ld_quote(c, r.name, q, sizeof(q)));
		goto out;
	}
	seen[i] = true;
	if (r.priority != d->priority || r.dir != d->dir || r.access != d->access || r.proto != d->proto ||
	    !same_str(r.src_prefix, d->src_prefix) || !same_str(r.dst_prefix, d->dst_prefix))
		e = ld_fail(c, map,
			    "default security rule '%s' differs from Azure's (%s %s priority %d); "
			    "default rules cannot be changed",
			    r.name, vl_dir_name(d->dir), vl_access_name(d->access), d->priority);
out:
	vl_rule_clear(&r);
	return e;
}

static bool is_default_rule(const struct ynode *map)
{
	const struct ynode *t = ld_get(map, "type");

	return t && t->kind == YN_SCALAR && strlen(t->str) >= 21 &&
	       !strcasecmp(t->str + strlen(t->str) - 21, "/defaultSecurityRules");
}

void ld_nsg_clear(struct vl_nsg *nsg)
{
	for (size_t i = 0; i < nsg->n_rules; i++)
		vl_rule_clear(&nsg->rules[i]);
	free(nsg->rules);
	free(nsg->name);
	memset(nsg, 0, sizeof(*nsg));
}

static int rules_fill(struct ld *c, const struct ynode *seq, const char *what, bool split_defaults,
		      struct vl_nsg *nsg)
{
	bool seen[8] = {0};
	size_t n = 0;
	int e = ld_seq(c, seq, what);

	if (e)
		return e;
	if (seq->n > VL_NSG_RULES_MAX)
		return ld_fail(c, seq->kids[VL_NSG_RULES_MAX], "an NSG holds at most %d security rules",
			       VL_NSG_RULES_MAX);
	if (seq->n) {
		nsg->rules = calloc(seq->n, sizeof(*nsg->rules));
		if (!nsg->rules)
			return -ENOMEM;
	}
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i];

		if (split_defaults && m->kind == YN_MAP && is_default_rule(m)) {
			e = default_check(c, m, seen, 8);
		} else {
			e = rule_parse(c, m, &nsg->rules[n]);
			nsg->n_rules = ++n;
			if (e) { /* a bad rule is not validated again: it is not kept */
				vl_rule_clear(&nsg->rules[--n]);
				memset(&nsg->rules[n], 0, sizeof(nsg->rules[n]));
				nsg->n_rules = n;
			}
		}
		/* kept: the good rules are still validated; the section fails at its end */
		if (e && (e = ld_keep(c, e)))
			return e;
	}
	return 0;
}

int ld_rule_array(struct ld *c, const struct ynode *seq, struct vl_nsg *nsg)
{
	return rules_fill(c, seq, "security rules", true, nsg);
}

static const char *const nsg_keys[] = {
    "name",
    "securityRules",
    "defaultSecurityRules",
    "import",
    "properties",
    "id",
    "etag",
    "type",
    "location",
    "resourceGroup",
    "resourceGuid",
    "provisioningState",
    "tags",
    "subnets",
    "networkInterfaces",
    "flushConnection",
    NULL,
};

int ld_nsg(struct ld *c, const struct ynode *map, const char *import_dir, struct vl_nsg *nsg, bool *imported)
{
	const struct ynode *rules, *defs, *imp;
	struct view v;
	int e;

	*imported = false;
	e = view_open(c, map, "network security group", nsg_keys, &v);
	if (e)
		return e;
	nsg->loc = map->loc;
	if ((e = str_opt(c, &v, "name", &nsg->name)))
		return e;
	rules = vget(&v, "securityRules");
	defs = vget(&v, "defaultSecurityRules");
	imp = vget(&v, "import");
	if (imp && !import_dir)
		return ld_fail(c, vfind(&v, "import"), "'import' is only allowed in a topology file");
	if (imp && (rules || defs))
		return ld_fail(
		    c, imp,
		    "'import' replaces securityRules and defaultSecurityRules; give one or the other");
	if (rules) {
		e = rules_fill(c, rules, "securityRules", false, nsg);
		if (e)
			return e;
	}
	if (defs) {
		bool seen[8] = {0};

		e = ld_seq(c, defs, "defaultSecurityRules");
		for (size_t i = 0; !e && i < defs->n; i++)
			e = default_check(c, defs->kids[i], seen, 8);
		if (e)
			return e;
	}
	if (imp) {
		struct vl_nsg got = {0};
		char *path = NULL;

		if (imp->kind != YN_SCALAR)
			return ld_fail(c, imp, "expected a string for import, got %s", ld_kind(imp));
		if (imp->str[0] == '/' || !*import_dir)
			path = strdup(imp->str);
		else if (asprintf(&path, "%s/%s", import_dir, imp->str) < 0)
			path = NULL;
		if (!path)
			return -ENOMEM;
		e = ld_import(c, imp, path, nsg->name, &got);
		free(path);
		if (e) {
			ld_nsg_clear(&got);
			return -EINVAL;
		}
		nsg->rules = got.rules;
		nsg->n_rules = got.n_rules;
		if (!nsg->name) {
			nsg->name = got.name;
			got.name = NULL;
		}
		free(got.name);
		*imported = true;
	}
	return 0;
}
