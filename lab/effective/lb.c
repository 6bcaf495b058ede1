// SPDX-License-Identifier: MIT
/*
 * What Azure derives for the Internet edge and LoadBalancer Services: the
 * address each NIC is seen with on the Internet (spec 14.1, first match: a
 * 0/0 UDR to an appliance or gateway, the subnet's NAT gateway, the VM's
 * instance public IP, the cluster's load-balancer outbound IP, default
 * outbound access), and each frontend with its backends, the pods it
 * selects and the health its probes get (spec 15.4: probes come from
 * 168.63.129.16 and are subject to NSGs). The plan's edge NAT and LB routes,
 * the nodes' kube-proxy rules and the evaluator all read these.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eff-int.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"

#define PROBE_SPORT 50000
#define SOME_INTERNET 0xcb007104u /* 203.0.113.4: what a 0/0 route decides for */

static enum vl_snat_kind nic_snat(const struct vl_lab *lab, const struct vl_effective *e, int i, uint32_t *ip)
{
	const struct vl_endpoint *ep = &lab->eps[i];
	const struct vl_subnet *s = &lab->subnets[ep->subnet];
	const struct vl_eroute *r = vl_eff_route(e, e->subnet_scope[ep->subnet], SOME_INTERNET);
	enum vl_snat_kind k = VL_SNAT_DEFAULT;

	*ip = e->outbound_ip[s->vnet];
	if (s->n_natgw_ips) {
		*ip = s->natgw_ips[0];
		k = VL_SNAT_NATGW;
	} else if (ep->kind == VL_EP_VM && lab->vms[ep->owner].has_public_ip) {
		*ip = lab->vms[ep->owner].public_ip;
		k = VL_SNAT_ILPIP;
	} else if (ep->kind == VL_EP_NODE && lab->aks[ep->owner].outbound_type == VL_OUTBOUND_LB) {
		*ip = lab->aks[ep->owner].outbound_ip;
		k = VL_SNAT_LB;
	}
	if (r && r->prefix.len == 0 && r->source == VL_RSRC_USER &&
	    (r->hop == VL_NH_APPLIANCE || r->hop == VL_NH_GATEWAY))
		k = VL_SNAT_ROUTE;
	return k;
}

static int frontend(const struct vl_lab *lab, struct vl_frontend *f, int c, int s)
{
	const struct vl_aks *a = &lab->aks[c];
	const struct vl_service *sv = &a->services[s];
	const struct vl_svc_pods *sel;

	f->cluster = c;
	f->service = s;
	f->ip = sv->frontend_ip;
	f->probe_port = sv->local ? sv->health_port : sv->ports[0].node_port;
	f->backends = calloc((size_t)a->node_count, sizeof(*f->backends));
	sel = vl_eff_service_pods(lab, c, s);
	f->pods = calloc(sel->n ? sel->n : 1, sizeof(*f->pods));
	if (!f->backends || !f->pods)
		return -ENOMEM;
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *ep = &lab->eps[i];

		if (ep->owner != c)
			continue;
		if (ep->kind == VL_EP_NODE) {
			f->backends[f->n_backends].node = (int)i;
			f->backends[f->n_backends].nsg = VL_NONE;
			f->n_backends++;
		}
	}
	/* every endpoint of the service, virtual-node pods included; the virtual node itself is no
	 * backend (node.kubernetes.io/exclude-from-external-load-balancers, spec 17) */
	if (sel->n) /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(f->pods, sel->pods, sel->n * sizeof(*f->pods));
	f->n_pods = sel->n;
	for (size_t b = 0; b < f->n_backends; b++)
		for (size_t p = 0; p < f->n_pods; p++)
			f->backends[b].local_pods += lab->eps[f->pods[p]].node == f->backends[b].node;
	return 0;
}

/* The probe from 168.63.129.16 into a node: its subnet NSG, then its NIC NSG (spec 15.4). */
static void probe(const struct vl_lab *lab, const struct vl_frontend *f, struct vl_backend *b)
{
	const struct vl_endpoint *node = &lab->eps[b->node];
	const struct vl_service *sv = &lab->aks[f->cluster].services[f->service];
	struct vl_flow fl = {VL_PROTO_TCP, VL_IP_AZURE_PLATFORM, PROBE_SPORT, node->ip, f->probe_port};
	int scope = vl_eff_endpoint_scope(lab, b->node);
	int nsgs[2] = {lab->subnets[node->subnet].nsg, node->nic_nsg};

	b->healthy = true;
	b->nsg = VL_NONE;
	b->rule = NULL;
	b->why[0] = '\0';
	for (int i = 0; i < 2; i++) {
		const struct vl_rule *r;

		if (nsgs[i] == VL_NONE)
			continue;
		r = vl_eval_nsg(lab, nsgs[i], scope, VL_DIR_IN, &fl);
		if (!r || r->access == VL_DENY) {
			b->healthy = false;
			b->nsg = nsgs[i];
			b->rule = r;
			snprintf(b->why, sizeof(b->why), "probe from 168.63.129.16 dropped by %s/%s",
				 lab->nsgs[nsgs[i]].name, r ? r->name : "?");
			return;
		}
	}
	if (sv->local && !b->local_pods) {
		b->healthy = false;
		snprintf(b->why, sizeof(b->why),
			 "no local pod (externalTrafficPolicy Local: /healthz says 503)");
	} else if (!f->n_pods) {
		b->healthy = false;
		snprintf(b->why, sizeof(b->why), "the service selects no running pod");
	}
}

void vl_eff_lb_health(struct vl_lab *lab)
{
	if (!lab->eff)
		return;
	for (size_t i = 0; i < lab->eff->n_frontends; i++)
		for (size_t b = 0; b < lab->eff->frontends[i].n_backends; b++)
			probe(lab, &lab->eff->frontends[i], &lab->eff->frontends[i].backends[b]);
}

int vleff_lb_build(struct vl_lab *lab, struct vl_effective *e)
{
	size_t n = 0;
	int rc = 0;

	e->snat_ip = calloc(lab->n_eps ? lab->n_eps : 1, sizeof(*e->snat_ip));
	e->snat_kind = calloc(lab->n_eps ? lab->n_eps : 1, sizeof(*e->snat_kind));
	if (!e->snat_ip || !e->snat_kind)
		return -ENOMEM;
	for (size_t i = 0; i < lab->n_eps; i++)
		if (lab->eps[i].nic == (int)i && lab->eps[i].subnet != VL_NONE)
			e->snat_kind[i] = nic_snat(lab, e, (int)i, &e->snat_ip[i]);
	for (size_t c = 0; c < lab->n_aks; c++)
		for (size_t s = 0; s < lab->aks[c].n_services; s++)
			n += lab->aks[c].services[s].type == VL_SVC_LB;
	e->frontends = calloc(n ? n : 1, sizeof(*e->frontends));
	if (!e->frontends)
		return -ENOMEM;
	for (size_t c = 0; c < lab->n_aks && !rc; c++)
		for (size_t s = 0; s < lab->aks[c].n_services && !rc; s++)
			if (lab->aks[c].services[s].type == VL_SVC_LB)
				rc = frontend(lab, &e->frontends[e->n_frontends++], (int)c, (int)s);
	return rc;
}

void vleff_lb_free(struct vl_effective *e)
{
	for (size_t i = 0; i < e->n_frontends; i++) {
		free(e->frontends[i].backends);
		free(e->frontends[i].pods);
	}
	free(e->frontends);
	free(e->snat_ip);
	free(e->snat_kind);
}

const struct vl_frontend *vl_eff_frontend(const struct vl_effective *e, uint32_t ip)
{
	for (size_t i = 0; e && i < e->n_frontends; i++)
		if (e->frontends[i].ip == ip)
			return &e->frontends[i];
	return NULL;
}

int vl_eff_cluster_ip(const struct vl_lab *lab, int c, uint32_t ip)
{
	if (c < 0 || (size_t)c >= lab->n_aks)
		return VL_NONE;
	for (size_t s = 0; s < lab->aks[c].n_services; s++)
		if (lab->aks[c].services[s].cluster_ip == ip)
			return (int)s;
	return VL_NONE;
}

int vl_eff_node_port(const struct vl_lab *lab, int c, enum vl_proto proto, uint16_t port,
		     const struct vl_svc_port **sp)
{
	if (c < 0 || (size_t)c >= lab->n_aks || !port)
		return VL_NONE;
	for (size_t s = 0; s < lab->aks[c].n_services; s++) {
		const struct vl_service *sv = &lab->aks[c].services[s];

		for (size_t p = 0; p < sv->n_ports && sv->type != VL_SVC_CLUSTER_IP; p++)
			if (sv->ports[p].node_port == port && sv->ports[p].proto == proto) {
				if (sp)
					*sp = &sv->ports[p];
				return (int)s;
			}
	}
	return VL_NONE;
}

int vl_eff_ilpip_owner(const struct vl_lab *lab, uint32_t ip)
{
	for (size_t i = 0; i < lab->n_eps; i++)
		if (lab->eps[i].kind == VL_EP_VM && lab->vms[lab->eps[i].owner].has_public_ip &&
		    lab->vms[lab->eps[i].owner].public_ip == ip)
			return (int)i;
	return VL_NONE;
}

uint32_t vl_eff_snat_for(const struct vl_lab *lab, int vnet, uint32_t src, enum vl_snat_kind *kind)
{
	const struct vl_effective *e = lab->eff;

	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *ep = &lab->eps[i];

		if (ep->ip != src || ep->nic != (int)i || ep->subnet == VL_NONE ||
		    lab->subnets[ep->subnet].vnet != vnet)
			continue;
		if (kind)
			*kind = e->snat_kind[i] == VL_SNAT_ROUTE ? VL_SNAT_DEFAULT : e->snat_kind[i];
		return e->snat_ip[i];
	}
	if (kind)
		*kind = VL_SNAT_DEFAULT;
	return e->outbound_ip[vnet];
}

const char *vl_snat_kind_name(enum vl_snat_kind k)
{
	static const char *const names[] = {"default outbound access", "NAT gateway", "instance public IP",
					    "load balancer outbound rule", "a 0.0.0.0/0 user route"};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}
