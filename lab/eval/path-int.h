/* SPDX-License-Identifier: MIT */
/*
 * Shared by the parts of the path walk: where a flow starts and how it ends (path.c), its trips
 * through the VNets and the verdict's primitives (trip.c), kube-proxy and LoadBalancer frontends
 * (kproxy.c), the Azure platform addresses (platform.c). A verdict is filled in place; a hop
 * returned by vlev_hop_new() belongs to the verdict.
 */
#ifndef VNETLAB_EVAL_PATH_INT_H
#define VNETLAB_EVAL_PATH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnetlab/effective.h"
#include "vnetlab/eval.h"

/* The backend a flow is evaluated with (vl_eval_path_pick): NULL, or a field VL_NONE, means the
 * evaluator's own choice. */
struct vlev_pick {
	int node; /* the load balancer's backend node */
	int pod;  /* kube-proxy's pod (on the source's node, the LB's node, or the NodePort's node) */
};

/* trip.c */
void vlev_note(struct vl_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The flow ends here with outcome o, fmt saying why. */
void vlev_end(struct vl_verdict *v, enum vl_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The next hop of v, of type t, its indexes VL_NONE (past VL_MAX_HOPS: a spare, never reported). */
struct vl_hop *vlev_hop_new(struct vl_verdict *v, enum vl_hop_type t);
bool vlev_valid_ep(const struct vl_lab *lab, int i);
int vlev_ep_vnet(const struct vl_lab *lab, int ep);
/* The cluster of a pod or node, else NULL. */
const struct vl_aks *vlev_ep_cluster(const struct vl_lab *lab, const struct vl_endpoint *e);
bool vlev_is_kubenet_pod(const struct vl_lab *lab, const struct vl_endpoint *e);
/* The Internet host (kind VL_EP_INTERNET) or host of on-premises network owner holding dst, or VL_NONE. */
int vlev_outside_holder(const struct vl_lab *lab, enum vl_ep_kind kind, int owner, uint32_t dst);
/* An effective route in words, into buf; returns buf. */
const char *vlev_route_words(const struct vl_lab *lab, const struct vl_eroute *r, char *buf, size_t len);
int vlev_nic_nsg(const struct vl_lab *lab, int nic);  /* VL_NONE: none */
int vlev_subnet_nsg(const struct vl_lab *lab, int s); /* VL_NONE: none */
/* The NSGs into NIC nic on the way to dst_ep (subnet, then NIC); false when one denied. */
bool vlev_nsgs_in(const struct vl_lab *lab, struct vl_verdict *v, int nic, int dst_ep,
		  const struct vl_flow *f);
/* From VNet vnet (sent by NIC nic of endpoint src_ep, or VL_NONE from an edge): trip by trip; a
 * NodePort reached on the way picks pick->pod when it may. */
void vlev_travel(const struct vl_lab *lab, struct vl_verdict *v, int vnet, int nic, int src_ep,
		 struct vl_flow *f, const struct vlev_pick *pick);

/* kproxy.c: pick NULL, or a field VL_NONE, means the evaluator's own choice (vl_eval_path_pick). */
void vlev_to_frontend(const struct vl_lab *lab, struct vl_verdict *v, const struct vl_frontend *fe,
		      struct vl_flow *f, const struct vlev_pick *pick);
/* A flow to a Service, as kube-proxy and the load balancer see it: from the Internet to a
 * frontend (fe set, node VL_NONE), from a pod or node of the cluster to a clusterIP or a
 * frontend of its own cluster (kube-proxy on `node`), or from outside node `node` to its
 * nodeIP:nodePort (node_port; local: externalTrafficPolicy Local, only that node's pods). */
struct vlev_service_flow {
	int cluster, service;
	const struct vl_frontend *fe;
	int node;
	bool node_port, local;
};
/* Is the flow from endpoint `from` to dst:dport a flow to a Service port? */
bool vlev_service_flow(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t dport,
		       struct vlev_service_flow *out);
bool vlev_in_cluster_service(const struct vl_lab *lab, struct vl_verdict *v, const struct vl_endpoint *src,
			     int node, struct vl_flow *f, const struct vlev_pick *pick);
/* A flow reaching node `node` from src_ep: to one of its NodePorts, kube-proxy on it (true), or not. */
bool vlev_to_node_port(const struct vl_lab *lab, struct vl_verdict *v, int node, int src_ep,
		       struct vl_flow *f, const struct vlev_pick *pick);

/* backends.c: v->backends of a verdict vl_eval_path_pick() made without a pick. */
void vlev_backends_fill(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
			uint16_t dport, struct vl_verdict *v);

/* platform.c */
void vlev_platform_path(const struct vl_lab *lab, struct vl_verdict *v, int nic, int src_ep,
			const struct vl_flow *f);

#endif
