// SPDX-License-Identifier: MIT
/*
 * nftables serialisation without a kernel: build the transaction of a small
 * lab, parse every message back with libnftnl, and check tables, chains,
 * maps and the expressions of the NSG rules (libnftnl's tests style).
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "common/helpers.h"
#include "vnetlab/effective.h"
#include "vnetlab/nft.h"
#include "../../lab/nft/nft-emit.h"

static const char *topo =
	"name: nftu\n"
	"vnets:\n"
	"  - name: v1\n"
	"    addressSpace: [10.1.0.0/16]\n"
	"    subnets:\n"
	"      - {name: web, addressPrefix: 10.1.0.0/24, networkSecurityGroup: web-nsg}\n"
	"      - {name: aks, addressPrefix: 10.1.2.0/24}\n"
	"      - {name: cni, addressPrefix: 10.1.3.0/24}\n"
	"networkSecurityGroups:\n"
	"  - name: web-nsg\n"
	"    securityRules:\n"
	"      - {name: allow-http, priority: 100, direction: Inbound, access: Allow, protocol: Tcp,\n"
	"         sourceAddressPrefix: Internet, sourcePortRange: '*', destinationAddressPrefix: '*',\n"
	"         destinationPortRange: '80'}\n"
	"      - {name: deny-ssh, priority: 110, direction: Inbound, access: Deny, protocol: '*',\n"
	"         sourceAddressPrefix: 10.1.0.0/24, sourcePortRange: '*', destinationAddressPrefix: '*',\n"
	"         destinationPortRange: '22'}\n"
	"      - {name: icmp, priority: 120, direction: Outbound, access: Allow, protocol: Icmp,\n"
	"         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: 10.1.0.4,\n"
	"         destinationPortRange: '7'}\n"
	"  - name: nic-nsg\n"
	"    securityRules: []\n"
	"vms:\n"
	"  - {name: vm1, subnet: web, networkSecurityGroup: nic-nsg}\n"
	"  - {name: vm2, subnet: web}\n"
	"aksClusters:\n"
	"  - {name: k1, subnet: aks, networkPlugin: kubenet, nodeCount: 1, nodeNetworkSecurityGroup: nic-nsg}\n"
	"  - {name: k2, subnet: cni, networkPlugin: azure, nodeCount: 1}\n";

struct elem {
	uint8_t key[20];
	uint32_t key_len;
	uint32_t flags;
	int verdict;      /* NFT_JUMP for map elements, 0 otherwise */
	char chain[128];
	uint32_t data;    /* data maps: the value as sent (4 bytes) */
	char comment[128]; /* NFTNL_UDATA_SET_ELEM_COMMENT, "" without */
};

/* One parsed message of a batch. */
struct msg {
	uint16_t type; /* NFT_MSG_* or NFNL_MSG_BATCH_* */
	uint16_t flags;
	struct nftnl_table *table;
	struct nftnl_chain *chain;
	struct nftnl_rule *rule;
	struct nftnl_set *set;
	struct nftnl_obj *obj;
	/* NEWSETELEM, parsed with libmnl (set name and elements) */
	char set_name[128];
	struct elem *elems;
	size_t n_elems;
};

struct parsed {
	struct msg *m;
	size_t n;
};

static void parse_verdict(const struct nlattr *data, struct elem *e)
{
	const struct nlattr *v, *a;

	mnl_attr_for_each_nested(v, data) {
		if (mnl_attr_get_type(v) == NFTA_DATA_VALUE && mnl_attr_get_payload_len(v) == 4)
			memcpy(&e->data, mnl_attr_get_payload(v), 4);
		if (mnl_attr_get_type(v) != NFTA_DATA_VERDICT)
			continue;
		mnl_attr_for_each_nested(a, v) {
			if (mnl_attr_get_type(a) == NFTA_VERDICT_CODE)
				e->verdict = (int)ntohl(mnl_attr_get_u32(a));
			else if (mnl_attr_get_type(a) == NFTA_VERDICT_CHAIN)
				snprintf(e->chain, sizeof(e->chain), "%s", mnl_attr_get_str(a));
		}
	}
}

/* Elements by hand with libmnl: an independent reading of what libnftnl built. */
static void parse_elems(const struct nlmsghdr *nlh, struct msg *m)
{
	const struct nlattr *attr, *el, *a, *k;

	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) == NFTA_SET_ELEM_LIST_SET)
			snprintf(m->set_name, sizeof(m->set_name), "%s", mnl_attr_get_str(attr));
		if (mnl_attr_get_type(attr) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, attr) {
			struct elem *e;

			m->elems = realloc(m->elems, (m->n_elems + 1) * sizeof(*m->elems));
			cr_assert(m->elems);
			e = &m->elems[m->n_elems++];
			memset(e, 0, sizeof(*e));
			mnl_attr_for_each_nested(a, el) {
				switch (mnl_attr_get_type(a)) {
				case NFTA_SET_ELEM_KEY:
					mnl_attr_for_each_nested(k, a) {
						e->key_len = mnl_attr_get_payload_len(k);
						cr_assert_leq(e->key_len, sizeof(e->key));
						memcpy(e->key, mnl_attr_get_payload(k), e->key_len);
					}
					break;
				case NFTA_SET_ELEM_FLAGS:
					e->flags = ntohl(mnl_attr_get_u32(a));
					break;
				case NFTA_SET_ELEM_DATA:
					parse_verdict(a, e);
					break;
				case NFTA_SET_ELEM_USERDATA: {
					/* one TLV: type, length, the comment with its NUL */
					const uint8_t *u = mnl_attr_get_payload(a);

					cr_assert_geq(mnl_attr_get_payload_len(a), 3);
					cr_assert_eq(u[0], NFTNL_UDATA_SET_ELEM_COMMENT);
					cr_assert_eq(u[1] + 2u, mnl_attr_get_payload_len(a));
					cr_assert_eq(u[1 + u[1]], '\0');
					snprintf(e->comment, sizeof(e->comment), "%s", (const char *)u + 2);
					break;
				}
				}
			}
		}
	}
}

static struct parsed parse_batch(const void *buf, size_t len)
{
	struct parsed p = { 0 };
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		struct msg *m;

		p.m = realloc(p.m, (p.n + 1) * sizeof(*p.m));
		cr_assert(p.m);
		m = &p.m[p.n++];
		memset(m, 0, sizeof(*m));
		m->flags = nlh->nlmsg_flags;
		if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN || nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
			m->type = nlh->nlmsg_type;
			continue;
		}
		cr_assert_eq(NFNL_SUBSYS_ID(nlh->nlmsg_type), NFNL_SUBSYS_NFTABLES);
		m->type = NFNL_MSG_TYPE(nlh->nlmsg_type);
		switch (m->type) {
		case NFT_MSG_NEWTABLE:
		case NFT_MSG_DELTABLE:
			m->table = nftnl_table_alloc();
			cr_assert_eq(nftnl_table_nlmsg_parse(nlh, m->table), 0);
			break;
		case NFT_MSG_NEWCHAIN:
			m->chain = nftnl_chain_alloc();
			cr_assert_eq(nftnl_chain_nlmsg_parse(nlh, m->chain), 0);
			break;
		case NFT_MSG_NEWRULE:
		case NFT_MSG_DELRULE:
			m->rule = nftnl_rule_alloc();
			cr_assert_eq(nftnl_rule_nlmsg_parse(nlh, m->rule), 0);
			break;
		case NFT_MSG_NEWSET:
			m->set = nftnl_set_alloc();
			cr_assert_eq(nftnl_set_nlmsg_parse(nlh, m->set), 0);
			break;
		case NFT_MSG_NEWSETELEM:
		case NFT_MSG_DELSETELEM: /* without elements: a flush of the set */
			parse_elems(nlh, m);
			break;
		case NFT_MSG_NEWOBJ:
			m->obj = nftnl_obj_alloc();
			cr_assert_eq(nftnl_obj_nlmsg_parse(nlh, m->obj), 0);
			break;
		default:
			cr_assert_fail("unexpected message type %u", m->type);
		}
	}
	cr_assert_eq(left, 0, "trailing bytes in batch");
	return p;
}

static void parsed_free(struct parsed *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->m[i].table)
			nftnl_table_free(p->m[i].table);
		if (p->m[i].chain)
			nftnl_chain_free(p->m[i].chain);
		if (p->m[i].rule)
			nftnl_rule_free(p->m[i].rule);
		if (p->m[i].set)
			nftnl_set_free(p->m[i].set);
		if (p->m[i].obj)
			nftnl_obj_free(p->m[i].obj);
		free(p->m[i].elems);
	}
	free(p->m);
}

static struct parsed nsg_batch(const struct vl_lab *lab, int nsg)
{
	char why[256] = "";
	void *buf = NULL;
	size_t len = 0;
	struct parsed p;

	cr_assert_eq(vl_nft_nsg_batch(lab, 0, nsg, &buf, &len, why, sizeof(why)), 0, "%s", why);
	p = parse_batch(buf, len);
	free(buf);
	return p;
}

/* "meta,cmp,payload,..." of a rule. */
static void expr_names(const struct nftnl_rule *r, char *out, size_t len)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;

	out[0] = '\0';
	while ((e = nftnl_expr_iter_next(it))) {
		if (out[0])
			strncat(out, ",", len - strlen(out) - 1);
		strncat(out, nftnl_expr_get_str(e, NFTNL_EXPR_NAME), len - strlen(out) - 1);
	}
	nftnl_expr_iter_destroy(it);
}

static struct nftnl_expr *nth_expr(const struct nftnl_rule *r, const char *name, int nth)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e, *found = NULL;

	while ((e = nftnl_expr_iter_next(it)))
		if (!strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), name) && nth-- == 0) {
			found = e;
			break;
		}
	nftnl_expr_iter_destroy(it);
	return found;
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT)
		*(const struct nftnl_udata **)data = attr;
	return 0;
}

static const char *comment_of(const struct nftnl_rule *r, char *buf, size_t len)
{
	const struct nftnl_udata *c = NULL;
	const void *data;
	uint32_t dlen;

	buf[0] = '\0';
	if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA))
		return buf;
	data = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &dlen);
	nftnl_udata_parse(data, dlen, comment_cb, &c);
	if (c)
		snprintf(buf, len, "%s", (const char *)nftnl_udata_get(c));
	return buf;
}

/* The i-th NEWRULE of a chain. */
static const struct nftnl_rule *rule_in(const struct parsed *p, const char *chain, int i)
{
	for (size_t k = 0; k < p->n; k++)
		if (p->m[k].type == NFT_MSG_NEWRULE &&
		    !strcmp(nftnl_rule_get_str(p->m[k].rule, NFTNL_RULE_CHAIN), chain) && i-- == 0)
			return p->m[k].rule;
	return NULL;
}

static int rules_in(const struct parsed *p, const char *chain)
{
	int n = 0;

	while (rule_in(p, chain, n))
		n++;
	return n;
}

static uint32_t be32_data(const struct nftnl_expr *e, uint16_t attr)
{
	uint32_t len, v;
	const void *d = nftnl_expr_get(e, attr, &len);

	cr_assert_eq(len, 4);
	memcpy(&v, d, 4);
	return ntohl(v);
}

static struct vl_lab *lab;

/* The dynamic set of a pair meter, made in the batch before the rules that use it. */
static void assert_pair_meter(const struct parsed *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct nftnl_set *s = p->m[i].set;

		if (p->m[i].type != NFT_MSG_NEWSET || !s || strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), name))
			continue;
		cr_assert_eq(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), NFT_SET_EVAL | NFT_SET_TIMEOUT, "%s", name);
		cr_assert_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 7 << 6 | 7, "%s: ipv4_addr . ipv4_addr", name);
		cr_assert_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 8);
		cr_assert_eq(nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT), VL_NFT_LOG_PAIR_TIMEOUT_S * 1000ULL);
		cr_assert_eq(nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE), VL_NFT_LOG_PAIRS_MIN, "a small lab's floor");
		return;
	}
	cr_assert_fail("no set %s", name);
}

/* The table's one named limit, made before the rules that share it. */
static void assert_log_ceiling(const struct parsed *p)
{
	int found = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct nftnl_obj *o = p->m[i].obj;

		if (p->m[i].type == NFT_MSG_NEWRULE && !found)
			for (int k = 0; nth_expr(p->m[i].rule, "objref", k); k++)
				cr_assert_fail("a rule names the ceiling before it is made");
		if (p->m[i].type != NFT_MSG_NEWOBJ)
			continue;
		found++;
		cr_assert_str_eq(nftnl_obj_get_str(o, NFTNL_OBJ_NAME), "log_ceiling");
		cr_assert_eq(nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE), NFT_OBJECT_LIMIT);
		cr_assert_eq(nftnl_obj_get_u64(o, NFTNL_OBJ_LIMIT_RATE), VL_NFT_LOG_MAX_RATE);
		cr_assert_eq(nftnl_obj_get_u32(o, NFTNL_OBJ_LIMIT_BURST), VL_NFT_LOG_MAX_BURST);
		cr_assert_eq(nftnl_obj_get_u32(o, NFTNL_OBJ_LIMIT_TYPE), NFT_LIMIT_PKTS);
	}
	cr_assert_eq(found, 1, "one ceiling a table");
}

/* A pair meter holds the square of the lab's endpoints, within its bounds. */
Test(nft, pair_meters_grow_with_the_lab)
{
	struct vl_lab l = {0};

	l.n_eps = 10;
	cr_assert_eq(vlnft_log_pairs(&l), VL_NFT_LOG_PAIRS_MIN);
	l.n_eps = 300;
	cr_assert_eq(vlnft_log_pairs(&l), 90000);
	l.n_eps = 5000;
	cr_assert_eq(vlnft_log_pairs(&l), VL_NFT_LOG_PAIRS_MAX);
}

/* A rule's log limits (vlnft_rx_log_limits) from expression `at` on: ip saddr . ip daddr into
 * registers 1 and 9, a bucket per pair in `set` (update, the limit nested in the dynset), then the
 * table's own limit. */
static void assert_log_limits(const struct nftnl_rule *r, const char *set)
{
	const struct nftnl_expr *sa = nth_expr(r, "payload", 0), *da = nth_expr(r, "payload", 1);
	const struct nftnl_expr *d = nth_expr(r, "dynset", 0), *lim, *max = nth_expr(r, "objref", 0);
	uint32_t len;

	cr_assert(sa && da && d && max);
	cr_assert_eq(nftnl_expr_get_u32(sa, NFTNL_EXPR_PAYLOAD_OFFSET), 12);
	cr_assert_eq(nftnl_expr_get_u32(sa, NFTNL_EXPR_PAYLOAD_DREG), NFT_REG_1);
	cr_assert_eq(nftnl_expr_get_u32(da, NFTNL_EXPR_PAYLOAD_OFFSET), 16);
	cr_assert_eq(nftnl_expr_get_u32(da, NFTNL_EXPR_PAYLOAD_DREG), NFT_REG32_01);
	cr_assert_str_eq(nftnl_expr_get_str(d, NFTNL_EXPR_DYNSET_SET_NAME), set);
	cr_assert_eq(nftnl_expr_get_u32(d, NFTNL_EXPR_DYNSET_OP), NFT_DYNSET_OP_UPDATE);
	cr_assert_eq(nftnl_expr_get_u32(d, NFTNL_EXPR_DYNSET_SREG_KEY), NFT_REG_1);
	cr_assert_str_eq(nftnl_expr_get_str(max, NFTNL_EXPR_OBJREF_IMM_NAME), "log_ceiling");
	cr_assert_eq(nftnl_expr_get_u32(max, NFTNL_EXPR_OBJREF_IMM_TYPE), NFT_OBJECT_LIMIT);
	lim = nftnl_expr_get(d, NFTNL_EXPR_DYNSET_EXPR, &len);
	cr_assert(lim, "no limit in the dynset");
	cr_assert_str_eq(nftnl_expr_get_str(lim, NFTNL_EXPR_NAME), "limit");
	cr_assert_eq(nftnl_expr_get_u64(lim, NFTNL_EXPR_LIMIT_RATE), VL_NFT_LOG_RATE);
	cr_assert_eq(nftnl_expr_get_u32(lim, NFTNL_EXPR_LIMIT_BURST), VL_NFT_LOG_BURST);
}

static void setup(void)
{
	lab = th_load(topo);
}

static void teardown(void)
{
	vl_lab_free(lab);
	lab = NULL;
}

TestSuite(nft, .init = setup, .fini = teardown);

Test(nft, full_batch_replaces_table_atomically)
{
	struct parsed p = nsg_batch(lab, VL_NONE);
	size_t last_obj = p.n - 2;

	cr_assert_eq(p.m[0].type, NFNL_MSG_BATCH_BEGIN);
	cr_assert_eq(p.m[p.n - 1].type, NFNL_MSG_BATCH_END);
	cr_assert_eq(p.m[1].type, NFT_MSG_NEWTABLE);
	cr_assert_eq(p.m[2].type, NFT_MSG_DELTABLE);
	cr_assert_eq(p.m[3].type, NFT_MSG_NEWTABLE);
	cr_assert(p.m[3].flags & NLM_F_EXCL);
	for (int i = 1; i <= 3; i++) {
		cr_assert_str_eq(nftnl_table_get_str(p.m[i].table, NFTNL_TABLE_NAME), VL_NFT_TABLE);
		cr_assert_eq(nftnl_table_get_u32(p.m[i].table, NFTNL_TABLE_FAMILY), NFPROTO_IPV4);
	}
	/* Only the last object message asks for an ACK. */
	for (size_t i = 1; i < last_obj; i++)
		cr_assert_not(p.m[i].flags & NLM_F_ACK, "message %zu has NLM_F_ACK", i);
	cr_assert(p.m[last_obj].flags & NLM_F_ACK);
	parsed_free(&p);
}

Test(nft, forward_base_chain_and_stages)
{
	struct parsed p = nsg_batch(lab, VL_NONE);
	const struct nftnl_chain *fwd = NULL;
	const struct nftnl_rule *r;
	char names[256];
	int nsg_chains = 0;

	for (size_t i = 0; i < p.n; i++) {
		if (p.m[i].type != NFT_MSG_NEWCHAIN)
			continue;
		const char *name = nftnl_chain_get_str(p.m[i].chain, NFTNL_CHAIN_NAME);

		if (!strcmp(name, "forward"))
			fwd = p.m[i].chain;
		else if (!strcmp(name, "prerouting"))
			cr_assert_eq(nftnl_chain_get_u32(p.m[i].chain, NFTNL_CHAIN_HOOKNUM), NF_INET_PRE_ROUTING);
		else if (!strcmp(name, "postrouting"))
			cr_assert_eq(nftnl_chain_get_u32(p.m[i].chain, NFTNL_CHAIN_HOOKNUM), NF_INET_POST_ROUTING);
		else if (!strcmp(name, "edge_in")) /* instance public IPs: nat prerouting */
			cr_assert_eq(nftnl_chain_get_u32(p.m[i].chain, NFTNL_CHAIN_HOOKNUM), NF_INET_PRE_ROUTING);
		else if (!strcmp(name, "platform")) /* AzurePlatform* rules: to the fabric (test_platform.c) */
			cr_assert_eq(nftnl_chain_get_u32(p.m[i].chain, NFTNL_CHAIN_HOOKNUM), NF_INET_LOCAL_IN);
		else if (strcmp(name, "nsg_deny"))
			nsg_chains++;
		if (strcmp(name, "forward") && strcmp(name, "prerouting") && strcmp(name, "postrouting") &&
		    strcmp(name, "edge_in") && strcmp(name, "platform"))
			cr_assert_not(nftnl_chain_is_set(p.m[i].chain, NFTNL_CHAIN_HOOKNUM), "%s is a base chain", name);
	}
	cr_assert_eq(nsg_chains, 6, "in-/out- chains of two NSGs, and of nic-nsg with the cluster subnet's tag");
	cr_assert_not_null(fwd);
	cr_assert_eq(nftnl_chain_get_u32(fwd, NFTNL_CHAIN_HOOKNUM), NF_INET_FORWARD);
	cr_assert_eq(nftnl_chain_get_s32(fwd, NFTNL_CHAIN_PRIO), 0);
	cr_assert_str_eq(nftnl_chain_get_str(fwd, NFTNL_CHAIN_TYPE), "filter");
	cr_assert_eq(nftnl_chain_get_u32(fwd, NFTNL_CHAIN_POLICY), NF_ACCEPT);

	cr_assert_eq(rules_in(&p, "forward"), 6);
	r = rule_in(&p, "forward", 0);
	expr_names(r, names, sizeof(names));
	cr_assert_str_eq(names, "ct,bitwise,cmp,counter,immediate");
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(r, "immediate", 0), NFTNL_EXPR_IMM_VERDICT), NF_ACCEPT);
	static const char *const maps[] = { "nic_out", "subnet_out", "subnet_in", "nic_in" };
	static const uint32_t keys[] = { NFT_META_IIFNAME, NFT_META_IIFNAME, NFT_META_OIFNAME, NFT_META_OIFNAME };
	for (int s = 0; s < 4; s++) {
		r = rule_in(&p, "forward", s + 1);
		expr_names(r, names, sizeof(names));
		cr_assert_str_eq(names, "meta,lookup");
		cr_assert_eq(nftnl_expr_get_u32(nth_expr(r, "meta", 0), NFTNL_EXPR_META_KEY), keys[s]);
		cr_assert_str_eq(nftnl_expr_get_str(nth_expr(r, "lookup", 0), NFTNL_EXPR_LOOKUP_SET), maps[s]);
		cr_assert_eq(nftnl_expr_get_u32(nth_expr(r, "lookup", 0), NFTNL_EXPR_LOOKUP_DREG), NFT_REG_VERDICT);
	}
	/* Last: the flow log of new flows an Allow decided (its bit in the mark), rate-limited. */
	r = rule_in(&p, "forward", 5);
	expr_names(r, names, sizeof(names));
	cr_assert_str_eq(names, "meta,bitwise,cmp,ct,bitwise,cmp,payload,payload,dynset,objref,counter,log");
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(r, "meta", 0), NFTNL_EXPR_META_KEY), NFT_META_MARK);
	assert_log_limits(r, "log_allow");
	cr_assert_eq(nftnl_expr_get_u16(nth_expr(r, "log", 0), NFTNL_EXPR_LOG_GROUP), VL_NFLOG_FLOW_GROUP);
	assert_pair_meter(&p, "log_allow");
	/* nsg_deny: the limits before log (past one the rule stops and the next one drops), then drop. */
	cr_assert_eq(rules_in(&p, "nsg_deny"), 2);
	r = rule_in(&p, "nsg_deny", 0);
	expr_names(r, names, sizeof(names));
	cr_assert_str_eq(names, "payload,payload,dynset,objref,counter,log");
	assert_log_limits(r, "log_deny");
	assert_pair_meter(&p, "log_deny");
	assert_log_ceiling(&p);
	cr_assert_str_eq(nftnl_expr_get_str(nth_expr(r, "log", 0), NFTNL_EXPR_LOG_PREFIX), VL_NFLOG_PREFIX_DENY);
	cr_assert_eq(nftnl_expr_get_u16(nth_expr(r, "log", 0), NFTNL_EXPR_LOG_GROUP), VL_NFLOG_GROUP);
	r = rule_in(&p, "nsg_deny", 1);
	expr_names(r, names, sizeof(names));
	cr_assert_str_eq(names, "counter,immediate");
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(r, "immediate", 0), NFTNL_EXPR_IMM_VERDICT), NF_DROP);
	parsed_free(&p);
}

/* ifname → chain of every element of map `name`, as "n0:out-x n1:out-y". */
static void map_elems(const struct parsed *p, const char *name, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		if (p->m[i].type != NFT_MSG_NEWSETELEM || strcmp(p->m[i].set_name, name))
			continue;
		for (size_t j = 0; j < p->m[i].n_elems; j++) {
			const struct elem *e = &p->m[i].elems[j];
			char one[160];

			cr_assert_eq(e->key_len, IFNAMSIZ);
			cr_assert_eq(e->verdict, NFT_JUMP);
			snprintf(one, sizeof(one), "%s%s:%s", out[0] ? " " : "", (const char *)e->key, e->chain);
			strncat(out, one, len - strlen(out) - 1);
		}
	}
}

Test(nft, stage_maps_send_each_nic_to_its_nsgs)
{
	struct parsed p = nsg_batch(lab, VL_NONE);
	char buf[512];
	int vm1 = vl_lab_find_endpoint(lab, "vm1"), vm2 = vl_lab_find_endpoint(lab, "vm2");
	char want[256];

	int node = vl_lab_find_endpoint(lab, "k1-node-0");
	int aks = lab->eff->subnet_scope[vl_lab_find_subnet(lab, "aks")];

	cr_assert(vm1 >= 0 && vm2 >= 0 && node >= 0);
	/* The node's NIC NSG is evaluated with the cluster subnet's VirtualNetwork: its own chains. */
	map_elems(&p, "nic_out", buf, sizeof(buf));
	snprintf(want, sizeof(want), "n%d:out-nic-nsg n%d:out-nic-nsg/%d", vm1, node, aks);
	cr_assert_str_eq(buf, want);
	map_elems(&p, "nic_in", buf, sizeof(buf));
	snprintf(want, sizeof(want), "n%d:in-nic-nsg n%d:in-nic-nsg/%d", vm1, node, aks);
	cr_assert_str_eq(buf, want);
	map_elems(&p, "subnet_in", buf, sizeof(buf));
	snprintf(want, sizeof(want), "n%d:in-web-nsg n%d:in-web-nsg", vm1, vm2);
	cr_assert_str_eq(buf, want);
	map_elems(&p, "subnet_out", buf, sizeof(buf));
	snprintf(want, sizeof(want), "n%d:out-web-nsg n%d:out-web-nsg", vm1, vm2);
	cr_assert_str_eq(buf, want);
	for (size_t i = 0; i < p.n; i++)
		if (p.m[i].type == NFT_MSG_NEWSET && !strcmp(nftnl_set_get_str(p.m[i].set, NFTNL_SET_NAME), "nic_out")) {
			cr_assert(nftnl_set_get_u32(p.m[i].set, NFTNL_SET_FLAGS) & NFT_SET_MAP);
			cr_assert_eq(nftnl_set_get_u32(p.m[i].set, NFTNL_SET_KEY_LEN), IFNAMSIZ);
			cr_assert_eq(nftnl_set_get_u32(p.m[i].set, NFTNL_SET_DATA_TYPE), NFT_DATA_VERDICT);
		}
	parsed_free(&p);
}

Test(nft, nsg_chain_rules_in_priority_order_then_defaults)
{
	struct parsed p = nsg_batch(lab, VL_NONE);
	static const char *const in[] = { "allow-http", "deny-ssh", "AllowVnetInBound", "AllowAzureLoadBalancerInBound",
					  "DenyAllInBound" };
	static const char *const out[] = { "icmp", "AllowVnetOutBound", "AllowInternetOutBound", "DenyAllOutBound" };
	char c[128];

	/* deny-ssh has protocol * with a port: one rule, matching tcp and udp through @tcpudp. */
	cr_assert_eq(rules_in(&p, "in-web-nsg"), 5);
	for (int i = 0; i < 5; i++)
		cr_assert_str_eq(comment_of(rule_in(&p, "in-web-nsg", i), c, sizeof(c)), in[i]);
	cr_assert_eq(rules_in(&p, "out-web-nsg"), 4);
	for (int i = 0; i < 4; i++)
		cr_assert_str_eq(comment_of(rule_in(&p, "out-web-nsg", i), c, sizeof(c)), out[i]);
	cr_assert_eq(rules_in(&p, "in-nic-nsg"), 3, "an empty NSG still ends with its default rules");
	parsed_free(&p);
}

Test(nft, allow_rule_expressions)
{
	struct parsed p = nsg_batch(lab, VL_NONE);
	const struct nftnl_rule *r = rule_in(&p, "in-web-nsg", 0);
	struct nftnl_expr *e;
	char names[256];
	uint32_t len;

	expr_names(r, names, sizeof(names));
	/* meta l4proto tcp ip saddr != @notinet th dport 80 meta mark set <allow|id> return */
	cr_assert_str_eq(names, "meta,cmp,payload,lookup,payload,cmp,immediate,meta,immediate");
	cr_assert_eq(*(const uint32_t *)nftnl_expr_get(nth_expr(r, "immediate", 0), NFTNL_EXPR_IMM_DATA, &len),
		     VL_FLOW_MARK_ALLOW | (uint32_t)vl_rule_id("web-nsg", "allow-http"));
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(r, "immediate", 1), NFTNL_EXPR_IMM_VERDICT), (uint32_t)NFT_RETURN);
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(r, "meta", 0), NFTNL_EXPR_META_KEY), NFT_META_L4PROTO);
	cr_assert_eq(*(const uint8_t *)nftnl_expr_get(nth_expr(r, "cmp", 0), NFTNL_EXPR_CMP_DATA, &len), 6);
	e = nth_expr(r, "payload", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE), NFT_PAYLOAD_NETWORK_HEADER);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET), 12);
	e = nth_expr(r, "lookup", 0);
	cr_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET), "notinet");
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS), NFT_LOOKUP_F_INV,
		     "Internet = outside the private, reserved and lab ranges");
	e = nth_expr(r, "payload", 1);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE), NFT_PAYLOAD_TRANSPORT_HEADER);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET), 2);
	cr_assert_eq(ntohs(*(const uint16_t *)nftnl_expr_get(nth_expr(r, "cmp", 1), NFTNL_EXPR_CMP_DATA, &len)), 80);
	parsed_free(&p);
}

Test(nft, deny_rule_logs_then_drops)
{
	struct parsed p = nsg_batch(lab, VL_NONE);
	const struct nftnl_rule *any = rule_in(&p, "in-web-nsg", 1);
	struct nftnl_expr *e;
	char names[256], l4[64] = "";
	uint32_t len;

	expr_names(any, names, sizeof(names));
	/* meta l4proto @tcpudp ip saddr 10.1.0.0/24 th dport 22 meta mark set <id> goto nsg_deny */
	cr_assert_str_eq(names, "meta,lookup,payload,bitwise,cmp,payload,cmp,immediate,meta,immediate");
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(any, "meta", 0), NFTNL_EXPR_META_KEY), NFT_META_L4PROTO);
	e = nth_expr(any, "lookup", 0);
	cr_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET), "tcpudp");
	cr_assert_not(nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) && nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS));
	/* @tcpudp: a constant set of exactly tcp and udp. */
	for (size_t i = 0; i < p.n; i++) {
		if (p.m[i].type == NFT_MSG_NEWSET && !strcmp(nftnl_set_get_str(p.m[i].set, NFTNL_SET_NAME), "tcpudp")) {
			cr_assert(nftnl_set_get_u32(p.m[i].set, NFTNL_SET_FLAGS) & NFT_SET_CONSTANT);
			cr_assert_eq(nftnl_set_get_u32(p.m[i].set, NFTNL_SET_KEY_LEN), 1);
		}
		if (p.m[i].type != NFT_MSG_NEWSETELEM || strcmp(p.m[i].set_name, "tcpudp"))
			continue;
		for (size_t j = 0; j < p.m[i].n_elems; j++) {
			cr_assert_eq(p.m[i].elems[j].key_len, 1);
			cr_assert_eq(p.m[i].elems[j].flags, 0);
			snprintf(l4 + strlen(l4), sizeof(l4) - strlen(l4), "%s%u", l4[0] ? "," : "", p.m[i].elems[j].key[0]);
		}
	}
	cr_assert_str_eq(l4, "6,17");
	cr_assert_eq(be32_data(nth_expr(any, "bitwise", 0), NFTNL_EXPR_BITWISE_MASK), 0xffffff00);
	cr_assert_eq(be32_data(nth_expr(any, "cmp", 0), NFTNL_EXPR_CMP_DATA), 0x0a010000);
	e = nth_expr(any, "payload", 1);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE), NFT_PAYLOAD_TRANSPORT_HEADER);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET), 2);
	cr_assert_eq(ntohs(*(const uint16_t *)nftnl_expr_get(nth_expr(any, "cmp", 1), NFTNL_EXPR_CMP_DATA, &len)), 22);
	/* The mark names the rule (for nsg_deny's log); the verdict goes to nsg_deny. */
	e = nth_expr(any, "immediate", 0);
	cr_assert_eq(*(const uint32_t *)nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len),
		     (uint32_t)vl_rule_id("web-nsg", "deny-ssh"));
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(any, "meta", 1), NFTNL_EXPR_META_KEY), NFT_META_MARK);
	e = nth_expr(any, "immediate", 1);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT), (uint32_t)NFT_GOTO);
	cr_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN), "nsg_deny");

	/* Ports are ignored for ICMP; a /32 is a plain compare. */
	const struct nftnl_rule *icmp = rule_in(&p, "out-web-nsg", 0);
	expr_names(icmp, names, sizeof(names));
	cr_assert_str_eq(names, "meta,cmp,payload,cmp,immediate,meta,immediate");
	cr_assert_eq(*(const uint8_t *)nftnl_expr_get(nth_expr(icmp, "cmp", 0), NFTNL_EXPR_CMP_DATA, &len), 1);
	cr_assert_eq(be32_data(nth_expr(icmp, "cmp", 1), NFTNL_EXPR_CMP_DATA), 0x0a010004);
	parsed_free(&p);
}

static void set_elems(const struct parsed *p, const char *set, char *got, size_t len)
{
	got[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		if (p->m[i].type != NFT_MSG_NEWSETELEM || strcmp(p->m[i].set_name, set))
			continue;
		for (size_t j = 0; j < p->m[i].n_elems; j++) {
			const struct elem *e = &p->m[i].elems[j];
			uint32_t k;
			char one[64];

			cr_assert_eq(e->key_len, 4);
			memcpy(&k, e->key, 4);
			k = ntohl(k);
			snprintf(one, sizeof(one), "%s%s%u.%u.%u.%u", got[0] ? " " : "",
				 e->flags & NFT_SET_ELEM_INTERVAL_END ? "end:" : "", k >> 24, (k >> 16) & 255,
				 (k >> 8) & 255, k & 255);
			strncat(got, one, len - strlen(got) - 1);
		}
	}
}

Test(nft, vnet_set_holds_the_virtual_network_prefixes)
{
	struct parsed p = nsg_batch(lab, VL_NONE);
	char got[512], name[32];
	int aks = lab->eff->subnet_scope[vl_lab_find_subnet(lab, "aks")];

	/* The VNet's system scope: its space and the platform VIP; intervals end one past. */
	set_elems(&p, "vnet", got, sizeof(got));
	cr_assert_str_eq(got, "10.1.0.0 end:10.2.0.0 168.63.129.16 end:168.63.129.17");
	/* The cluster subnet's scope adds the kubenet node's pod /24 (its route table). */
	snprintf(name, sizeof(name), "vnet/%d", aks);
	set_elems(&p, name, got, sizeof(got));
	cr_assert_str_eq(got, "10.1.0.0 end:10.2.0.0 10.244.0.0 end:10.244.1.0 168.63.129.16 end:168.63.129.17");
	parsed_free(&p);
}

Test(nft, live_edit_flushes_and_refills_one_nsg)
{
	int g = vl_lab_find_nsg(lab, "web-nsg");
	struct parsed p = nsg_batch(lab, g);
	int flushed = 0;
	char seen[2][32] = { "", "" };

	for (size_t i = 0; i < p.n; i++) {
		cr_assert(p.m[i].type != NFT_MSG_NEWTABLE && p.m[i].type != NFT_MSG_DELTABLE &&
			  p.m[i].type != NFT_MSG_NEWCHAIN,
			  "a live edit must not touch the table or chains");
		if (p.m[i].type == NFT_MSG_DELRULE) {
			/* Without the kernel's rule handles (no kernel here), the edit is a flush. */
			cr_assert_not(nftnl_rule_is_set(p.m[i].rule, NFTNL_RULE_HANDLE));
			cr_assert_lt(flushed, 2);
			snprintf(seen[flushed++], sizeof(seen[0]), "%s", nftnl_rule_get_str(p.m[i].rule, NFTNL_RULE_CHAIN));
		}
		if (p.m[i].type == NFT_MSG_NEWRULE) {
			const char *c = nftnl_rule_get_str(p.m[i].rule, NFTNL_RULE_CHAIN);

			cr_assert(!strcmp(c, "in-web-nsg") || !strcmp(c, "out-web-nsg"), "rule in %s", c);
			cr_assert(!strcmp(c, seen[0]) || !strcmp(c, seen[1]), "rule in %s before its flush", c);
		}
	}
	cr_assert_eq(flushed, 2);
	cr_assert_eq(rules_in(&p, "in-web-nsg"), 5);
	cr_assert_eq(rules_in(&p, "out-web-nsg"), 4);
	parsed_free(&p);
}

static struct parsed masq_batch(int ep)
{
	char why[256] = "";
	void *buf = NULL;
	size_t len = 0;
	struct parsed p;

	cr_assert_eq(vl_nft_masq_batch(lab, ep, &buf, &len, why, sizeof(why)), 0, "%s", why);
	p = parse_batch(buf, len);
	free(buf);
	return p;
}

static int node_of(int cluster)
{
	for (size_t i = 0; i < lab->n_eps; i++)
		if (lab->eps[i].kind == VL_EP_NODE && lab->eps[i].owner == cluster)
			return (int)i;
	cr_assert_fail("no node in cluster %d", cluster);
	return -1;
}

Test(nft, masquerade_kubenet)
{
	int node = node_of(0);
	struct parsed p = masq_batch(node);
	const struct nftnl_rule *r = rule_in(&p, "postrouting", 0);
	const struct nftnl_chain *c = NULL;
	char names[256];
	uint32_t len;

	for (size_t i = 0; i < p.n; i++)
		if (p.m[i].type == NFT_MSG_NEWCHAIN)
			c = p.m[i].chain;
	cr_assert_not_null(c);
	cr_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "nat");
	cr_assert_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), NF_INET_POST_ROUTING);
	cr_assert_eq(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), 100);
	expr_names(r, names, sizeof(names));
	/* ip saddr <pod /24> oifname "eth0" ip daddr != @nonmasq counter masquerade */
	cr_assert_str_eq(names, "payload,bitwise,cmp,meta,cmp,payload,lookup,counter,masq");
	cr_assert_eq(be32_data(nth_expr(r, "cmp", 0), NFTNL_EXPR_CMP_DATA), lab->eps[node].pod_cidr.addr);
	cr_assert_str_eq((const char *)nftnl_expr_get(nth_expr(r, "cmp", 1), NFTNL_EXPR_CMP_DATA, &len), "eth0");
	cr_assert_eq(len, IFNAMSIZ);
	cr_assert_str_eq(nftnl_expr_get_str(nth_expr(r, "lookup", 0), NFTNL_EXPR_LOOKUP_SET), "nonmasq");
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(r, "lookup", 0), NFTNL_EXPR_LOOKUP_FLAGS), NFT_LOOKUP_F_INV);
	parsed_free(&p);
}

Test(nft, masquerade_azure_cni)
{
	int node = node_of(1);
	struct parsed p = masq_batch(node);
	const struct nftnl_rule *r = rule_in(&p, "postrouting", 0);
	struct nftnl_expr *e;
	char names[256];

	expr_names(r, names, sizeof(names));
	/* ip saddr != <node ip> oifname "eth0" ip daddr != @nonmasq counter masquerade */
	cr_assert_str_eq(names, "payload,cmp,meta,cmp,payload,lookup,counter,masq");
	e = nth_expr(r, "cmp", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), NFT_CMP_NEQ);
	cr_assert_eq(be32_data(e, NFTNL_EXPR_CMP_DATA), lab->eps[node].ip);
	parsed_free(&p);
}

Test(nft, masquerade_refuses_a_non_node)
{
	char why[256] = "";
	void *buf = NULL;
	size_t len;

	cr_assert_eq(vl_nft_masq_batch(lab, vl_lab_find_endpoint(lab, "vm1"), &buf, &len, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "not an AKS node"), "%s", why);
}

static char *print_nsg(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	vl_nft_fabric_print(lab, 0, f);
	fclose(f);
	return text;
}

Test(nft, print_matches_the_transaction)
{
	char *t = print_nsg(), want[512];

	cr_assert(strstr(t, "table ip vnetlab\ndelete table ip vnetlab\ntable ip vnetlab {\n"), "%s", t);
	cr_assert(strstr(t, "ct state established,related counter accept\n"), "%s", t);
	cr_assert(strstr(t, "iifname vmap @nic_out\n\t\tiifname vmap @subnet_out\n\t\toifname vmap @subnet_in\n"
			    "\t\toifname vmap @nic_in\n"),
		  "%s", t);
	snprintf(want, sizeof(want),
		 "\t\tmeta l4proto tcp ip saddr != @notinet th dport 80 meta mark set 0x%08x return comment "
		 "\"allow-http\"\n",
		 VL_FLOW_MARK_ALLOW | (uint32_t)vl_rule_id("web-nsg", "allow-http"));
	cr_assert(strstr(t, want), "%s", t);
	cr_assert(strstr(t, "\tchain nsg_deny {\n\t\tupdate @log_deny { ip saddr . ip daddr limit rate 1000/second "
			    "burst 5000 packets } limit name \"log_ceiling\" counter log prefix "
			    "\"vl-deny\" group 7\n\t\tcounter drop\n\t}\n"),
		  "%s", t);
	cr_assert(strstr(t, "\t\tmeta mark & 0x80000000 != 0 ct state new update @log_allow { ip saddr . ip daddr "
			    "limit rate 1000/second burst 5000 packets } limit name \"log_ceiling\" "
			    "counter log prefix \"vl-allow\" group 8\n\t}\n"),
		  "%s", t);
	cr_assert(strstr(t, "\tset log_deny {\n\t\ttype ipv4_addr . ipv4_addr\n\t\tsize 65536\n\t\tflags "
			    "dynamic,timeout\n\t\ttimeout 1m\n\t}\n"),
		  "%s", t);
	cr_assert(strstr(t, "\tlimit log_ceiling {\n\t\trate 20000/second burst 50000 packets\n\t}\n"),
		  "%s", t);
	cr_assert(strstr(t, "\tset tcpudp {\n\t\ttype inet_proto\n\t\tflags constant\n\t\telements = { tcp, udp }\n"),
		  "%s", t);
	snprintf(want, sizeof(want),
		 "\t\tmeta l4proto @tcpudp ip saddr 10.1.0.0/24 th dport 22 meta mark set 0x%08x goto nsg_deny "
		 "comment \"deny-ssh\"\n",
		 (uint32_t)vl_rule_id("web-nsg", "deny-ssh"));
	cr_assert(strstr(t, want), "%s", t);
	snprintf(want, sizeof(want),
		 "\t\tmeta l4proto icmp ip daddr 10.1.0.4 meta mark set 0x%08x return comment \"icmp\"\n",
		 VL_FLOW_MARK_ALLOW | (uint32_t)vl_rule_id("web-nsg", "icmp"));
	cr_assert(strstr(t, want), "%s", t);
	snprintf(want, sizeof(want), "\t\tmeta mark set 0x%08x goto nsg_deny comment \"DenyAllInBound\"\n",
		 (uint32_t)vl_rule_id("nic-nsg", "DenyAllInBound"));
	cr_assert(strstr(t, want), "%s", t);
	free(t);
}

Test(nft, print_masquerade)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	vl_nft_masq_print(lab, node_of(1), f);
	fclose(f);
	cr_assert(strstr(text, "type nat hook postrouting priority srcnat; policy accept;"), "%s", text);
	cr_assert(strstr(text, "elements = { 10.1.0.0/16 }"), "%s", text);
	cr_assert(strstr(text, "ip saddr != 10.1.3.4 oifname \"eth0\" ip daddr != @nonmasq counter masquerade"), "%s",
		  text);
	free(text);
}

/* Two rules with the same three-port list, one with another; an address list of three. */
static const char *lists_topo =
	"name: nftls\n"
	"vnets:\n"
	"  - name: v1\n"
	"    addressSpace: [10.1.0.0/16]\n"
	"    subnets:\n"
	"      - {name: web, addressPrefix: 10.1.0.0/24, networkSecurityGroup: a-nsg}\n"
	"networkSecurityGroups:\n"
	"  - name: a-nsg\n"
	"    securityRules:\n"
	"      - {name: r1, priority: 100, direction: Inbound, access: Allow, protocol: Tcp,\n"
	"         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*',\n"
	"         destinationPortRanges: ['80', '443', '8000-8080']}\n"
	"      - {name: r2, priority: 110, direction: Outbound, access: Deny, protocol: Udp,\n"
	"         sourceAddressPrefixes: [10.1.0.4, 10.1.0.16/28, 10.1.0.40], sourcePortRange: '*',\n"
	"         destinationAddressPrefix: '*', destinationPortRanges: ['443', '80', '8000-8080']}\n"
	"      - {name: r3, priority: 120, direction: Inbound, access: Deny, protocol: Tcp,\n"
	"         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*',\n"
	"         destinationPortRanges: ['1', '5', '9']}\n"
	"vms:\n"
	"  - {name: vm1, subnet: web}\n";

/* Names of the list sets a full batch creates (sorted, space-separated) and the sets its rules look up. */
static void list_sets_of(const struct vl_lab *l, char *made, size_t made_len, char *used, size_t used_len)
{
	struct parsed p = nsg_batch(l, VL_NONE);

	made[0] = used[0] = '\0';
	for (size_t i = 0; i < p.n; i++) {
		if (p.m[i].type == NFT_MSG_NEWSET) {
			const char *name = nftnl_set_get_str(p.m[i].set, NFTNL_SET_NAME);

			if ((name[0] == 'a' || name[0] == 'p') && strlen(name) == 17) {
				cr_assert(nftnl_set_get_u32(p.m[i].set, NFTNL_SET_FLAGS) & NFT_SET_CONSTANT);
				if (made[0])
					strncat(made, " ", made_len - strlen(made) - 1);
				strncat(made, name, made_len - strlen(made) - 1);
			}
		}
		if (p.m[i].type == NFT_MSG_NEWRULE) {
			for (int k = 0; k < 4; k++) {
				struct nftnl_expr *e = nth_expr(p.m[i].rule, "lookup", k);
				const char *name;

				if (!e)
					break;
				name = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
				if ((name[0] == 'a' || name[0] == 'p') && strlen(name) == 17) {
					strncat(used, name, used_len - strlen(used) - 1);
					strncat(used, " ", used_len - strlen(used) - 1);
				}
			}
		}
	}
	parsed_free(&p);
}

Test(nft, list_sets_are_deterministic_and_shared)
{
	struct vl_lab *l1 = th_load(lists_topo), *l2 = th_load(lists_topo);
	char made1[256], used1[512], made2[256], used2[512], shared[18], *t = NULL, *p, *q;
	size_t len = 0;
	FILE *f;

	list_sets_of(l1, made1, sizeof(made1), used1, sizeof(used1));
	list_sets_of(l2, made2, sizeof(made2), used2, sizeof(used2));
	/* r1 and r2 share one port set (same list, other order), r3 has its own, r2 an address set. */
	cr_assert_eq(strlen(made1), 3 * 17 + 2, "%s", made1);
	cr_assert_str_eq(made1, made2, "same lists, same names across builds");
	cr_assert_str_eq(used1, used2);
	p = strchr(made1, 'a');
	cr_assert(p && p == made1, "the address set sorts first: %s", made1);
	snprintf(shared, sizeof(shared), "%.17s", made1 + 18);
	q = strstr(used1, shared);
	cr_assert_not_null(q, "%s / %s", made1, used1);
	cr_assert_not_null(strstr(q + 17, shared), "two rules look up one shared set: %s", used1);
	/* The printed ruleset names the same sets. */
	f = open_memstream(&t, &len);
	vl_nft_fabric_print(l1, 0, f);
	fclose(f);
	for (int k = 0; k < 3; k++) {
		char want[32];

		snprintf(want, sizeof(want), "\tset %.17s {", made1 + 18 * k);
		cr_assert_not_null(strstr(t, want), "%s", t);
		snprintf(want, sizeof(want), "@%.17s", made1 + 18 * k);
		cr_assert_not_null(strstr(t, want), "%s", t);
	}
	free(t);
	vl_lab_free(l1);
	vl_lab_free(l2);
}

/* ---- the emitters on their own (nft-emit.h): each message and expression parsed back by libnftnl ---- */

/* The n-th message of a finished batch (0: batch begin). */
static const struct nlmsghdr *nth_msg(const struct vlnft_batch *b, int n)
{
	const struct nlmsghdr *nlh = (const void *)b->buf;
	int left = (int)b->len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		if (n-- == 0)
			return nlh;
	cr_assert_fail("no message %d in the batch", n);
	return NULL;
}

/* One rule, built by `build`, as libnftnl reads it back. */
static struct nftnl_rule *rule_back(void (*build)(struct vlnft_rx *x), uint16_t *flags)
{
	struct vlnft_batch b;
	struct vlnft_rx x;
	struct nftnl_rule *r = nftnl_rule_alloc();
	const struct nlmsghdr *nlh;

	cr_assert_eq(vlnft_batch_init(&b), 0);
	cr_assert_eq(vlnft_rx_begin(&x, "some-chain"), 0);
	build(&x);
	cr_assert_eq(vlnft_rx_end(&x, &b, "the rule"), 0);
	cr_assert_eq(vlnft_batch_finish(&b), 0);
	nlh = nth_msg(&b, 1);
	cr_assert_eq(NFNL_MSG_TYPE(nlh->nlmsg_type), NFT_MSG_NEWRULE);
	if (flags)
		*flags = nlh->nlmsg_flags;
	cr_assert_eq(nftnl_rule_nlmsg_parse(nlh, r), 0);
	cr_assert_str_eq(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), VL_NFT_TABLE);
	cr_assert_str_eq(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), "some-chain");
	vlnft_batch_fini(&b);
	return r;
}

static void build_appended(struct vlnft_rx *x)
{
	vlnft_rx_counter(x);
}

TestSuite(nft_emit);

Test(nft_emit, rules_are_appended)
{
	uint16_t flags;
	struct nftnl_rule *r = rule_back(build_appended, &flags);

	cr_assert_not(nftnl_rule_is_set(r, NFTNL_RULE_POSITION));
	cr_assert(flags & NLM_F_APPEND, "an NSG edit rewrites chains by name: every rule is appended");
	cr_assert(flags & NLM_F_CREATE);
	nftnl_rule_free(r);
}

static const uint8_t ifname16[16] = "n42";
static const uint32_t mask_be = 0xffffff00u; /* the mask's bytes, passed through as they are */

/* One call of every expression emitter. */
static void build_every(struct vlnft_rx *x)
{
	uint8_t l4 = 6;
	struct vlnft_ivals ports = {0};

	vlnft_rx_meta(x, NFT_META_L4PROTO);
	vlnft_rx_cmp(x, NFT_CMP_EQ, &l4, 1);
	vlnft_rx_meta(x, NFT_META_IIFNAME);
	vlnft_rx_cmp(x, NFT_CMP_NEQ, ifname16, sizeof(ifname16));
	vlnft_rx_payload(x, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
	vlnft_rx_bitwise(x, &mask_be, 4);
	vlnft_rx_ct_state(x, 6);						       /* ct, bitwise, cmp */
	vlnft_rx_lookup(x, "__set%d", 17, true, false);			       /* lookup 9 */
	vlnft_rx_lookup(x, "nic_out", 0, false, true);				       /* lookup 10 */
	cr_assert_eq(vlnft_ivals_push(&ports, 1000, 2000), 0);
	vlnft_match_ports(x, 2, &ports);					       /* payload, range */
	vlnft_ivals_free(&ports);
	vlnft_rx_counter(x);
	vlnft_rx_log(x, "vl-deny", 7);
	vlnft_rx_limit(x, 1000, 5000);
	vlnft_rx_imm(x, 0x0a000001);
	vlnft_rx_meta_set(x, NFT_META_MARK);
	vlnft_rx_map(x, "edge_snat");
	vlnft_rx_reject_host_unreach(x);
	vlnft_rx_snat(x);
	vlnft_rx_dnat(x, true);
	vlnft_rx_imm_host(x, NFT_REG32_03, 0x80000001u);
	vlnft_rx_imm_port(x, NFT_REG_2, 8080);
	vlnft_rx_jhash_client(x, 5);						       /* payload, payload, hash */
	vlnft_rx_numgen(x, 3);
	vlnft_rx_masq(x);
	vlnft_rx_verdict(x, NF_ACCEPT);
	vlnft_rx_goto(x, "nsg_deny");
	vlnft_rx_comment(x, "allow-http", 0x1122334455667788ull);
}

static const void *expr_data(const struct nftnl_expr *e, uint16_t attr, uint32_t want_len)
{
	uint32_t len = 0;
	const void *d = nftnl_expr_get(e, attr, &len);

	cr_assert(d);
	cr_assert_eq(len, want_len);
	return d;
}

Test(nft_emit, every_expression_parses_back_with_libnftnl)
{
	struct nftnl_rule *r = rule_back(build_every, NULL);
	const struct nftnl_expr *e;
	char names[1024], cmt[64];
	const uint8_t *d;
	uint32_t u, zero = 0;

	expr_names(r, names, sizeof(names));
	cr_assert_str_eq(names, "meta,cmp,meta,cmp,payload,bitwise,ct,bitwise,cmp,lookup,lookup,payload,range,"
				"counter,log,limit,immediate,meta,lookup,reject,nat,nat,immediate,immediate,"
				"payload,payload,hash,numgen,masq,immediate,immediate");
	/* meta l4proto == 6 */
	e = nth_expr(r, "meta", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY), NFT_META_L4PROTO);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG), NFT_REG_1);
	e = nth_expr(r, "cmp", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG), NFT_REG_1);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), NFT_CMP_EQ);
	cr_assert_eq(*(const uint8_t *)expr_data(e, NFTNL_EXPR_CMP_DATA, 1), 6);
	e = nth_expr(r, "cmp", 1);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), NFT_CMP_NEQ);
	cr_assert_arr_eq(expr_data(e, NFTNL_EXPR_CMP_DATA, 16), ifname16, 16);
	/* payload ip saddr & mask */
	e = nth_expr(r, "payload", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE), NFT_PAYLOAD_NETWORK_HEADER);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET), 12);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN), 4);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG), NFT_REG_1);
	e = nth_expr(r, "bitwise", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_LEN), 4);
	cr_assert_arr_eq(expr_data(e, NFTNL_EXPR_BITWISE_MASK, 4), &mask_be, 4);
	cr_assert_arr_eq(expr_data(e, NFTNL_EXPR_BITWISE_XOR, 4), &zero, 4);
	/* ct state & 6 != 0 */
	e = nth_expr(r, "ct", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY), NFT_CT_STATE);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG), NFT_REG_1);
	memcpy(&u, expr_data(nth_expr(r, "bitwise", 1), NFTNL_EXPR_BITWISE_MASK, 4), 4);
	cr_assert_eq(u, 6);
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(r, "cmp", 2), NFTNL_EXPR_CMP_OP), NFT_CMP_NEQ);
	/* lookups: an anonymous set by id, inverted; a verdict map */
	e = nth_expr(r, "lookup", 0);
	cr_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET), "__set%d");
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SET_ID), 17);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS), NFT_LOOKUP_F_INV);
	cr_assert_not(nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG));
	e = nth_expr(r, "lookup", 1);
	cr_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET), "nic_out");
	cr_assert(nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG), "a vmap's lookup names the verdict register");
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG), NFT_REG_VERDICT);
	cr_assert_not(nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_SET_ID));
	cr_assert_not(nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS));
	/* th dport 1000-2000 */
	e = nth_expr(r, "payload", 1);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE), NFT_PAYLOAD_TRANSPORT_HEADER);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET), 2);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN), 2);
	e = nth_expr(r, "range", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP), NFT_RANGE_EQ);
	d = expr_data(e, NFTNL_EXPR_RANGE_FROM_DATA, 2);
	cr_assert_eq(d[0] << 8 | d[1], 1000);
	d = expr_data(e, NFTNL_EXPR_RANGE_TO_DATA, 2);
	cr_assert_eq(d[0] << 8 | d[1], 2000);
	/* log, limit */
	e = nth_expr(r, "log", 0);
	cr_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX), "vl-deny");
	cr_assert_eq(nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP), 7);
	e = nth_expr(r, "limit", 0);
	cr_assert_eq(nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_RATE), 1000);
	cr_assert_eq(nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT), 1);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_BURST), 5000);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_TYPE), NFT_LIMIT_PKTS);
	/* immediate 10.0.0.1 (network order), meta mark set, map @edge_snat into register 1 */
	e = nth_expr(r, "immediate", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG), NFT_REG_1);
	cr_assert_eq(be32_data(e, NFTNL_EXPR_IMM_DATA), 0x0a000001);
	e = nth_expr(r, "meta", 2);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY), NFT_META_MARK);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_META_SREG), NFT_REG_1);
	cr_assert_not(nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG));
	e = nth_expr(r, "lookup", 2);
	cr_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET), "edge_snat");
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG), NFT_REG_1);
	/* reject, snat, dnat with a port */
	e = nth_expr(r, "reject", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_REJECT_TYPE), NFT_REJECT_ICMP_UNREACH);
	cr_assert_eq(nftnl_expr_get_u8(e, NFTNL_EXPR_REJECT_CODE), 1);
	e = nth_expr(r, "nat", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE), NFT_NAT_SNAT);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_FAMILY), NFPROTO_IPV4);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN), NFT_REG_1);
	cr_assert_not(nftnl_expr_is_set(e, NFTNL_EXPR_NAT_REG_PROTO_MIN));
	e = nth_expr(r, "nat", 1);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE), NFT_NAT_DNAT);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN), NFT_REG_2);
	/* immediates in host order (a mark) and a port in network order */
	e = nth_expr(r, "immediate", 1);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG), NFT_REG32_03);
	memcpy(&u, expr_data(e, NFTNL_EXPR_IMM_DATA, 4), 4);
	cr_assert_eq(u, 0x80000001u);
	e = nth_expr(r, "immediate", 2);
	d = expr_data(e, NFTNL_EXPR_IMM_DATA, 2);
	cr_assert_eq(d[0] << 8 | d[1], 8080);
	/* jhash(ip saddr . th sport) mod 5 */
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(r, "payload", 3), NFTNL_EXPR_PAYLOAD_DREG), NFT_REG32_01);
	e = nth_expr(r, "hash", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_TYPE), NFT_HASH_JENKINS);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_LEN), 8);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_MODULUS), 5);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_SEED), 0x7a11);
	e = nth_expr(r, "numgen", 0);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_NG_MODULUS), 3);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_NG_TYPE), NFT_NG_RANDOM);
	cr_assert(nth_expr(r, "masq", 0));
	/* accept; goto nsg_deny */
	e = nth_expr(r, "immediate", 3);
	cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG), NFT_REG_VERDICT);
	cr_assert_eq((int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT), NF_ACCEPT);
	cr_assert_not(nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN));
	e = nth_expr(r, "immediate", 4);
	cr_assert_eq((int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT), NFT_GOTO);
	cr_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN), "nsg_deny");
	cr_assert_str_eq(comment_of(r, cmt, sizeof(cmt)), "allow-http");
	nftnl_rule_free(r);
}

static int fp_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == VLNFT_UDATA_RULE_FP && nftnl_udata_len(attr) == sizeof(uint64_t))
		memcpy(data, nftnl_udata_get(attr), sizeof(uint64_t));
	return 0;
}

static char long_comment[300];

static void build_commented(struct vlnft_rx *x)
{
	vlnft_rx_counter(x);
	vlnft_rx_comment(x, long_comment, 0xfeedfacecafebeefull);
}

Test(nft_emit, comment_and_fingerprint_fill_the_userdata_or_are_left_out)
{
	static const size_t lens[] = {10, 243, 244, 299};
	char got[300];

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct nftnl_rule *r;
		uint64_t fp = 0;

		memset(long_comment, 'c', lens[i]);
		long_comment[lens[i]] = '\0';
		r = rule_back(build_commented, NULL);
		if (lens[i] <= 243) { /* 2 + 244 + 2 + 8 = 256 bytes: the kernel's most */
			uint32_t len;
			const void *u = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);

			cr_assert_leq(len, 256);
			cr_assert_str_eq(comment_of(r, got, sizeof(got)), long_comment);
			nftnl_udata_parse(u, len, fp_cb, &fp);
			cr_assert_eq(fp, 0xfeedfacecafebeefull);
		} else {
			cr_assert_not(nftnl_rule_is_set(r, NFTNL_RULE_USERDATA), "%zu bytes of comment", lens[i]);
		}
		nftnl_rule_free(r);
	}
}

Test(nft_emit, a_rule_too_large_fails_the_batch)
{
	struct vlnft_batch b;
	struct vlnft_rx x;
	uint32_t before;

	cr_assert_eq(vlnft_batch_init(&b), 0);
	before = b.seq;
	cr_assert_eq(vlnft_rx_begin(&x, "c"), 0);
	for (int i = 0; i < 1000; i++)
		vlnft_rx_counter(&x);
	cr_assert_eq(x.err, -EMSGSIZE);
	cr_assert_eq(vlnft_rx_end(&x, &b, "huge"), -EMSGSIZE);
	cr_assert_eq(b.err, -EMSGSIZE);
	cr_assert_eq(b.seq, before, "nothing of the rule is in the batch");
	vlnft_batch_fini(&b);
}

/* The bytes of a rule do not depend on what its struct held before (libmnl leaves padding as is). */
static void rule_bytes(int fill, char **out, size_t *len)
{
	static struct vlnft_rx x; /* static: filled whole, every time */
	struct vlnft_batch b;
	uint8_t one = 17;

	memset(&x, fill, sizeof(x));
	cr_assert_eq(vlnft_batch_init(&b), 0);
	cr_assert_eq(vlnft_rx_begin(&x, "odd"), 0);
	vlnft_rx_cmp(&x, NFT_CMP_EQ, &one, 1);
	vlnft_rx_log(&x, "abcde", 3);
	vlnft_rx_reject_host_unreach(&x);
	vlnft_rx_imm_port(&x, NFT_REG_2, 53);
	vlnft_rx_lookup(&x, "set-of-six", 0, false, false);
	vlnft_rx_comment(&x, "c", 0);
	cr_assert_eq(vlnft_rx_end(&x, &b, "odd"), 0);
	vlnft_batch_finish(&b);
	*out = malloc(b.len);
	memcpy(*out, b.buf, b.len);
	*len = b.len;
	/* sequence numbers differ from batch to batch */
	for (int i = 0; i < 3; i++)
		((struct nlmsghdr *)(*out + ((const char *)nth_msg(&b, i) - b.buf)))->nlmsg_seq = 0;
	vlnft_batch_fini(&b);
}

Test(nft_emit, padding_is_zeroed)
{
	char *a, *z;
	size_t alen, zlen;

	rule_bytes(0xff, &a, &alen);
	rule_bytes(0, &z, &zlen);
	cr_assert_eq(alen, zlen);
	cr_assert_arr_eq(a, z, alen);
	free(a);
	free(z);
}

Test(nft_emit, objects_parse_back_with_libnftnl)
{
	static const struct vlnft_hook hook = {NF_INET_FORWARD, -5, "filter"};
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_table *t = nftnl_table_alloc();
	const struct nlmsghdr *nlh;
	struct vlnft_batch b;

	cr_assert_eq(vlnft_batch_init(&b), 0);
	vlnft_emit_table(&b, false);
	vlnft_emit_chain(&b, "forward", &hook);
	vlnft_emit_chain(&b, "in-nsg", NULL);
	vlnft_emit_flush_chain(&b, "in-nsg");
	cr_assert_eq(vlnft_batch_finish(&b), 0);

	nlh = nth_msg(&b, 1);
	cr_assert_eq(NFNL_MSG_TYPE(nlh->nlmsg_type), NFT_MSG_NEWTABLE);
	cr_assert(nlh->nlmsg_flags & NLM_F_EXCL);
	cr_assert_eq(nftnl_table_nlmsg_parse(nlh, t), 0);
	cr_assert_str_eq(nftnl_table_get_str(t, NFTNL_TABLE_NAME), VL_NFT_TABLE);
	cr_assert_eq(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), NFPROTO_IPV4);

	nlh = nth_msg(&b, 2);
	cr_assert_eq(nftnl_chain_nlmsg_parse(nlh, c), 0);
	cr_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), VL_NFT_TABLE);
	cr_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), "forward");
	cr_assert_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), NF_INET_FORWARD);
	cr_assert_eq(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), -5);
	cr_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "filter");
	cr_assert_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), NF_ACCEPT);
	nftnl_chain_free(c);
	c = nftnl_chain_alloc();
	cr_assert_eq(nftnl_chain_nlmsg_parse(nth_msg(&b, 3), c), 0);
	cr_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), "in-nsg");
	cr_assert_not(nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM));
	cr_assert_not(nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE));

	nlh = nth_msg(&b, 4);
	cr_assert_eq(NFNL_MSG_TYPE(nlh->nlmsg_type), NFT_MSG_DELRULE);
	cr_assert_eq(nftnl_rule_nlmsg_parse(nlh, r), 0);
	cr_assert_str_eq(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), "in-nsg");
	cr_assert_not(nftnl_rule_is_set(r, NFTNL_RULE_HANDLE), "a flush names the chain only");
	nftnl_rule_free(r);
	nftnl_chain_free(c);
	nftnl_table_free(t);
	vlnft_batch_fini(&b);
}

/* NFTA_DATA_VALUE of a data map's element (libmnl: libnftnl parses only one-element lists). */
static uint32_t elem_value(const struct nlmsghdr *nlh, size_t nth)
{
	const struct nlattr *attr, *el, *a, *v;
	uint32_t value = UINT32_MAX;

	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, attr) {
			if (nth-- != 0)
				continue;
			mnl_attr_for_each_nested(a, el) {
				if (mnl_attr_get_type(a) != NFTA_SET_ELEM_DATA)
					continue;
				mnl_attr_for_each_nested(v, a) {
					cr_assert_eq(mnl_attr_get_type(v), NFTA_DATA_VALUE);
					cr_assert_eq(mnl_attr_get_payload_len(v), 4);
					memcpy(&value, mnl_attr_get_payload(v), 4);
				}
			}
		}
	}
	return value;
}

/* A map of n elements, 128 per message: the set back with libnftnl, every element with its key and
 * value. */
static void map_back(const struct vlnft_set_spec *s, size_t n)
{
	struct vlnft_elem *e = calloc(n, sizeof(*e));
	struct nftnl_set *set = nftnl_set_alloc();
	struct vlnft_batch b;
	size_t got = 0, msgs = 0;
	uint32_t id = 0;

	for (size_t i = 0; i < n; i++) {
		snprintf((char *)e[i].key, sizeof(e[i].key), "n%u", (unsigned)(i % 100000));
		e[i].chain = s->data_len ? NULL : (i % 2 ? "in-a" : "out-b");
		e[i].data = (uint32_t)i * 3;
	}
	cr_assert_eq(vlnft_batch_init(&b), 0);
	cr_assert_eq(vlnft_emit_set(&b, s, e, n, &id), 0);
	cr_assert_eq(vlnft_batch_finish(&b), 0);
	cr_assert_eq(nftnl_set_nlmsg_parse(nth_msg(&b, 1), set), 0);
	cr_assert_str_eq(nftnl_set_get_str(set, NFTNL_SET_TABLE), VL_NFT_TABLE);
	cr_assert_str_eq(nftnl_set_get_str(set, NFTNL_SET_NAME), s->name);
	cr_assert_eq(nftnl_set_get_u32(set, NFTNL_SET_FLAGS), s->flags);
	cr_assert_eq(nftnl_set_get_u32(set, NFTNL_SET_KEY_TYPE), s->key_type);
	cr_assert_eq(nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN), s->key_len);
	cr_assert_eq(nftnl_set_get_u32(set, NFTNL_SET_DATA_TYPE), s->data_len ? s->data_type : NFT_DATA_VERDICT);
	cr_assert_eq(nftnl_set_get_u32(set, NFTNL_SET_DATA_LEN), s->data_len);
	cr_assert_eq(nftnl_set_get_u32(set, NFTNL_SET_ID), id);
	cr_assert(nftnl_set_is_set(set, NFTNL_SET_USERDATA));
	for (int k = 2;; k++) {
		const struct nlmsghdr *nlh = nth_msg(&b, k);
		struct nftnl_set *part;
		struct msg m = {0};

		if (nlh->nlmsg_type == NFNL_MSG_BATCH_END)
			break;
		cr_assert_eq(NFNL_MSG_TYPE(nlh->nlmsg_type), NFT_MSG_NEWSETELEM);
		/* the list's set, its id and table with libnftnl; the elements by hand */
		part = nftnl_set_alloc();
		/* (libnftnl reads element lists of one only: it builds element i as nest type i, and
		 * parses nests of type NFTA_LIST_ELEM; the kernel takes any.) */
		(void)nftnl_set_elems_nlmsg_parse(nlh, part);
		cr_assert_str_eq(nftnl_set_get_str(part, NFTNL_SET_NAME), s->name);
		cr_assert_eq(nftnl_set_get_u32(part, NFTNL_SET_ID), id);
		cr_assert_str_eq(nftnl_set_get_str(part, NFTNL_SET_TABLE), VL_NFT_TABLE);
		nftnl_set_free(part);
		parse_elems(nlh, &m);
		cr_assert_str_eq(m.set_name, s->name);
		cr_assert_leq(m.n_elems, 128);
		for (size_t i = 0; i < m.n_elems; i++, got++) {
			cr_assert_lt(got, n);
			cr_assert_eq(m.elems[i].key_len, s->key_len);
			cr_assert_arr_eq(m.elems[i].key, e[got].key, s->key_len);
			if (s->data_len) {
				cr_assert_eq(elem_value(nlh, i), e[got].data);
			} else {
				cr_assert_eq(m.elems[i].verdict, NFT_JUMP);
				cr_assert_str_eq(m.elems[i].chain, e[got].chain);
			}
		}
		free(m.elems);
		msgs++;
	}
	cr_assert_eq(got, n);
	cr_assert_eq(msgs, (n + 127) / 128);
	nftnl_set_free(set);
	vlnft_batch_fini(&b);
	free(e);
}

Test(nft_emit, map_elements_parse_back_with_libnftnl)
{
	const struct vlnft_set_spec vmap = {"nic_in", NFT_SET_MAP, 41 /* ifname */, 16, 0, 0, 0, 0};
	const struct vlnft_set_spec marks = {"route_marks", NFT_SET_MAP, 41, 16, 19 /* mark */, 4, 0, 0};

	map_back(&vmap, 300);
	map_back(&marks, 129);
	map_back(&vmap, 1);
}

/* ---- long NSG chains: content-named chunks ---- */

#define LONG_RULES 200
#define VLNFT_CHUNK_MIN_T 8  /* lab/nft/nft-int.h VLNFT_CHUNK_MIN, _MAX */
#define VLNFT_CHUNK_MAX_T 24

/* A lab whose subnet (10.9.0.0/24, one VM) has NSG `nsg`: the file up to its first rule, into
 * *f; nsg_lab_load() ends and loads it. */
static FILE *nsg_lab_begin(char **yaml, size_t *len, const char *lab, const char *nsg)
{
	FILE *f = open_memstream(yaml, len);

	cr_assert_not_null(f);
	fprintf(f,
		"name: %s\nvnets:\n  - name: v\n    addressSpace: [10.9.0.0/16]\n    subnets:\n"
		"      - {name: s, addressPrefix: 10.9.0.0/24, networkSecurityGroup: %s}\n"
		"networkSecurityGroups:\n  - name: %s\n    securityRules:\n",
		lab, nsg, nsg);
	return f;
}

static struct vl_lab *nsg_lab_load(FILE *f, char **yaml)
{
	struct vl_lab *l;

	fputs("vms:\n  - {name: vm0, subnet: s}\n", f);
	fclose(f); /* *yaml is the text from here */
	l = th_load(*yaml);
	free(*yaml);
	return l;
}

/* What the rules of long_lab_kind are: each a port range (no rule can be keyed), each exact
 * (Tcp, one address, one port), exact but r100 (a port range: the run is cut there), exact with
 * r20 on r10's key (r20 is never reached; both in the first chunk, which has 32 rules or more). */
enum long_kind { LONG_PLAIN, LONG_KEYED, LONG_CUT, LONG_DUP };

/* A lab whose subnet NSG "big" has LONG_RULES Inbound rules r0..; rule `flip` Allow instead of Deny. */
static struct vl_lab *long_lab_kind(int flip, enum long_kind kind)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = nsg_lab_begin(&yaml, &len, "nftlong", "big");

	for (int i = 0; i < LONG_RULES; i++) {
		int k = kind == LONG_DUP && i == 20 ? 10 : i; /* the address and port of rule k */
		char hi[16] = "";

		if (kind == LONG_PLAIN || (kind == LONG_CUT && i == 100))
			snprintf(hi, sizeof(hi), "-%d", 1001 + k);
		fprintf(f,
			"      - {name: r%d, priority: %d, direction: Inbound, access: %s, protocol: Tcp, "
			"sourceAddressPrefix: 172.17.%d.%d, sourcePortRange: '*', destinationAddressPrefix: '*', "
			"destinationPortRange: '%d%s'}\n",
			i, 100 + i, i == flip ? "Allow" : "Deny", k / 256, k % 256, 1000 + k, hi);
	}
	return nsg_lab_load(f, &yaml);
}

static struct vl_lab *long_lab(int flip)
{
	return long_lab_kind(flip, LONG_PLAIN);
}

/* The chunk chains a full batch makes for chain `chain`, in the order the head jumps to them. */
static size_t head_chunks(const struct parsed *p, const char *chain, char names[][128], size_t max)
{
	size_t n = 0;

	for (int i = 0;; i++) {
		const struct nftnl_rule *r = rule_in(p, chain, i);
		struct nftnl_expr *e;

		if (!r)
			return n;
		e = nth_expr(r, "immediate", 0);
		if (!e || !nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
			continue;
		cr_assert_lt(n, max);
		snprintf(names[n++], 128, "%s", nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
	}
}

Test(nft, long_nsg_chain_is_cut_into_chunks_that_keep_rule_order)
{
	struct vl_lab *l = long_lab(-1);
	struct parsed p = nsg_batch(l, VL_NONE);
	char names[64][128], want[32];
	size_t n = head_chunks(&p, "in-big", names, 64), total = 0;
	char head[256];

	/* mark 0, jump to the first chunk, then "meta mark 0 jump <chunk>" each, the last one by goto */
	expr_names(rule_in(&p, "in-big", 0), head, sizeof(head));
	cr_assert_str_eq(head, "immediate,meta");
	cr_assert_geq(n, 2, "%d rules are more than one chunk", LONG_RULES);
	cr_assert_eq(rules_in(&p, "in-big"), (int)(1 + n));
	expr_names(rule_in(&p, "in-big", 1), head, sizeof(head));
	cr_assert_str_eq(head, "immediate");
	expr_names(rule_in(&p, "in-big", 2), head, sizeof(head));
	cr_assert_str_eq(head, "meta,cmp,immediate");
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(rule_in(&p, "in-big", 2), "meta", 0), NFTNL_EXPR_META_KEY),
		     NFT_META_MARK);
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(rule_in(&p, "in-big", 2), "cmp", 0), NFTNL_EXPR_CMP_OP),
		     NFT_CMP_EQ);
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(rule_in(&p, "in-big", 1), "immediate", 0), NFTNL_EXPR_IMM_VERDICT),
		     (uint32_t)NFT_JUMP);
	cr_assert_eq(nftnl_expr_get_u32(nth_expr(rule_in(&p, "in-big", (int)n), "immediate", 0),
					NFTNL_EXPR_IMM_VERDICT),
		     (uint32_t)NFT_GOTO);
	for (size_t k = 0; k < n; k++) {
		int in = rules_in(&p, names[k]);

		cr_assert(!strncmp(names[k], "in-big/c", 8) && strlen(names[k]) == 8 + 16, "%s", names[k]);
		cr_assert_leq(in, VLNFT_CHUNK_MAX_T, "chunk %s: %d rules", names[k], in);
		if (k + 1 < n)
			cr_assert_geq(in, VLNFT_CHUNK_MIN_T, "chunk %s: %d rules", names[k], in);
		/* every rule once, in priority order, across the chunks */
		for (int i = 0; i < in; i++, total++) {
			char cmt[128];

			comment_of(rule_in(&p, names[k], i), cmt, sizeof(cmt));

			if (total < LONG_RULES) {
				snprintf(want, sizeof(want), "r%zu", total);
				cr_assert_str_eq(cmt, want);
			}
		}
	}
	cr_assert_eq(total, LONG_RULES + 3, "the rules and the three default rules");
	cr_assert_str_eq(comment_of(rule_in(&p, names[n - 1], rules_in(&p, names[n - 1]) - 1), head, sizeof(head)),
			 "DenyAllInBound");
	cr_assert_eq(rules_in(&p, "out-big"), 3, "a short chain holds its rules itself");
	parsed_free(&p);
	vl_lab_free(l);
}

Test(nft, a_one_rule_edit_renames_few_chunks)
{
	struct vl_lab *a = long_lab(-1), *b = long_lab(LONG_RULES / 2);
	struct parsed pa = nsg_batch(a, VL_NONE), pb = nsg_batch(b, VL_NONE);
	char na[64][128], nb[64][128];
	size_t n_a = head_chunks(&pa, "in-big", na, 64), n_b = head_chunks(&pb, "in-big", nb, 64), kept = 0;

	for (size_t i = 0; i < n_b; i++)
		for (size_t j = 0; j < n_a; j++)
			kept += !strcmp(nb[i], na[j]);
	cr_assert_geq(kept + 2, n_b, "%zu of %zu chunks kept their name", kept, n_b);
	cr_assert_lt(kept, n_b, "the chunk that holds the edited rule is renamed");
	parsed_free(&pa);
	parsed_free(&pb);
	vl_lab_free(a);
	vl_lab_free(b);
}

Test(nft, print_shows_the_chunks_the_transaction_makes)
{
	struct vl_lab *l = long_lab(3);
	struct parsed p = nsg_batch(l, VL_NONE);
	char names[64][128], want[256], *text = NULL;
	size_t n = head_chunks(&p, "in-big", names, 64), len = 0;
	FILE *f = open_memstream(&text, &len);

	vl_nft_fabric_print(l, 0, f);
	fclose(f);
	cr_assert(strstr(text, "\tchain in-big {\n\t\tmeta mark set 0x00000000\n"), "%s", text);
	for (size_t k = 0; k < n; k++) {
		snprintf(want, sizeof(want), "\t\t%s%s %.127s\n%s", k ? "meta mark 0x00000000 " : "",
			 k + 1 < n ? "jump" : "goto", names[k], k + 1 < n ? "" : "\t}\n");
		cr_assert(strstr(text, want), "%s", want);
		snprintf(want, sizeof(want), "\n\tchain %.127s {\n", names[k]);
		cr_assert(strstr(text, want), "%s", want);
	}
	free(text);
	parsed_free(&p);
	vl_lab_free(l);
}

Test(nft, offline_edit_of_a_long_nsg_fills_every_chunk_after_emptying_it)
{
	struct vl_lab *l = long_lab(7);
	struct parsed full = nsg_batch(l, VL_NONE), p = nsg_batch(l, vl_lab_find_nsg(l, "big"));
	char names[64][128];
	size_t n = head_chunks(&full, "in-big", names, 64);

	for (size_t k = 0; k < n; k++) {
		bool made = false, flushed = false;

		for (size_t i = 0; i < p.n; i++) {
			if (p.m[i].type == NFT_MSG_NEWCHAIN &&
			    !strcmp(nftnl_chain_get_str(p.m[i].chain, NFTNL_CHAIN_NAME), names[k]))
				made = true;
			if (p.m[i].type == NFT_MSG_DELRULE &&
			    !strcmp(nftnl_rule_get_str(p.m[i].rule, NFTNL_RULE_CHAIN), names[k]))
				flushed = made;
		}
		cr_assert(made && flushed, "chunk %s: made %d, emptied after %d", names[k], made, flushed);
		cr_assert_eq(rules_in(&p, names[k]), rules_in(&full, names[k]));
	}
	cr_assert_eq(rules_in(&p, "in-big"), rules_in(&full, "in-big"));
	parsed_free(&full);
	parsed_free(&p);
	vl_lab_free(l);
}

/* ---- keyed chunks: a run of exact rules as one map lookup (lab/nft/keyed.c) ---- */

#define VLNFT_KEYED_MIN_T 32 /* lab/nft/nft-int.h VLNFT_KEYED_MIN, _MAX */
#define VLNFT_KEYED_MAX_T 128

/* The elements the batch adds to set `name`, in order (at most max). */
static size_t elems_of(const struct parsed *p, const char *name, struct elem *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->m[i].type == NFT_MSG_NEWSETELEM && !strcmp(p->m[i].set_name, name))
			for (size_t j = 0; j < p->m[i].n_elems; j++) {
				cr_assert_lt(n, max);
				out[n++] = p->m[i].elems[j];
			}
	return n;
}

static const struct nftnl_set *set_named(const struct parsed *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->m[i].type == NFT_MSG_NEWSET && !strcmp(nftnl_set_get_str(p->m[i].set, NFTNL_SET_NAME), name))
			return p->m[i].set;
	return NULL;
}

/* The key long_lab_kind gives rule k: tcp . 172.17.k/256.k%256 . 1000+k, 4 bytes a field. */
static void long_key(uint8_t *key, int k)
{
	const uint8_t want[12] = {6, 0, 0, 0, 172, 17, (uint8_t)(k / 256), (uint8_t)(k % 256),
				  (uint8_t)((1000 + k) >> 8), (uint8_t)((1000 + k) & 255), 0, 0};

	memcpy(key, want, sizeof(want));
}

/*
 * Checks the keyed chunks of in-big: each a chain of three rules (the lookup that sets the mark,
 * an Allow's return, a Deny's goto) and a map of its name whose elements are its rules, in order,
 * key : mark, commented with the rule's name. Returns the rule names met across every chunk, in
 * the head's order, as "r0,r1,..." ("|" between chunks, "c" before a plain one's).
 */
static void keyed_walk(const struct parsed *p, char *seen, size_t seen_len)
{
	static struct elem e[LONG_RULES];
	char names[64][128], ex[256], cmt[128];
	size_t n = head_chunks(p, "in-big", names, 64);

	seen[0] = '\0';
	for (size_t k = 0; k < n; k++) {
		const struct nftnl_set *set = set_named(p, names[k]);
		bool keyed = strstr(names[k], "/k") != NULL;
		size_t m;

		strncat(seen, k ? "|" : "", seen_len - strlen(seen) - 1);
		if (!keyed) {
			cr_assert(!strncmp(names[k], "in-big/c", 8), "%s", names[k]);
			cr_assert_null(set, "a plain chunk has no map");
			strncat(seen, "c", seen_len - strlen(seen) - 1);
			for (int i = 0; i < rules_in(p, names[k]); i++) {
				comment_of(rule_in(p, names[k], i), cmt, sizeof(cmt));
				strncat(seen, cmt, seen_len - strlen(seen) - 1);
				strncat(seen, i + 1 < rules_in(p, names[k]) ? "," : "", seen_len - strlen(seen) - 1);
			}
			continue;
		}
		cr_assert(!strncmp(names[k], "in-big/k", 8) && strlen(names[k]) == 8 + 16, "%s", names[k]);
		cr_assert_eq(rules_in(p, names[k]), 3, "a keyed chunk's chain: three rules whatever its length");
		expr_names(rule_in(p, names[k], 0), ex, sizeof(ex));
		cr_assert_str_eq(ex, "meta,payload,payload,lookup,meta");
		cr_assert_str_eq(nftnl_expr_get_str(nth_expr(rule_in(p, names[k], 0), "lookup", 0),
						    NFTNL_EXPR_LOOKUP_SET),
				 names[k]);
		cr_assert_eq(nftnl_expr_get_u32(nth_expr(rule_in(p, names[k], 0), "meta", 1), NFTNL_EXPR_META_KEY),
			     NFT_META_MARK);
		expr_names(rule_in(p, names[k], 1), ex, sizeof(ex));
		cr_assert_str_eq(ex, "meta,bitwise,cmp,immediate");
		cr_assert_eq(nftnl_expr_get_u32(nth_expr(rule_in(p, names[k], 1), "immediate", 0),
						NFTNL_EXPR_IMM_VERDICT),
			     (uint32_t)NFT_RETURN);
		expr_names(rule_in(p, names[k], 2), ex, sizeof(ex));
		cr_assert_str_eq(ex, "meta,cmp,immediate");
		cr_assert_str_eq(nftnl_expr_get_str(nth_expr(rule_in(p, names[k], 2), "immediate", 0),
						    NFTNL_EXPR_IMM_CHAIN),
				 "nsg_deny");
		cr_assert_not_null(set, "chunk %s has its map", names[k]);
		cr_assert_eq(nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN), 12);
		cr_assert_eq(nftnl_set_get_u32(set, NFTNL_SET_KEY_TYPE), (12u << 12) | (7u << 6) | 13u,
			     "inet_proto . ipv4_addr . inet_service");
		cr_assert_eq(nftnl_set_get_u32(set, NFTNL_SET_FLAGS), (uint32_t)NFT_SET_MAP);
		cr_assert_eq(nftnl_set_get_u32(set, NFTNL_SET_DATA_TYPE), 19u, "mark");
		m = elems_of(p, names[k], e, LONG_RULES);
		cr_assert_leq(m, VLNFT_KEYED_MAX_T);
		for (size_t i = 0; i < m; i++) {
			int r = atoi(e[i].comment + 1);
			uint32_t id = (uint32_t)vl_rule_id("big", e[i].comment);
			uint8_t key[12];

			cr_assert_eq(e[i].comment[0], 'r', "element %zu of %s: comment \"%s\"", i, names[k], e[i].comment);
			cr_assert_eq(e[i].key_len, 12);
			long_key(key, r);
			cr_assert_arr_eq(e[i].key, key, 12, "the key of %s", e[i].comment);
			/* the flip rule (an Allow) carries the allow bit */
			cr_assert(e[i].data == id || e[i].data == (VL_FLOW_MARK_ALLOW | id), "%s: mark %08x",
				  e[i].comment, e[i].data);
			strncat(seen, e[i].comment, seen_len - strlen(seen) - 1);
			strncat(seen, i + 1 < m ? "," : "", seen_len - strlen(seen) - 1);
		}
	}
}

/* "r<from>,...,r<to>" (inclusive) appended to buf. */
static void range_names(char *buf, size_t len, int from, int to)
{
	for (int i = from; i <= to; i++) {
		char one[16];

		snprintf(one, sizeof(one), "%sr%d", i > from ? "," : "", i);
		strncat(buf, one, len - strlen(buf) - 1);
	}
}

/* The run split at its cuts: the names of the chunks' rules, "|" between chunks. */
static void strip_cuts(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '|')
			*p = ',';
}

Test(nft, a_run_of_exact_rules_becomes_keyed_chunks_of_one_lookup)
{
	struct vl_lab *l = long_lab_kind(7, LONG_KEYED);
	struct parsed p = nsg_batch(l, VL_NONE);
	static char seen[8192], want[8192];
	char names[64][128];
	size_t n = head_chunks(&p, "in-big", names, 64), keyed = 0;
	struct elem e[LONG_RULES];

	keyed_walk(&p, seen, sizeof(seen));
	for (size_t k = 0; k < n; k++)
		if (strstr(names[k], "/k")) {
			size_t m = elems_of(&p, names[k], e, LONG_RULES);

			keyed++;
			if (k + 2 < n) /* not the run's last */
				cr_assert_geq(m, VLNFT_KEYED_MIN_T, "chunk %s: %zu rules", names[k], m);
			if (!strcmp(e[0].comment, "r7") || (m > 7 && !strcmp(e[7].comment, "r7")))
				cr_assert_eq(e[!strcmp(e[0].comment, "r7") ? 0 : 7].data,
					     VL_FLOW_MARK_ALLOW | (uint32_t)vl_rule_id("big", "r7"));
		}
	cr_assert_geq(keyed, 2, "%d rules: more than one keyed chunk", LONG_RULES);
	cr_assert(strstr(names[n - 1], "in-big/c"), "the defaults stay plain: %s", names[n - 1]);
	want[0] = '\0';
	range_names(want, sizeof(want), 0, LONG_RULES - 1);
	strncat(want, "|cAllowVnetInBound,AllowAzureLoadBalancerInBound,DenyAllInBound", sizeof(want) - strlen(want) - 1);
	/* every rule once, in priority order */
	{
		char *last = strrchr(seen, '|');

		cr_assert_not_null(last);
		*last = '\0';
		strip_cuts(seen);
		*strrchr(want, '|') = '\0';
		cr_assert_str_eq(seen, want);
	}
	parsed_free(&p);
	vl_lab_free(l);
}

Test(nft, a_rule_of_another_shape_cuts_the_run)
{
	struct vl_lab *l = long_lab_kind(-1, LONG_CUT);
	struct parsed p = nsg_batch(l, VL_NONE);
	static char seen[8192];
	char *at;

	keyed_walk(&p, seen, sizeof(seen));
	at = strstr(seen, "|cr100|");
	cr_assert_not_null(at, "r100 (a port range) alone in a plain chunk between keyed ones: %s", seen);
	cr_assert(at > seen && at[-1] == '9' && !strncmp(at + 7, "r101,", 5), "%s", seen);
	parsed_free(&p);
	vl_lab_free(l);
}

Test(nft, a_keyed_chunk_keeps_the_first_of_two_rules_with_one_key)
{
	struct vl_lab *l = long_lab_kind(20, LONG_DUP); /* r20, an Allow, has r10's (a Deny's) key */
	struct parsed p = nsg_batch(l, VL_NONE);
	static char seen[8192];
	static struct elem e[LONG_RULES];
	char names[64][128];
	size_t n = head_chunks(&p, "in-big", names, 64), m;
	bool r10 = false;

	keyed_walk(&p, seen, sizeof(seen));
	cr_assert(strstr(seen, ",r19,r21,"), "r20 has no element: %s", seen);
	m = elems_of(&p, names[0], e, LONG_RULES);
	cr_assert(n > 1 && strstr(names[0], "/k"), "%s", names[0]);
	for (size_t i = 0; i < m; i++)
		if (!strcmp(e[i].comment, "r10")) {
			r10 = true;
			cr_assert_eq(e[i].data, (uint32_t)vl_rule_id("big", "r10"), "the first rule's mark: a Deny's");
		}
	cr_assert(r10);
	parsed_free(&p);
	vl_lab_free(l);
}

/* Three runs of 40 Inbound rules, each of another shape: the address alone (protocol and ports
 * `*`), Udp to one address from one source port, Icmp between two addresses. */
static struct vl_lab *shapes_lab(void)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = nsg_lab_begin(&yaml, &len, "nftshape", "sh");

	for (int i = 0; i < 120; i++) {
		fprintf(f, "      - {name: r%d, priority: %d, direction: Inbound, access: Deny, ", i, 100 + i);
		if (i < 40)
			fprintf(f, "protocol: '*', sourceAddressPrefix: 172.18.0.%d, sourcePortRange: '*', "
				   "destinationAddressPrefix: '*', destinationPortRange: '*'}\n", i);
		else if (i < 80)
			fprintf(f, "protocol: Udp, sourceAddressPrefix: '*', sourcePortRange: '%d', "
				   "destinationAddressPrefix: 10.9.0.%d, destinationPortRange: '*'}\n", 2000 + i, i);
		else
			fprintf(f, "protocol: Icmp, sourceAddressPrefix: 172.19.0.%d, sourcePortRange: '*', "
				   "destinationAddressPrefix: 10.9.1.%d, destinationPortRange: '*'}\n", i, i);
	}
	return nsg_lab_load(f, &yaml);
}

/* Load expression i of rule r: meta (base -1, off = key) or payload, into 32-bit register reg. */
static void assert_load(const struct nftnl_rule *r, int i, int base, uint32_t off, uint32_t len, uint32_t reg)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e = NULL;

	for (int k = 0; k <= i; k++)
		e = nftnl_expr_iter_next(it);
	cr_assert_not_null(e);
	if (base < 0) {
		cr_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "meta");
		cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY), off);
		cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG), reg);
	} else {
		cr_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "payload");
		cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE), (uint32_t)base);
		cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET), off);
		cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN), len);
		cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG), reg);
	}
	nftnl_expr_iter_destroy(it);
}

Test(nft, each_shape_loads_its_fields_into_consecutive_registers)
{
	static const struct {
		const char *first;	  /* the rule whose element comes first */
		uint32_t key_len, key_type; /* nft datatypes, 6 bits each */
		const char *type, *expr;
		uint8_t key[12];
	} want[] = {
	    {"r0", 4, 7, "ipv4_addr", "ip saddr", {172, 18, 0, 0}},
	    {"r40", 12, (12u << 12) | (7u << 6) | 13u, "inet_proto . ipv4_addr . inet_service",
	     "meta l4proto . ip daddr . th sport", {17, 0, 0, 0, 10, 9, 0, 40, 0x07, 0xf8, 0, 0}},
	    {"r80", 12, (12u << 12) | (7u << 6) | 7u, "inet_proto . ipv4_addr . ipv4_addr",
	     "meta l4proto . ip saddr . ip daddr", {1, 0, 0, 0, 172, 19, 0, 80, 10, 9, 1, 80}},
	};
	struct vl_lab *l = shapes_lab();
	struct parsed p = nsg_batch(l, VL_NONE);
	char names[64][128], line[512], *text = NULL;
	size_t n = head_chunks(&p, "in-sh", names, 64), len = 0, met = 0;
	FILE *f = open_memstream(&text, &len);
	struct elem e[128];

	vl_nft_fabric_print(l, 0, f);
	fclose(f);
	for (size_t k = 0; k < n; k++) {
		const struct nftnl_rule *r = rule_in(&p, names[k], 0);
		const struct nftnl_set *set = set_named(&p, names[k]);
		struct nftnl_expr *lk;
		size_t m, w;

		if (!strstr(names[k], "/k"))
			continue;
		m = elems_of(&p, names[k], e, 128);
		cr_assert_gt(m, 0);
		for (w = 0; w < 3 && strcmp(want[w].first, e[0].comment); w++)
			;
		if (w == 3)
			continue; /* a later chunk of a run */
		met |= 1u << w;
		cr_assert_eq(nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN), want[w].key_len, "%s", want[w].first);
		cr_assert_eq(nftnl_set_get_u32(set, NFTNL_SET_KEY_TYPE), want[w].key_type, "%s", want[w].first);
		cr_assert_arr_eq(e[0].key, want[w].key, want[w].key_len, "%s's key", want[w].first);
		if (w == 0) {
			assert_load(r, 0, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00);
		} else {
			assert_load(r, 0, -1, NFT_META_L4PROTO, 1, NFT_REG32_00);
			assert_load(r, 1, NFT_PAYLOAD_NETWORK_HEADER, w == 1 ? 16 : 12, 4, NFT_REG32_01);
			assert_load(r, 2, w == 1 ? NFT_PAYLOAD_TRANSPORT_HEADER : NFT_PAYLOAD_NETWORK_HEADER,
				    w == 1 ? 0 : 16, w == 1 ? 2 : 4, NFT_REG32_02);
		}
		lk = nth_expr(r, "lookup", 0);
		cr_assert_eq(nftnl_expr_get_u32(lk, NFTNL_EXPR_LOOKUP_SREG), NFT_REG_1, "the key from the first field");
		cr_assert_eq(nftnl_expr_get_u32(lk, NFTNL_EXPR_LOOKUP_DREG), NFT_REG_1, "the mark into register 1");
		cr_assert_eq(nftnl_expr_get_u32(nth_expr(r, "meta", w ? 1 : 0), NFTNL_EXPR_META_SREG), NFT_REG_1);
		snprintf(line, sizeof(line), "\n\tmap %s {\n\t\ttype %s : mark\n", names[k], want[w].type);
		cr_assert(strstr(text, line), "%s", line);
		snprintf(line, sizeof(line), "\t\tmeta mark set %s map @%s\n", want[w].expr, names[k]);
		cr_assert(strstr(text, line), "%s", line);
	}
	cr_assert_eq(met, 7, "a keyed chunk of each shape (%zx)", met);
	cr_assert(strstr(text, "172.18.0.0 comment \"r0\" : 0x"), "ipv4_addr alone");
	cr_assert(strstr(text, "udp . 10.9.0.40 . 2040 comment \"r40\" : 0x"), "udp, daddr, sport");
	cr_assert(strstr(text, "icmp . 172.19.0.80 . 10.9.1.80 comment \"r80\" : 0x"), "icmp, two addresses");
	free(text);
	parsed_free(&p);
	vl_lab_free(l);
}

Test(nft, a_run_of_rules_on_the_protocol_alone_stays_plain)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = nsg_lab_begin(&yaml, &len, "nftproto", "pr");
	struct vl_lab *l;
	struct parsed p;
	char names[64][128];
	size_t n;

	for (int i = 0; i < 40; i++)
		fprintf(f,
			"      - {name: r%d, priority: %d, direction: Inbound, access: Deny, protocol: %s, "
			"sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*', "
			"destinationPortRange: '*'}\n",
			i, 100 + i, i % 2 ? "Udp" : "Tcp");
	l = nsg_lab_load(f, &yaml);
	p = nsg_batch(l, VL_NONE);
	n = head_chunks(&p, "in-pr", names, 64);
	cr_assert_gt(n, 1);
	for (size_t k = 0; k < n; k++)
		cr_assert(strstr(names[k], "in-pr/c"), "%s: no keyed chunk of protocols alone", names[k]);
	parsed_free(&p);
	vl_lab_free(l);
}

Test(nft, print_shows_the_keyed_chunks_the_transaction_makes)
{
	struct vl_lab *l = long_lab_kind(3, LONG_CUT);
	struct parsed p = nsg_batch(l, VL_NONE);
	char names[64][128], want[512], *text = NULL;
	size_t n = head_chunks(&p, "in-big", names, 64), len = 0, keyed = 0;
	FILE *f = open_memstream(&text, &len);

	vl_nft_fabric_print(l, 0, f);
	fclose(f);
	for (size_t k = 0; k < n; k++) {
		snprintf(want, sizeof(want), "\t\t%s%s %.127s\n", k ? "meta mark 0x00000000 " : "",
			 k + 1 < n ? "jump" : "goto", names[k]);
		cr_assert(strstr(text, want), "%s", want);
		snprintf(want, sizeof(want), "\n\tchain %.127s {\n", names[k]);
		cr_assert(strstr(text, want), "%s", want);
		if (!strstr(names[k], "/k"))
			continue;
		keyed++;
		snprintf(want, sizeof(want),
			 "\n\tmap %.127s {\n\t\ttype inet_proto . ipv4_addr . inet_service : mark\n\t\telements = { ",
			 names[k]);
		cr_assert(strstr(text, want), "%s", want);
		snprintf(want, sizeof(want),
			 "\n\tchain %.127s {\n\t\tmeta mark set meta l4proto . ip saddr . th dport map @%.127s\n"
			 "\t\tmeta mark & 0x80000000 != 0x00000000 return\n\t\tmeta mark != 0x00000000 goto nsg_deny\n\t}\n",
			 names[k], names[k]);
		cr_assert(strstr(text, want), "%s", want);
	}
	cr_assert_geq(keyed, 2);
	snprintf(want, sizeof(want), "tcp . 172.17.0.3 . 1003 comment \"r3\" : 0x%08x",
		 VL_FLOW_MARK_ALLOW | (uint32_t)vl_rule_id("big", "r3"));
	cr_assert(strstr(text, want), "%s", want);
	snprintf(want, sizeof(want), "tcp . 172.17.0.4 . 1004 comment \"r4\" : 0x%08x",
		 (uint32_t)vl_rule_id("big", "r4"));
	cr_assert(strstr(text, want), "%s", want);
	free(text);
	parsed_free(&p);
	vl_lab_free(l);
}

Test(nft, offline_edit_of_a_keyed_chunk_empties_its_map_then_fills_it)
{
	struct vl_lab *l = long_lab_kind(7, LONG_KEYED);
	struct parsed full = nsg_batch(l, VL_NONE), p = nsg_batch(l, vl_lab_find_nsg(l, "big"));
	char names[64][128];
	size_t n = head_chunks(&full, "in-big", names, 64);
	static struct elem e[LONG_RULES], ef[LONG_RULES];
	size_t keyed = 0;

	for (size_t k = 0; k < n; k++) {
		size_t made = 0, flushed = 0, filled = 0;

		if (!strstr(names[k], "/k"))
			continue;
		keyed++;
		for (size_t i = 0; i < p.n; i++) {
			if (p.m[i].type == NFT_MSG_NEWSET &&
			    !strcmp(nftnl_set_get_str(p.m[i].set, NFTNL_SET_NAME), names[k]))
				made = made ? made : i + 1;
			if (p.m[i].type == NFT_MSG_DELSETELEM && !strcmp(p.m[i].set_name, names[k]))
				flushed = i + 1;
			if (p.m[i].type == NFT_MSG_NEWSETELEM && !strcmp(p.m[i].set_name, names[k]))
				filled = i + 1;
		}
		cr_assert(made && made < flushed && flushed < filled, "map %s: made %zu, emptied %zu, filled %zu",
			  names[k], made, flushed, filled);
		cr_assert_eq(elems_of(&p, names[k], e, LONG_RULES), elems_of(&full, names[k], ef, LONG_RULES));
		cr_assert_eq(rules_in(&p, names[k]), 3);
	}
	cr_assert_geq(keyed, 2);
	parsed_free(&full);
	parsed_free(&p);
	vl_lab_free(l);
}
