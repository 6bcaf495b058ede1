// SPDX-License-Identifier: MIT
/*
 * Public addresses and service numbers Azure and Kubernetes hand out: the
 * public IPs written `true` or left out (instance public IPs, NAT gateways,
 * a cluster's outbound IP, LoadBalancer frontends), clusterIPs, nodePorts,
 * healthCheckNodePorts and UIDs. 198.51.100.0/25 is the lab's Azure public
 * space: default outbound addresses count up from .4 (one per VNet), the
 * others count down from .127, so both stay put when the other list grows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eff-int.h"
#include "vnetlab/ip.h"

#define PUBLIC_TOP 0xc633647fu	   /* 198.51.100.127 */
#define OUTBOUND_FIRST 0xc6336404u /* 198.51.100.4 */
#define NODE_PORT_LO 30000
#define NODE_PORT_HI 32767

struct pub {
	uint32_t *ip;
	struct vl_loc loc;
	char what[160];
};

struct pubs {
	struct pub *v;
	size_t n, cap;
};

static int pub_add(struct pubs *p, uint32_t *ip, struct vl_loc loc, const char *what, const char *a,
		   const char *b)
{
	if (p->n == p->cap) {
		size_t c = p->cap ? 2 * p->cap : 32;
		struct pub *v = realloc(p->v, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = c;
	}
	p->v[p->n].ip = ip;
	p->v[p->n].loc = loc;
	snprintf(p->v[p->n].what, sizeof(p->v[p->n].what), "%s '%s'%s%s%s", what, a,
		 b[0] ? " of cluster '" : "", b, b[0] ? "'" : "");
	p->n++;
	return 0;
}

static int collect(struct vl_lab *lab, struct pubs *p)
{
	int rc = 0;

	for (size_t i = 0; i < lab->n_vms && !rc; i++)
		if (lab->vms[i].has_public_ip)
			rc = pub_add(p, &lab->vms[i].public_ip, lab->vms[i].public_ip_loc,
				     "publicIpAddress of vm", lab->vms[i].name, "");
	for (size_t s = 0; s < lab->n_subnets && !rc; s++)
		for (size_t i = 0; i < lab->subnets[s].n_natgw_ips && !rc; i++)
			rc = pub_add(p, &lab->subnets[s].natgw_ips[i], lab->subnets[s].natgw_loc,
				     "public IP of NAT gateway", lab->subnets[s].natgw, "");
	for (size_t c = 0; c < lab->n_aks && !rc; c++) {
		struct vl_aks *a = &lab->aks[c];

		if (a->outbound_type == VL_OUTBOUND_LB)
			rc = pub_add(p, &a->outbound_ip, a->loc, "outboundIp of cluster", a->name, "");
		for (size_t j = 0; j < a->n_services && !rc; j++)
			if (a->services[j].type == VL_SVC_LB)
				rc = pub_add(p, &a->services[j].frontend_ip, a->services[j].frontend_loc,
					     "frontend of service", a->services[j].name, a->name);
	}
	return rc;
}

static bool taken(const struct pubs *p, uint32_t ip)
{
	for (size_t i = 0; i < p->n; i++)
		if (*p->v[i].ip == ip)
			return true;
	return false;
}

static int check_given(struct vl_lab *lab, const struct pubs *p, struct vl_error *err)
{
	char a[VL_IP_STRLEN];

	for (size_t i = 0; i < p->n; i++) {
		uint32_t ip = *p->v[i].ip;

		if (!ip)
			continue;
		for (size_t j = 0; j < i; j++)
			if (*p->v[j].ip == ip) {
				vl_error_set(err, lab->file, p->v[i].loc, "%s: %s is already the %s",
					     p->v[i].what, vl_ip_fmt(ip, a), p->v[j].what);
				return -EINVAL;
			}
		if (ip >= OUTBOUND_FIRST && ip < OUTBOUND_FIRST + lab->n_vnets) {
			vl_error_set(err, lab->file, p->v[i].loc,
				     "%s: %s is the default outbound address of vnet '%s'", p->v[i].what,
				     vl_ip_fmt(ip, a), lab->vnets[ip - OUTBOUND_FIRST].name);
			return -EINVAL;
		}
		for (size_t h = 0; h < lab->n_internet_hosts; h++)
			if (lab->internet_hosts[h].address == ip) {
				vl_error_set(err, lab->file, p->v[i].loc,
					     "%s: %s is the address of Internet host '%s'", p->v[i].what,
					     vl_ip_fmt(ip, a), lab->internet_hosts[h].name);
				return -EINVAL;
			}
	}
	return 0;
}

static int allocate(struct vl_lab *lab, struct pubs *p, struct vl_error *err)
{
	uint32_t next = PUBLIC_TOP;

	for (size_t i = 0; i < p->n; i++) {
		if (*p->v[i].ip)
			continue;
		while (next >= OUTBOUND_FIRST + lab->n_vnets && taken(p, next))
			next--;
		if (next < OUTBOUND_FIRST + lab->n_vnets) {
			vl_error_set(
			    err, lab->file, p->v[i].loc,
			    "%s: no public address left in 198.51.100.0/25 (give one from 192.0.2.0/24 or "
			    "203.0.113.0/24)",
			    p->v[i].what);
			return -EINVAL;
		}
		*p->v[i].ip = next--;
	}
	return 0;
}

static bool port_used(const struct vl_aks *a, uint16_t port)
{
	for (size_t i = 0; i < a->n_services; i++) {
		if (a->services[i].health_port == port)
			return true;
		for (size_t j = 0; j < a->services[i].n_ports; j++)
			if (a->services[i].ports[j].node_port == port)
				return true;
	}
	return false;
}

static int service_numbers(struct vl_lab *lab, struct vl_aks *a, struct vl_error *err)
{
	uint32_t next_ip = a->service_cidr.addr + 10; /* .1 is `kubernetes`, as in every cluster */
	uint16_t next_port = NODE_PORT_LO;
	char id[33];

	for (size_t i = 0; i < a->n_services; i++) {
		struct vl_service *s = &a->services[i];

		if (!s->cluster_ip) {
			bool busy;

			do {
				busy = false;
				for (size_t j = 0; j < a->n_services; j++)
					busy |= a->services[j].cluster_ip == next_ip;
				if (busy)
					next_ip++;
			} while (busy);
			if (!vl_prefix_contains(a->service_cidr, next_ip + 1)) {
				vl_error_set(err, lab->file, s->loc, "serviceCidr of cluster '%s' is full",
					     a->name);
				return -EINVAL;
			}
			s->cluster_ip = next_ip++;
		}
		if (s->type == VL_SVC_CLUSTER_IP)
			continue;
		for (size_t j = 0; j < s->n_ports; j++) {
			if (s->ports[j].node_port)
				continue;
			while (port_used(a, next_port))
				next_port++;
			s->ports[j].node_port = next_port++;
		}
		if (s->type == VL_SVC_LB && s->local && !s->health_port) {
			while (port_used(a, next_port))
				next_port++;
			s->health_port = next_port++;
		}
		if (next_port > NODE_PORT_HI) {
			vl_error_set(err, lab->file, s->loc, "cluster '%s' has run out of node ports",
				     a->name);
			return -EINVAL;
		}
		if (!s->uid) {
			char seed[3 * 96];

			snprintf(seed, sizeof(seed), "%s/%s/%s", lab->name, a->name, s->name);
			vleff_md5_hex(seed, id);
			if (asprintf(&s->uid, "%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12, id + 16,
				     id + 20) < 0) {
				s->uid = NULL;
				return -ENOMEM;
			}
		}
	}
	return 0;
}

int vl_public_assign(struct vl_lab *lab, struct vl_error *err)
{
	struct pubs p = {0};
	int rc = collect(lab, &p);

	if (!rc)
		rc = check_given(lab, &p, err);
	if (!rc)
		rc = allocate(lab, &p, err);
	free(p.v);
	for (size_t c = 0; c < lab->n_aks && !rc; c++)
		rc = service_numbers(lab, &lab->aks[c], err);
	return rc;
}
