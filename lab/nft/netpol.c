// SPDX-License-Identifier: MIT
/*
 * Kubernetes network policies of an AKS node, in the node's table beside ip-masq-agent and
 * kube-proxy (spec 16), from the allow lists of the effective model (vnetlab/effective.h):
 *   chain np-forward (filter forward 0): ct state established,related accept;
 *     ip saddr vmap @np-out  (a pod of this node isolated for egress: jump np-out/<pod>)
 *     ip daddr vmap @np-in   (... for ingress: jump np-in/<pod>)
 *   chain np-out/<pod>, np-in/<pod>: (np-in: ip saddr <the pod> return: it cannot block itself, as
 *     its own flow back through a Service), one rule per allow entry, ip daddr|saddr <peers>
 *     [meta l4proto <p> th dport <lo-hi>] return; then (within the log limits, their buckets per
 *     pair of addresses in set np-log) log group 7 prefix "np:out/<pod>"; drop.
 * The forward hook sees routed Azure CNI pods and, with bridge-nf-call-iptables (on in every
 * namespace), kubenet pods bridged on cbr0; after kube-proxy's DNAT, before any masquerade.
 * The node's own traffic (output, input) never passes here: it is always allowed (spec 16.1.4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>

#include "vnetlab/effective.h"
#include "vnetlab/nft.h"
#include "nft-emit.h"
#include "nft-int.h"

static const char *const dir_word[2] = {[VL_DIR_IN] = "in", [VL_DIR_OUT] = "out"};

static bool on_node(const struct vl_lab *lab, int ep, int node_ep)
{
	const struct vl_endpoint *e = &lab->eps[ep];

	return e->kind == VL_EP_POD && e->node == node_ep && lab->eff && (size_t)ep < lab->eff->n_np &&
	       lab->eff->np[ep].enforced;
}

bool vlnft_netpol_needed(const struct vl_lab *lab, int node_ep)
{
	for (size_t i = 0; i < lab->n_eps; i++)
		if (on_node(lab, (int)i, node_ep) &&
		    (lab->eff->np[i].isolated[VL_DIR_IN] || lab->eff->np[i].isolated[VL_DIR_OUT]))
			return true;
	return false;
}

void vlnft_netpol_chain(char *buf, size_t len, const struct vl_lab *lab, int pod, enum vl_dir d)
{
	snprintf(buf, len, "np-%s/%s", dir_word[d], lab->eps[pod].name);
}

void vlnft_netpol_prefix(char *buf, size_t len, const struct vl_lab *lab, int pod, enum vl_dir d)
{
	snprintf(buf, len, "np:%s/%s", dir_word[d], lab->eps[pod].name);
}

/* Does allow entry a match its peers with a named set (else one address, or any)? */
static bool peers_in_set(const struct vl_np_allow *a)
{
	return !a->any_peer && !(a->n_peers == 1 && a->peers[0].len == 32);
}

/* The set of allow entry k of a pod's chain: "<chain>/<k>". */
static void allow_set_name(char *buf, size_t len, const char *chain, size_t k)
{
	snprintf(buf, len, "%s/%zu", chain, k);
}

/* The comment of allow entry k's rule. */
static void allow_comment(char *buf, size_t len, const struct vl_np_allow *a, int k)
{
	snprintf(buf, len, "policy #%d rule #%d (%d)", a->policy, a->rule, k);
}

/* The peers of an allow entry as the intervals of its set, merged. 0 or -ENOMEM. */
static int allow_ivals(const struct vl_np_allow *a, struct vlnft_ivals *iv)
{
	int err = 0;

	memset(iv, 0, sizeof(*iv));
	for (size_t i = 0; i < a->n_peers && !err; i++)
		err = vlnft_ivals_push(iv, a->peers[i].addr, vlnft_prefix_last(a->peers[i]));
	if (err)
		vlnft_ivals_free(iv);
	else
		vlnft_ivals_merge(iv);
	return err;
}

static int allow_rule(struct vlnft_batch *b, const char *chain, const char *set, const struct vl_np_allow *a,
		      enum vl_dir d, int k)
{
	uint32_t off = d == VL_DIR_IN ? 12 : 16;
	struct vlnft_rx x;
	char comment[96];

	if (vlnft_rx_begin(&x, chain))
		return b->err = x.err;
	if (!a->any_peer) {
		vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, off, 4);
		if (!peers_in_set(a)) {
			uint8_t ip[4];

			vlnft_key_be(ip, a->peers[0].addr, 4);
			vlnft_rx_cmp(&x, NFT_CMP_EQ, ip, 4);
		} else {
			vlnft_rx_lookup(&x, set, 0, false, false);
		}
	}
	if (a->proto != VL_PROTO_ANY) {
		uint8_t l4 = a->proto == VL_PROTO_UDP ? 17 : 6;
		struct vlnft_ival iv = {a->lo, a->hi};
		struct vlnft_ivals ports = {&iv, 1, 1};

		vlnft_rx_meta(&x, NFT_META_L4PROTO);
		vlnft_rx_cmp(&x, NFT_CMP_EQ, &l4, 1);
		if (a->lo > 1 || a->hi < 65535)
			vlnft_match_ports(&x, 2, &ports);
	}
	vlnft_rx_counter(&x);
	vlnft_rx_verdict(&x, NFT_RETURN);
	allow_comment(comment, sizeof(comment), a, k);
	vlnft_rx_comment(&x, comment, 0);
	return vlnft_rx_end(&x, b, chain);
}

/* The peers of allow entry k as a named interval set, when a rule needs more than one address. */
static int allow_set(struct vlnft_batch *b, const char *set, const struct vl_np_allow *a)
{
	struct vlnft_set_spec spec = {
	    .name = set,
	    .flags = NFT_SET_INTERVAL | NFT_SET_CONSTANT,
	    .key_type = VLNFT_TYPE_IPADDR,
	    .key_len = 4,
	};
	struct vlnft_ivals iv = {0};
	struct vlnft_elem *e = NULL;
	size_t n = 0;
	int err = allow_ivals(a, &iv);

	if (!err)
		err = vlnft_ival_elems(&iv, 4, &e, &n);
	if (!err)
		err = vlnft_emit_set(b, &spec, e, n, NULL);
	free(e);
	vlnft_ivals_free(&iv);
	return err ? (b->err = b->err ?: err) : 0;
}

static int pod_chain(const struct vl_lab *lab, int pod, enum vl_dir d, struct vlnft_batch *b)
{
	const struct vl_np_pod *np = &lab->eff->np[pod];
	char chain[VLNFT_CHAIN_NAME_MAX], prefix[VLNFT_LOG_PREFIX_MAX + 1], set[VLNFT_CHAIN_NAME_MAX + 24];
	struct vlnft_rx x;

	vlnft_netpol_chain(chain, sizeof(chain), lab, pod, d);
	vlnft_emit_chain(b, chain, NULL);
	/* a pod cannot block itself (spec 16.1.4): its own flow back through a Service's clusterIP */
	if (d == VL_DIR_IN && !vlnft_rx_begin(&x, chain)) {
		uint8_t ip[4];

		vlnft_key_be(ip, lab->eps[pod].ip, 4);
		vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
		vlnft_rx_cmp(&x, NFT_CMP_EQ, ip, 4);
		vlnft_rx_verdict(&x, NFT_RETURN);
		vlnft_rx_end(&x, b, chain);
	}
	for (size_t k = 0; k < np->n_allow[d] && !b->err; k++) {
		const struct vl_np_allow *a = &np->allow[d][k];

		allow_set_name(set, sizeof(set), chain, k);
		if (peers_in_set(a) && allow_set(b, set, a))
			break;
		allow_rule(b, chain, set, a, d, (int)k);
	}
	if (b->err || vlnft_rx_begin(&x, chain))
		return b->err ?: (b->err = x.err);
	/* Logged within the limits (past one this rule stops), then dropped. */
	vlnft_netpol_prefix(prefix, sizeof(prefix), lab, pod, d);
	vlnft_rx_log_limits(&x, VLNFT_SET_LOG_NP);
	vlnft_rx_counter(&x);
	vlnft_rx_log(&x, prefix, VL_NFLOG_GROUP);
	if (vlnft_rx_end(&x, b, chain) || vlnft_rx_begin(&x, chain))
		return b->err ?: (b->err = x.err);
	vlnft_rx_counter(&x);
	vlnft_rx_verdict(&x, NF_DROP);
	return vlnft_rx_end(&x, b, chain);
}

static int emit_vmap(const struct vl_lab *lab, int node_ep, enum vl_dir d, struct vlnft_batch *b)
{
	struct vlnft_set_spec spec = {
	    .name = d == VL_DIR_IN ? "np-in" : "np-out",
	    .flags = NFT_SET_MAP,
	    .key_type = VLNFT_TYPE_IPADDR,
	    .key_len = 4,
	};
	struct vlnft_elem *e = calloc(lab->n_eps ? lab->n_eps : 1, sizeof(*e));
	char(*names)[VLNFT_CHAIN_NAME_MAX] = calloc(lab->n_eps ? lab->n_eps : 1, sizeof(*names));
	size_t n = 0;
	int err;

	if (!e || !names) {
		free(e);
		free(names);
		return b->err = -ENOMEM;
	}
	for (size_t i = 0; i < lab->n_eps; i++) {
		if (!on_node(lab, (int)i, node_ep) || !lab->eff->np[i].isolated[d])
			continue;
		vlnft_netpol_chain(names[n], sizeof(names[n]), lab, (int)i, d);
		vlnft_key_be(e[n].key, lab->eps[i].ip, 4);
		e[n].chain = names[n];
		n++;
	}
	err = vlnft_emit_set(b, &spec, e, n, NULL);
	free(e);
	free(names);
	return err;
}

int vlnft_netpol_emit(const struct vl_lab *lab, int node_ep, struct vlnft_batch *b)
{
	static const struct vlnft_hook fwd = {NF_INET_FORWARD, 0, "filter"};
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	struct vlnft_rx x;

	if (!vlnft_netpol_needed(lab, node_ep))
		return 0;
	vlnft_emit_log_ceiling(b);
	vlnft_emit_pair_meter(b, lab, VLNFT_SET_LOG_NP);
	for (size_t i = 0; i < lab->n_eps && !b->err; i++)
		for (int d = 0; d < 2 && !b->err; d++)
			if (on_node(lab, (int)i, node_ep) && lab->eff->np[i].isolated[d])
				pod_chain(lab, (int)i, (enum vl_dir)d, b);
	if (b->err || emit_vmap(lab, node_ep, VL_DIR_OUT, b) || emit_vmap(lab, node_ep, VL_DIR_IN, b))
		return b->err;
	vlnft_emit_chain(b, "np-forward", &fwd);
	if (vlnft_rx_begin(&x, "np-forward"))
		return b->err = x.err;
	vlnft_rx_ct_state(&x, mask);
	vlnft_rx_verdict(&x, NF_ACCEPT);
	if (vlnft_rx_end(&x, b, "np-forward: ct state established,related accept"))
		return b->err;
	/* egress of the source pod first, then ingress of the destination (spec 16.2) */
	for (int d = VL_DIR_OUT; d >= VL_DIR_IN; d--) {
		if (vlnft_rx_begin(&x, "np-forward"))
			return b->err = x.err;
		vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, d == VL_DIR_IN ? 16 : 12, 4);
		vlnft_rx_lookup(&x, d == VL_DIR_IN ? "np-in" : "np-out", 0, false, true);
		if (vlnft_rx_end(&x, b, "np-forward: pods' policy chains"))
			return b->err;
	}
	return b->err;
}

/* ---- the same as `nft -f` text (print.c, up --dry-run), in the order vlnft_netpol_emit sends it ---- */

static void put_addr(FILE *f, struct vl_prefix p)
{
	fprintf(f, "%u.%u.%u.%u", p.addr >> 24, (p.addr >> 16) & 255, (p.addr >> 8) & 255, p.addr & 255);
	if (p.len != 32)
		fprintf(f, "/%u", p.len);
}

static void put_ip(FILE *f, uint32_t a)
{
	put_addr(f, (struct vl_prefix){a, 32});
}

/* The named sets of a pod's chain (allow_set), as pod_chain makes them. */
static void print_sets(const struct vl_lab *lab, int pod, enum vl_dir d, FILE *f)
{
	const struct vl_np_pod *np = &lab->eff->np[pod];
	char chain[VLNFT_CHAIN_NAME_MAX], set[VLNFT_CHAIN_NAME_MAX + 24];

	vlnft_netpol_chain(chain, sizeof(chain), lab, pod, d);
	for (size_t k = 0; k < np->n_allow[d]; k++) {
		const struct vl_np_allow *a = &np->allow[d][k];
		struct vlnft_ivals iv;

		if (!peers_in_set(a))
			continue;
		allow_set_name(set, sizeof(set), chain, k);
		fprintf(f, "\tset %s {\n\t\ttype ipv4_addr\n\t\tflags constant,interval\n", set);
		if (allow_ivals(a, &iv)) {
			fputs("\t\t# error: out of memory\n\t}\n\n", f);
			continue;
		}
		for (size_t i = 0; i < iv.n; i++) {
			fputs(i ? ", " : "\t\telements = { ", f);
			put_ip(f, iv.v[i].lo);
			if (iv.v[i].hi != iv.v[i].lo) {
				fputc('-', f);
				put_ip(f, iv.v[i].hi);
			}
		}
		fputs(iv.n ? " }\n\t}\n\n" : "\t}\n\n", f);
		vlnft_ivals_free(&iv);
	}
}

static void print_chain(const struct vl_lab *lab, int pod, enum vl_dir d, FILE *f)
{
	const struct vl_np_pod *np = &lab->eff->np[pod];
	char chain[VLNFT_CHAIN_NAME_MAX], prefix[VLNFT_LOG_PREFIX_MAX + 1], set[VLNFT_CHAIN_NAME_MAX + 24];
	char comment[96];

	vlnft_netpol_chain(chain, sizeof(chain), lab, pod, d);
	vlnft_netpol_prefix(prefix, sizeof(prefix), lab, pod, d);
	fprintf(f, "\tchain %s {\n", chain);
	if (d == VL_DIR_IN) {
		fputs("\t\tip saddr ", f);
		put_ip(f, lab->eps[pod].ip);
		fputs(" return\n", f);
	}
	for (size_t k = 0; k < np->n_allow[d]; k++) {
		const struct vl_np_allow *a = &np->allow[d][k];

		fputs("\t\t", f);
		if (!a->any_peer) {
			fprintf(f, "ip %s ", d == VL_DIR_IN ? "saddr" : "daddr");
			if (peers_in_set(a)) {
				allow_set_name(set, sizeof(set), chain, k);
				fprintf(f, "@%s ", set);
			} else {
				put_ip(f, a->peers[0].addr);
				fputc(' ', f);
			}
		}
		if (a->proto != VL_PROTO_ANY) {
			fprintf(f, "meta l4proto %s ", a->proto == VL_PROTO_UDP ? "udp" : "tcp");
			if (a->lo > 1 || a->hi < 65535)
				fprintf(f, a->lo == a->hi ? "th dport %u " : "th dport %u-%u ", a->lo, a->hi);
		}
		allow_comment(comment, sizeof(comment), a, (int)k);
		fprintf(f, "counter return comment \"%s\"\n", comment);
	}
	fputs("\t\t", f);
	vlnft_print_log_limits(f, VLNFT_SET_LOG_NP);
	fprintf(f, "counter log prefix \"%s\" group %d\n", prefix, VL_NFLOG_GROUP);
	fprintf(f, "\t\tcounter drop\n\t}\n\n");
}

void vlnft_netpol_print(const struct vl_lab *lab, int node_ep, FILE *f)
{
	if (!vlnft_netpol_needed(lab, node_ep))
		return;
	fputc('\n', f);
	vlnft_print_log_ceiling(f);
	vlnft_print_pair_meter(f, lab, VLNFT_SET_LOG_NP);
	for (size_t i = 0; i < lab->n_eps; i++)
		for (int d = 0; d < 2; d++)
			if (on_node(lab, (int)i, node_ep) && lab->eff->np[i].isolated[d])
				print_sets(lab, (int)i, (enum vl_dir)d, f);
	for (int d = VL_DIR_OUT; d >= VL_DIR_IN; d--) {
		bool first = true;

		fprintf(f, "\tmap np-%s {\n\t\ttype ipv4_addr : verdict\n", d == VL_DIR_IN ? "in" : "out");
		for (size_t i = 0; i < lab->n_eps; i++) {
			char chain[VLNFT_CHAIN_NAME_MAX];

			if (!on_node(lab, (int)i, node_ep) || !lab->eff->np[i].isolated[d])
				continue;
			vlnft_netpol_chain(chain, sizeof(chain), lab, (int)i, (enum vl_dir)d);
			fprintf(f, "%s", first ? "\t\telements = { " : ", ");
			first = false;
			put_ip(f, lab->eps[i].ip);
			fprintf(f, " : jump %s", chain);
		}
		fprintf(f, "%s\t}\n\n", first ? "" : " }\n");
	}
	for (size_t i = 0; i < lab->n_eps; i++)
		for (int d = 0; d < 2; d++)
			if (on_node(lab, (int)i, node_ep) && lab->eff->np[i].isolated[d])
				print_chain(lab, (int)i, (enum vl_dir)d, f);
	fputs("\tchain np-forward {\n\t\ttype filter hook forward priority filter; policy accept;\n"
	      "\t\tct state established,related accept\n\t\tip saddr vmap @np-out\n\t\tip daddr vmap "
	      "@np-in\n\t}\n",
	      f);
}
