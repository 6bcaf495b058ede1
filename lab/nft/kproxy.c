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

static int kp_rules(const struct vl_lab *lab, int node_ep, const struct vl_service *sv, int c,
		    const struct kp_dst *d, struct vlnft_batch *b)
{
	char eth0[IFNAMSIZ] = "eth0";
	uint8_t ip[4], port[2];
	int s = (int)(sv - lab->aks[c].services);
	size_t n = vl_eff_kproxy_pods(lab, c, s, node_ep, d->local, NULL, 0);
	int *pods = calloc(n ? n : 1, sizeof(*pods));

	if (!pods)
		return b->err = -ENOMEM;
	vl_eff_kproxy_pods(lab, c, s, node_ep, d->local, pods, n);
	vlnft_key_be(ip, d->ip, 4);
	vlnft_key_be(port, d->port, 2);
	for (size_t k = 0; k < n && !b->err; k++) {
		struct vlnft_rx x;
		uint32_t zero = 0;

		if (vlnft_rx_begin(&x, d->chain))
			break;
		if (d->from_eth0) {
			vlnft_rx_meta(&x, NFT_META_IIFNAME);
			vlnft_rx_cmp(&x, NFT_CMP_EQ, eth0, IFNAMSIZ);
		}
		vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
		vlnft_rx_cmp(&x, NFT_CMP_EQ, ip, 4);
		vlnft_rx_meta(&x, NFT_META_L4PROTO);
		vlnft_rx_cmp(&x, NFT_CMP_EQ, &d->l4, 1);
		vlnft_rx_payload(&x, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		vlnft_rx_cmp(&x, NFT_CMP_EQ, port, 2);
		if (k + 1 < n) {
			vlnft_rx_numgen(&x, (uint32_t)(n - k));
			vlnft_rx_cmp(&x, NFT_CMP_EQ, &zero, 4);
		}
		vlnft_rx_counter(&x);
		if (d->masq) {
			vlnft_rx_imm_host(&x, NFT_REG_1, KUBE_MARK_MASQ);
			vlnft_rx_meta_set(&x, NFT_META_MARK);
		}
		vlnft_rx_imm(&x, lab->eps[pods[k]].ip);
		vlnft_rx_imm_port(&x, NFT_REG_2, d->target);
		vlnft_rx_dnat(&x, true);
		vlnft_rx_end(&x, b, "kube-proxy: dnat to a pod of a service");
	}
	free(pods);
	return b->err;
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
static int hairpin_rules(const struct vl_lab *lab, int node_ep, struct vlnft_batch *b)
{
	for (size_t i = 0; i < lab->n_eps && !b->err; i++) {
		const struct vl_endpoint *e = &lab->eps[i];
		struct vlnft_rx x;
		uint8_t ip[4];

		if (e->kind != VL_EP_POD || e->node != node_ep || e->virtual_node || !serves(lab, (int)i))
			continue;
		if (vlnft_rx_begin(&x, CHAIN_POST))
			break;
		vlnft_key_be(ip, e->ip, 4);
		vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
		vlnft_rx_cmp(&x, NFT_CMP_EQ, ip, 4);
		vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
		vlnft_rx_cmp(&x, NFT_CMP_EQ, ip, 4);
		vlnft_rx_counter(&x);
		vlnft_rx_masq(&x);
		vlnft_rx_end(&x, b, "kube-proxy: masquerade a pod's flow back to itself (hairpin)");
	}
	return b->err;
}

static bool has_services(const struct vl_aks *a)
{
	return a->n_services > 0;
}

int vlnft_kproxy_emit(const struct vl_lab *lab, int node_ep, struct vlnft_batch *b)
{
	static const struct vlnft_hook pre = {NF_INET_PRE_ROUTING, -100, "nat"};
	static const struct vlnft_hook out = {NF_INET_LOCAL_OUT, -100, "nat"};
	static const struct vlnft_hook post = {NF_INET_POST_ROUTING, 99, "nat"};
	const struct vl_endpoint *node = &lab->eps[node_ep];
	const struct vl_aks *a = &lab->aks[node->owner];
	uint32_t mask = KUBE_MARK_MASQ, zero = 0;
	struct vlnft_rx x;

	if (!has_services(a))
		return 0;
	vlnft_emit_chain(b, CHAIN_PRE, &pre);
	vlnft_emit_chain(b, CHAIN_OUT, &out);
	vlnft_emit_chain(b, CHAIN_POST, &post);
	/* External first: through the load balancer (floating IP) and to the NodePort. */
	for (size_t s = 0; s < a->n_services && !b->err; s++) {
		const struct vl_service *sv = &a->services[s];

		for (size_t p = 0; p < sv->n_ports && !b->err && sv->type != VL_SVC_CLUSTER_IP; p++) {
			struct kp_dst d = {CHAIN_PRE,
					   true,
					   node->ip,
					   sv->ports[p].node_port,
					   sv->ports[p].target_port,
					   sv->ports[p].proto == VL_PROTO_UDP ? 17 : 6,
					   sv->local,
					   !sv->local};

			kp_rules(lab, node_ep, sv, node->owner, &d, b);
			if (sv->type == VL_SVC_LB) {
				d.ip = sv->frontend_ip;
				d.port = sv->ports[p].port;
				kp_rules(lab, node_ep, sv, node->owner, &d, b);
			}
		}
	}
	/* From inside the cluster: the clusterIP, and the frontend without the load balancer. */
	for (size_t s = 0; s < a->n_services && !b->err; s++) {
		const struct vl_service *sv = &a->services[s];

		for (size_t p = 0; p < sv->n_ports && !b->err; p++) {
			for (int ch = 0; ch < 2; ch++) {
				struct kp_dst d = {ch ? CHAIN_OUT : CHAIN_PRE,
						   false,
						   sv->cluster_ip,
						   sv->ports[p].port,
						   sv->ports[p].target_port,
						   sv->ports[p].proto == VL_PROTO_UDP ? 17 : 6,
						   false,
						   false};

				kp_rules(lab, node_ep, sv, node->owner, &d, b);
				if (sv->type == VL_SVC_LB) {
					d.ip = sv->frontend_ip;
					kp_rules(lab, node_ep, sv, node->owner, &d, b);
				}
			}
		}
	}
	if (b->err || vlnft_rx_begin(&x, CHAIN_POST))
		return b->err;
	vlnft_rx_meta(&x, NFT_META_MARK);
	vlnft_rx_bitwise(&x, &mask, 4);
	vlnft_rx_cmp(&x, NFT_CMP_NEQ, &zero, 4);
	vlnft_rx_counter(&x);
	vlnft_rx_masq(&x);
	if (vlnft_rx_end(&x, b, "kube-proxy: masquerade marked packets"))
		return b->err;
	return hairpin_rules(lab, node_ep, b);
}
