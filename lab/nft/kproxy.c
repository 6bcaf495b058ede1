// SPDX-License-Identifier: MIT
/*
 * kube-proxy of an AKS node, in the node's table beside ip-masq-agent (spec 8.4, 15.4):
 *   chain kube-pre (nat prerouting -100):
 *     iifname "eth0" ip daddr <frontend> <proto> dport <port> -> a pod     (floating IP: what the LB sent)
 *     iifname "eth0" ip daddr <node> <proto> dport <nodePort> -> a pod
 *         (externalTrafficPolicy Cluster: any selected pod, mark 0x4000 to masquerade;
 *          Local: a pod on this node only, the client address kept)
 *     ip daddr <clusterIP|frontend> <proto> dport <port> -> any selected pod  (from the node's pods)
 *   chain kube-out (nat output -100): the same clusterIP/frontend rules for the node itself
 *   chain kube-post (nat postrouting 99): meta mark & 0x4000 masquerade;
 *     ip saddr <pod> ip daddr <pod> masquerade (hairpin: a pod's flow sent back to itself)
 * A pod is chosen as kube-proxy's iptables rules do: rule k of n matches with probability
 * 1/(n-k) (numgen random mod (n-k) == 0), the last one always.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "vnetlab/effective.h"
#include "vnetlab/nft.h"
#include "nft-emit.h"
#include "nft-int.h"

#define KUBE_MARK_MASQ 0x4000u
#define CHAIN_PRE "kube-pre"
#define CHAIN_OUT "kube-out"
#define CHAIN_POST "kube-post"

struct kp_dst {
	const char *chain;
	bool from_eth0; /* match iifname "eth0" (what came through the load balancer or to the NodePort) */
	uint32_t ip;
	uint16_t port;
	uint16_t target;
	uint8_t l4;
	bool local; /* only pods on this node */
	bool masq;
};

/* One DNAT rule of kube-proxy's chains: d, to pod address to_ip, taken one time in `mod` (0: always). */
struct kp_rule {
	struct kp_dst d;
	uint32_t mod;
	uint32_t to_ip;
};

/* kube-proxy's rules of a node, in their order: computed once, sent (vlnft_kproxy_emit) or printed
 * (vlnft_kproxy_print). */
struct kp_rules {
	struct kp_rule *r;
	size_t n, cap;
	uint32_t *hairpin; /* pods of this node a Service selects: their flows back to themselves */
	size_t n_hairpin;
};

static int kp_push(struct kp_rules *k, const struct kp_rule *r)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 8;
		struct kp_rule *v = realloc(k->r, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->r = v;
		k->cap = cap;
	}
	k->r[k->n++] = *r;
	return 0;
}

static int kp_add(const struct vl_lab *lab, int node_ep, const struct vl_service *sv, int c,
		  const struct kp_dst *d, struct kp_rules *k)
{
	int s = (int)(sv - lab->aks[c].services), err = 0;
	size_t n = vl_eff_kproxy_pods(lab, c, s, node_ep, d->local, NULL, 0);
	int *pods = calloc(n ? n : 1, sizeof(*pods));

	if (!pods)
		return -ENOMEM;
	vl_eff_kproxy_pods(lab, c, s, node_ep, d->local, pods, n);
	for (size_t i = 0; i < n && !err; i++) {
		struct kp_rule r = {*d, i + 1 < n ? (uint32_t)(n - i) : 0, lab->eps[pods[i]].ip};

		err = kp_push(k, &r);
	}
	free(pods);
	return err;
}

/* Is pod ep an endpoint of any service of its cluster? */
static bool serves(const struct vl_lab *lab, int ep)
{
	const struct vl_aks *a = &lab->aks[lab->eps[ep].owner];

	for (size_t s = 0; s < a->n_services; s++) {
		const struct vl_svc_pods *sel = vl_eff_service_pods(lab, lab->eps[ep].owner, (int)s);

		for (size_t i = 0; i < sel->n; i++)
			if (sel->pods[i] == ep)
				return true;
	}
	return false;
}

/*
 * A pod's flow to a Service that kube-proxy sends back to that same pod (hairpin) is masqueraded,
 * as kube-proxy's KUBE-SEP chains do (-s <pod> -j KUBE-MARK-MASQ): else the pod would get a packet
 * from its own address and answer it locally, never through the DNAT. Here: ip saddr == ip daddr
 * == the pod, one rule per pod of this node that a Service selects.
 */
static int hairpin_add(const struct vl_lab *lab, int node_ep, struct kp_rules *k)
{
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];
		uint32_t *v;

		if (e->kind != VL_EP_POD || e->node != node_ep || e->virtual_node || !serves(lab, (int)i))
			continue;
		v = realloc(k->hairpin, (k->n_hairpin + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		k->hairpin = v;
		v[k->n_hairpin++] = e->ip;
	}
	return 0;
}

static bool has_services(const struct vl_aks *a)
{
	return a->n_services > 0;
}

static void kp_fini(struct kp_rules *k)
{
	free(k->r);
	free(k->hairpin);
	memset(k, 0, sizeof(*k));
}

/* The rules of node_ep's chains (none without Services). 0 or -ENOMEM. */
static int kp_rules(const struct vl_lab *lab, int node_ep, struct kp_rules *k)
{
	const struct vl_endpoint *node = &lab->eps[node_ep];
	const struct vl_aks *a = &lab->aks[node->owner];
	int err = 0;

	memset(k, 0, sizeof(*k));
	/* External first: through the load balancer (floating IP) and to the NodePort. */
	for (size_t s = 0; s < a->n_services && !err; s++) {
		const struct vl_service *sv = &a->services[s];

		for (size_t p = 0; p < sv->n_ports && !err && sv->type != VL_SVC_CLUSTER_IP; p++) {
			struct kp_dst d = {CHAIN_PRE,
					   true,
					   node->ip,
					   sv->ports[p].node_port,
					   sv->ports[p].target_port,
					   sv->ports[p].proto == VL_PROTO_UDP ? 17 : 6,
					   sv->local,
					   !sv->local};

			err = kp_add(lab, node_ep, sv, node->owner, &d, k);
			if (!err && sv->type == VL_SVC_LB) {
				d.ip = sv->frontend_ip;
				d.port = sv->ports[p].port;
				err = kp_add(lab, node_ep, sv, node->owner, &d, k);
			}
		}
	}
	/* From inside the cluster: the clusterIP, and the frontend without the load balancer. */
	for (size_t s = 0; s < a->n_services && !err; s++) {
		const struct vl_service *sv = &a->services[s];

		for (size_t p = 0; p < sv->n_ports && !err; p++) {
			for (int ch = 0; ch < 2 && !err; ch++) {
				struct kp_dst d = {ch ? CHAIN_OUT : CHAIN_PRE,
						   false,
						   sv->cluster_ip,
						   sv->ports[p].port,
						   sv->ports[p].target_port,
						   sv->ports[p].proto == VL_PROTO_UDP ? 17 : 6,
						   false,
						   false};

				err = kp_add(lab, node_ep, sv, node->owner, &d, k);
				if (!err && sv->type == VL_SVC_LB) {
					d.ip = sv->frontend_ip;
					err = kp_add(lab, node_ep, sv, node->owner, &d, k);
				}
			}
		}
	}
	if (!err)
		err = hairpin_add(lab, node_ep, k);
	if (err)
		kp_fini(k);
	return err;
}

static void kp_emit_rule(const struct kp_rule *r, struct vlnft_batch *b)
{
	uint8_t ip[4], port[2];
	struct vlnft_rx x;
	uint32_t zero = 0;

	if (vlnft_rx_begin(&x, r->d.chain)) {
		b->err = b->err ?: x.err;
		return;
	}
	vlnft_key_be(ip, r->d.ip, 4);
	vlnft_key_be(port, r->d.port, 2);
	if (r->d.from_eth0) {
		vlnft_rx_ifname(&x, NFT_META_IIFNAME, "eth0");
	}
	vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
	vlnft_rx_cmp(&x, NFT_CMP_EQ, ip, 4);
	vlnft_rx_meta(&x, NFT_META_L4PROTO);
	vlnft_rx_cmp(&x, NFT_CMP_EQ, &r->d.l4, 1);
	vlnft_rx_payload(&x, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	vlnft_rx_cmp(&x, NFT_CMP_EQ, port, 2);
	if (r->mod) {
		vlnft_rx_numgen(&x, r->mod);
		vlnft_rx_cmp(&x, NFT_CMP_EQ, &zero, 4);
	}
	vlnft_rx_counter(&x);
	if (r->d.masq) {
		vlnft_rx_imm_host(&x, NFT_REG_1, KUBE_MARK_MASQ);
		vlnft_rx_meta_set(&x, NFT_META_MARK);
	}
	vlnft_rx_imm(&x, r->to_ip);
	vlnft_rx_imm_port(&x, NFT_REG_2, r->d.target);
	vlnft_rx_dnat(&x, true);
	vlnft_rx_end(&x, b, "kube-proxy: dnat to a pod of a service");
}

static void kp_emit_hairpin(uint32_t pod, struct vlnft_batch *b)
{
	struct vlnft_rx x;
	uint8_t ip[4];

	if (vlnft_rx_begin(&x, CHAIN_POST)) {
		b->err = b->err ?: x.err;
		return;
	}
	vlnft_key_be(ip, pod, 4);
	vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
	vlnft_rx_cmp(&x, NFT_CMP_EQ, ip, 4);
	vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
	vlnft_rx_cmp(&x, NFT_CMP_EQ, ip, 4);
	vlnft_rx_counter(&x);
	vlnft_rx_masq(&x);
	vlnft_rx_end(&x, b, "kube-proxy: masquerade a pod's flow back to itself (hairpin)");
}

int vlnft_kproxy_emit(const struct vl_lab *lab, int node_ep, struct vlnft_batch *b)
{
	static const struct vlnft_hook pre = {NF_INET_PRE_ROUTING, -100, "nat"};
	static const struct vlnft_hook out = {NF_INET_LOCAL_OUT, -100, "nat"};
	static const struct vlnft_hook post = {NF_INET_POST_ROUTING, 99, "nat"};
	const struct vl_endpoint *node = &lab->eps[node_ep];
	uint32_t mask = KUBE_MARK_MASQ, zero = 0;
	struct kp_rules k;
	struct vlnft_rx x;

	if (!has_services(&lab->aks[node->owner]))
		return 0;
	if (kp_rules(lab, node_ep, &k))
		return b->err = -ENOMEM;
	vlnft_emit_chain(b, CHAIN_PRE, &pre);
	vlnft_emit_chain(b, CHAIN_OUT, &out);
	vlnft_emit_chain(b, CHAIN_POST, &post);
	for (size_t i = 0; i < k.n && !b->err; i++)
		kp_emit_rule(&k.r[i], b);
	if (!b->err && !vlnft_rx_begin(&x, CHAIN_POST)) {
		vlnft_rx_meta(&x, NFT_META_MARK);
		vlnft_rx_bitwise(&x, &mask, 4);
		vlnft_rx_cmp(&x, NFT_CMP_NEQ, &zero, 4);
		vlnft_rx_counter(&x);
		vlnft_rx_masq(&x);
		vlnft_rx_end(&x, b, "kube-proxy: masquerade marked packets");
	}
	for (size_t i = 0; i < k.n_hairpin && !b->err; i++)
		kp_emit_hairpin(k.hairpin[i], b);
	kp_fini(&k);
	return b->err;
}

/* ---- the same as `nft -f` text (print.c, up --dry-run) ---- */

static void kp_put_ip(FILE *f, uint32_t a)
{
	fprintf(f, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void kp_print_chain(FILE *f, const struct kp_rules *k, const char *chain, const char *hook)
{
	fprintf(f, "\n\tchain %s {\n\t\ttype nat hook %s; policy accept;\n", chain, hook);
	for (size_t i = 0; i < k->n; i++) {
		const struct kp_rule *r = &k->r[i];

		if (strcmp(r->d.chain, chain))
			continue;
		fputs("\t\t", f);
		if (r->d.from_eth0)
			fputs("iifname \"eth0\" ", f);
		fputs("ip daddr ", f);
		kp_put_ip(f, r->d.ip);
		fprintf(f, " %s dport %u ", r->d.l4 == 17 ? "udp" : "tcp", r->d.port);
		if (r->mod)
			fprintf(f, "numgen random mod %u 0 ", r->mod);
		fputs("counter ", f);
		if (r->d.masq)
			fprintf(f, "meta mark set 0x%08x ", KUBE_MARK_MASQ);
		fputs("dnat to ", f);
		kp_put_ip(f, r->to_ip);
		fprintf(f, ":%u\n", r->d.target);
	}
	if (!strcmp(chain, CHAIN_POST)) {
		fprintf(f, "\t\tmeta mark & 0x%08x != 0x00000000 counter masquerade\n", KUBE_MARK_MASQ);
		for (size_t i = 0; i < k->n_hairpin; i++) {
			fputs("\t\tip saddr ", f);
			kp_put_ip(f, k->hairpin[i]);
			fputs(" ip daddr ", f);
			kp_put_ip(f, k->hairpin[i]);
			fputs(" counter masquerade\n", f);
		}
	}
	fputs("\t}\n", f);
}

void vlnft_kproxy_print(const struct vl_lab *lab, int node_ep, FILE *f)
{
	struct kp_rules k;

	if (!has_services(&lab->aks[lab->eps[node_ep].owner]))
		return;
	if (kp_rules(lab, node_ep, &k)) {
		fputs("\t# error: kube-proxy chains: out of memory\n", f);
		return;
	}
	kp_print_chain(f, &k, CHAIN_PRE, "prerouting priority dstnat");
	kp_print_chain(f, &k, CHAIN_OUT, "output priority -100");
	kp_print_chain(f, &k, CHAIN_POST, "postrouting priority srcnat - 1");
	kp_fini(&k);
}
