// SPDX-License-Identifier: MIT
/*
 * AKS in the graph: a cluster's box in its subnet with its nodes, its pods (tied to their node:
 * over cbr0 with kubenet, routed with Azure CNI) and its Services (an edge to each pod they
 * select), and the LoadBalancer frontends with their backends and the health the effective
 * model computed for each.
 */
#include <stdio.h>
#include <stdlib.h>

#include "graph-int.h"
#include "vnetlab/effective.h"
#include "vnetlab/ip.h"

static const char *svc_type(enum vl_svc_type t)
{
	return t == VL_SVC_LB ? "LoadBalancer" : t == VL_SVC_NODE_PORT ? "NodePort" : "ClusterIP";
}

char *gb_svc_ports(struct gb *b, const struct vl_service *s)
{
	char *l = gb_fmt(b, "%s", "");

	for (size_t i = 0; i < s->n_ports && l; i++) {
		char *r = gb_fmt(b, "%s%s%u/%s", l, i ? ", " : "", s->ports[i].port,
				 s->ports[i].proto == VL_PROTO_UDP ? "UDP" : "TCP");

		free(l);
		l = r;
	}
	return l;
}

void gb_aks_cluster(struct gb *b, int c, int sc)
{
	const struct vl_lab *lab = b->lab;
	const struct vl_aks *k = &lab->aks[c];
	char a[VL_PREFIX_STRLEN], ip[VL_IP_STRLEN];
	char *l;
	int kc;

	if (k->plugin == VL_PLUGIN_KUBENET)
		l = gb_fmt(b, "AKS %s · kubenet\npod CIDR %s", k->name, vl_prefix_fmt(k->pod_cidr, a));
	else
		l = gb_fmt(b, "AKS %s · Azure CNI\npods take subnet addresses", k->name);
	if (k->outbound_type == VL_OUTBOUND_LB && k->outbound_ip) {
		char *line = gb_fmt(b, "outbound IP %s", vl_ip_fmt(k->outbound_ip, ip));

		if (line)
			l = gb_cat(b, l, line);
		free(line);
	}
	kc = gb_add_cluster(b, gb_fmt(b, "aks:%s", k->name), l, VL_GC_AKS, sc, c);
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->kind != VL_EP_NODE || e->owner != c)
			continue;
		if (e->pod_cidr.len)
			l = gb_fmt(b, "node %s\n%s\npods %s", e->name, vl_ip_fmt(e->ip, ip),
				   vl_prefix_fmt(e->pod_cidr, a));
		else
			l = gb_fmt(b, "node %s\n%s", e->name, vl_ip_fmt(e->ip, ip));
		b->ep_node[i] = gb_add_node(b, gb_fmt(b, "ep:%s", e->name), l, VL_GN_NODE, kc, (int)i);
	}
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->kind != VL_EP_POD || e->owner != c || e->virtual_node)
			continue;
		b->ep_node[i] = gb_add_node(b, gb_fmt(b, "ep:%s", e->name),
					    gb_fmt(b, "pod %s\n%s", e->name, vl_ip_fmt(e->ip, ip)), VL_GN_POD,
					    kc, (int)i);
		gb_add_edge(b, gb_node(b->ep_node[i]), gb_node(b->ep_node[e->node]), VL_GE_POD,
			    k->plugin == VL_PLUGIN_KUBENET ? gb_fmt(b, "cbr0") : NULL, false, false);
	}
	for (size_t s = 0; s < k->n_services; s++) {
		const struct vl_service *sv = &k->services[s];
		const struct vl_svc_pods *sel = vl_eff_service_pods(lab, c, (int)s);
		char *ports = gb_svc_ports(b, sv);
		int n;

		n = gb_add_node(b, gb_fmt(b, "svc:%s/%s", k->name, sv->name),
				ports ? gb_fmt(b, "service %s\n%s %s\n%s", sv->name, svc_type(sv->type),
					       vl_ip_fmt(sv->cluster_ip, ip), ports)
				      : NULL,
				VL_GN_SERVICE, kc, (int)s);
		free(ports);
		for (size_t i = 0; i < sel->n; i++) /* virtual-node pods drawn already, or later (gb_aks_vnode) */
			gb_add_edge(b, gb_node(n), gb_node(b->ep_node[sel->pods[i]]), VL_GE_SELECTS, NULL, true,
				    false);
	}
}

void gb_aks_vnode(struct gb *b, int c, int sc)
{
	const struct vl_lab *lab = b->lab;
	const struct vl_aks *k = &lab->aks[c];
	char ip[VL_IP_STRLEN], vn[VL_ENDPOINT_NAME_MAX + 16];
	int box, node;

	box = gb_add_cluster(b, gb_fmt(b, "vnode:%s", k->name),
			     gb_fmt(b, "AKS %s · virtual node\ncontainer groups", k->name), VL_GC_AKS, sc, c);
	node = gb_add_node(b, gb_fmt(b, "vk:%s", k->name),
			   gb_fmt(b, "virtual node\n%s", vl_aks_node_name(k, k->node_count, vn, sizeof(vn))),
			   VL_GN_NODE, box, VL_NONE);
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->kind != VL_EP_POD || e->owner != c || !e->virtual_node)
			continue;
		b->ep_node[i] = gb_add_node(b, gb_fmt(b, "ep:%s", e->name),
					    gb_fmt(b, "pod %s\n%s", e->name, vl_ip_fmt(e->ip, ip)), VL_GN_POD,
					    box, (int)i);
		gb_add_edge(b, gb_node(b->ep_node[i]), gb_node(node), VL_GE_POD, NULL, false, false);
	}
	/* the Services drawn before this box (their cluster's subnet came first) select these pods now */
	for (size_t s = 0; s < k->n_services; s++) {
		const struct vl_svc_pods *sel = vl_eff_service_pods(lab, c, (int)s);
		char *id = gb_fmt(b, "svc:%s/%s", k->name, k->services[s].name);
		int n = id ? vl_graph_find_node(b->g, id) : VL_NONE;

		free(id);
		for (size_t i = 0; n != VL_NONE && i < sel->n; i++)
			if (lab->eps[sel->pods[i]].virtual_node)
				gb_add_edge(b, gb_node(n), gb_node(b->ep_node[sel->pods[i]]), VL_GE_SELECTS, NULL,
					    true, false);
	}
}

/* LoadBalancer frontends (in the Internet box) with an edge to each backend node. */
void gb_frontends(struct gb *b)
{
	const struct vl_lab *lab = b->lab;
	const struct vl_effective *eff = lab->eff;
	char ip[VL_IP_STRLEN];

	for (size_t f = 0; f < eff->n_frontends; f++) {
		const struct vl_frontend *fe = &eff->frontends[f];
		const struct vl_aks *k = &lab->aks[fe->cluster];
		const struct vl_service *sv = &k->services[fe->service];
		char *ports = gb_svc_ports(b, sv);
		int n;

		n = gb_add_node(
		    b, gb_fmt(b, "fe:%s/%s", k->name, sv->name),
		    ports ? gb_fmt(b, "LB frontend %s\n%s %s", sv->name, vl_ip_fmt(fe->ip, ip), ports) : NULL,
		    VL_GN_FRONTEND, b->internet_c, (int)f);
		free(ports);
		for (size_t i = 0; i < fe->n_backends; i++) {
			const struct vl_backend *be = &fe->backends[i];

			gb_add_edge(b, gb_node(n), gb_node(b->ep_node[be->node]), VL_GE_BACKEND,
				    be->healthy ? gb_fmt(b, "backend") : gb_fmt(b, "probe fails"), true,
				    !be->healthy);
		}
	}
}
