/* SPDX-License-Identifier: MIT */
/*
 * ip-masq-agent of an AKS node, in the node's namespace:
 *   kubenet: ip saddr <node pod /24> oifname "eth0" ip daddr != @nonmasq masquerade
 *   azure:   ip saddr != <node ip>   oifname "eth0" ip daddr != @nonmasq masquerade
 * nonmasq: the cluster's list in the effective model (vnetlab/effective.h).
 * The same table holds kube-proxy's chains when the cluster has Services (kproxy.c).
 */
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

int vlnft_masq_params(const struct vl_lab *lab, int node_ep, struct vlnft_masq *m, char *why, size_t why_len)
{
	const struct vl_endpoint *ep;
	const struct vl_aks *aks;
	size_t i;
	int err = 0;

	memset(m, 0, sizeof(*m));
	if (node_ep < 0 || (size_t)node_ep >= lab->n_eps || lab->eps[node_ep].kind != VL_EP_NODE) {
		snprintf(why, why_len, "endpoint #%d is not an AKS node", node_ep);
		return -EINVAL;
	}
	ep = &lab->eps[node_ep];
	if (ep->owner < 0 || (size_t)ep->owner >= lab->n_aks) {
		snprintf(why, why_len, "node %s: no cluster", ep->name);
		return -EINVAL;
	}
	aks = &lab->aks[ep->owner];
	m->plugin = aks->plugin;
	m->node_ip = ep->ip;
	m->pod_cidr = ep->pod_cidr;
	for (i = 0; i < lab->eff->n_nonmasq[ep->owner] && !err; i++) {
		struct vl_prefix p = lab->eff->nonmasq[ep->owner][i];

		err = vlnft_ivals_push(&m->nonmasq, p.addr, vlnft_prefix_last(p));
	}
	if (err) {
		vlnft_ivals_free(&m->nonmasq);
		snprintf(why, why_len, "node %s: %s", ep->name, strerror(-err));
		return err;
	}
	vlnft_ivals_merge(&m->nonmasq);
	return 0;
}

int vlnft_masq_build(const struct vl_lab *lab, int node_ep, struct vlnft_batch *b, char *why, size_t why_len)
{
	static const struct vlnft_hook post = {NF_INET_POST_ROUTING, 100, "nat"};
	struct vlnft_set_spec spec = {
	    .name = VLNFT_SET_NONMASQ,
	    .flags = NFT_SET_INTERVAL,
	    .key_type = VLNFT_TYPE_IPADDR,
	    .key_len = 4,
	};
	struct vlnft_addr saddr = {.kind = VLNFT_A_IVALS};
	struct vlnft_masq m;
	struct vlnft_elem *e = NULL;
	struct vlnft_rx x;
	uint8_t key[4];
	size_t n;
	int err;

	err = vlnft_masq_params(lab, node_ep, &m, why, why_len);
	if (err)
		return err;
	err = vlnft_batch_init(b);
	if (!err)
		err = vlnft_ival_elems(&m.nonmasq, 4, &e, &n);
	if (err)
		goto out;
	vlnft_emit_table(b, true);
	vlnft_emit_set(b, &spec, e, n, NULL);
	vlnft_emit_chain(b, VLNFT_CHAIN_POSTROUTING, &post);
	if (vlnft_rx_begin(&x, VLNFT_CHAIN_POSTROUTING)) {
		err = x.err;
		goto out;
	}
	if (m.plugin == VL_PLUGIN_KUBENET) {
		err = vlnft_ivals_push(&saddr.iv, m.pod_cidr.addr, vlnft_prefix_last(m.pod_cidr));
		if (!err)
			vlnft_match_addr(b, &x, 12, &saddr);
		vlnft_ivals_free(&saddr.iv);
	} else {
		vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
		vlnft_key_be(key, m.node_ip, 4);
		vlnft_rx_cmp(&x, NFT_CMP_NEQ, key, 4);
	}
	vlnft_rx_ifname(&x, NFT_META_OIFNAME, "eth0");
	vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
	vlnft_rx_lookup(&x, VLNFT_SET_NONMASQ, 0, true, false);
	vlnft_rx_counter(&x);
	vlnft_rx_masq(&x);
	if (err)
		x.err = err;
	err = vlnft_rx_end(&x, b, "masquerade rule");
	if (!err)
		err = vlnft_kproxy_emit(lab, node_ep, b);
	if (!err)
		err = vlnft_netpol_emit(lab, node_ep, b);
	if (!err)
		err = vlnft_batch_finish(b);
out:
	free(e);
	vlnft_ivals_free(&m.nonmasq);
	if (err) {
		if (!why[0])
			snprintf(why, why_len, "masquerade of %s: %s", lab->eps[node_ep].name,
				 strerror(-err));
		vlnft_batch_fini(b);
	}
	return err;
}
