// SPDX-License-Identifier: MIT
/* show: Services (frontends, backends and what their health probes get), public IPs, NAT gateways. */
#include <stdio.h>

#include "cli.h"
#include "vnetlab/effective.h"
#include "vnetlab/ip.h"

void show_services(const struct vl_lab *lab, int c, FILE *f)
{
	static const char *const types[] = {"ClusterIP", "NodePort", "LoadBalancer"};
	const struct vl_aks *k = &lab->aks[c];
	char a[VL_IP_STRLEN], b[VL_IP_STRLEN];

	if (k->outbound_type == VL_OUTBOUND_LB)
		fprintf(f, "  outbound: loadBalancer, outbound IP %s\n", vl_ip_fmt(k->outbound_ip, a));
	else
		fprintf(f, "  outbound: userDefinedRouting\n");
	for (size_t s = 0; s < k->n_services; s++) {
		const struct vl_service *sv = &k->services[s];
		const struct vl_frontend *fe =
		    sv->type == VL_SVC_LB ? vl_eff_frontend(lab->eff, sv->frontend_ip) : NULL;

		fprintf(f, "  service %s: %s, clusterIP %s", sv->name, types[sv->type],
			vl_ip_fmt(sv->cluster_ip, a));
		if (fe)
			fprintf(f, ", frontend %s, externalTrafficPolicy %s", vl_ip_fmt(fe->ip, b),
				sv->local ? "Local" : "Cluster");
		fprintf(f, ", ports");
		for (size_t p = 0; p < sv->n_ports; p++) {
			fprintf(f, " %u->%u/%s", sv->ports[p].port, sv->ports[p].target_port,
				vl_proto_name(sv->ports[p].proto));
			if (sv->ports[p].node_port)
				fprintf(f, " (nodePort %u)", sv->ports[p].node_port);
		}
		fprintf(f, "\n");
		for (size_t i = 0; fe && i < fe->n_backends; i++)
			fprintf(f, "    backend %-20s %-9s %s\n", lab->eps[fe->backends[i].node].name,
				fe->backends[i].healthy ? "healthy" : "unhealthy", fe->backends[i].why);
	}
}

void show_public(const struct vl_lab *lab, FILE *f)
{
	char a[VL_IP_STRLEN];

	for (size_t i = 0; i < lab->n_vms; i++)
		if (lab->vms[i].has_public_ip)
			fprintf(f, "vm %s: instance public IP %s\n", lab->vms[i].name,
				vl_ip_fmt(lab->vms[i].public_ip, a));
	for (size_t s = 0; s < lab->n_subnets; s++)
		if (lab->subnets[s].n_natgw_ips)
			fprintf(f, "subnet %s: NAT gateway %s, public IP %s\n", lab->subnets[s].name,
				lab->subnets[s].natgw, vl_ip_fmt(lab->subnets[s].natgw_ips[0], a));
}
