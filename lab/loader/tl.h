/* SPDX-License-Identifier: MIT */
/*
 * Topology loader internals shared by topology.c (the order of the sections),
 * fields.c (typed fields), resources.c (Azure resources), routing.c
 * (peerings, gateways, on-premises and Internet hosts) and scenario.c
 * (checks and scenario steps). Every function returns 0 or -errno, with
 * t->c.err set at the node that caused the first problem.
 */
#ifndef VNETLAB_LOADER_TL_H
#define VNETLAB_LOADER_TL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld.h"
#include "vnetlab/model.h"

#define ACI_DELEGATION "Microsoft.ContainerInstance/containerGroups"
#define GATEWAY_SUBNET "GatewaySubnet"
#define RESOURCE_NAME_MAX 80
#define CHECK_NAME_MAX 120
#define WAIT_MS_MAX 3600000
#define POINTS_MAX 1000

struct epname {
	char *name;
	const struct ynode *at;
};

struct tl {
	struct ld c;
	struct vl_lab *lab;
	char *dir;
	struct epname *eps; /* endpoint names claimed so far */
	size_t n_eps;
	int *ep_hash;			 /* open addressing over eps: index + 1, 0 = empty */
	const struct ynode **check_maps; /* parallel to lab->checks */
	const struct ynode **vnet_maps;	 /* parallel to lab->vnets */
	bool checks_file; /* a checks file over a running lab, whose rules its students may have changed */
};

/* ---- fields.c ---- */

/* Grows *arr (a T **) by one zeroed element; returns it or NULL. */
void *tl_grow(void *arr, size_t *n, size_t size);
int tl_list_of(struct tl *t, const struct ynode *map, const char *key, const struct ynode **seq);
/*
 * A list of objects under key: *seq is its node (NULL when absent or empty)
 * and *arr gets one zeroed element of `size` per item, counted in *n.
 */
int tl_objects(struct tl *t, const struct ynode *map, const char *key, void *arr, size_t *n, size_t size,
	       const struct ynode **seq);
int tl_want_scalar(struct tl *t, const struct ynode *n, const char *what);
int tl_bool(struct tl *t, const struct ynode *n, const char *what, bool *out);
/* Azure resource names: 1-80 of letters, digits, '_', '.', '-'; starts with a letter or digit. */
int tl_resource_name(struct tl *t, const struct ynode *n, const char *what, char **out);
int tl_endpoint_name(struct tl *t, const struct ynode *n, const char *what, size_t max, char **out);
/* Claims an endpoint name lab-wide (VMs, container groups, nodes, pods, outside hosts). */
int tl_claim(struct tl *t, const char *name, const struct ynode *at, const char *what);
/*
 * An object: a mapping with only `keys` and a "name", a resource name or,
 * when ep_max is not 0, an endpoint name of at most ep_max characters.
 * *at is the name's node.
 */
int tl_named(struct tl *t, const struct ynode *m, const char *what, const char *const *keys, size_t ep_max,
	     char **name, const struct ynode **at);
int tl_cidr(struct tl *t, const struct ynode *n, const char *what, struct vl_prefix *p);
/* One CIDR or a list of them; at least one. *out is allocated. */
int tl_cidrs(struct tl *t, const struct ynode *n, const char *what, struct vl_prefix **out, size_t *count);
int tl_ipv4(struct tl *t, const struct ynode *n, const char *what, uint32_t *ip);
int tl_port_list(struct tl *t, const struct ynode *n, uint16_t **out, size_t *count);
/* The optional app and ports of a VM, a container group, a pod or a host. */
int tl_app_ports(struct tl *t, const struct ynode *m, enum vl_app *a, uint16_t **ports, size_t *n_ports);
int tl_nsg_ref(struct tl *t, const struct ynode *n, int *idx);
/* `subnet:` of map, "NAME" or "VNET/SUBNET". Subnets hold either container groups
 * (delegated) or NICs, never both; GatewaySubnet holds only gateways. */
int tl_subnet_ref(struct tl *t, const struct ynode *map, const char *what, const char *name, bool for_aci,
		  int *idx);
/* A list of CIDRs; an explicit empty list gives a non-NULL *out. */
int tl_cidr_list(struct tl *t, const struct ynode *n, const char *what, struct vl_prefix **out,
		 size_t *count);
/* The reserved range p overlaps (spec section 23.9), or NULL. */
const char *tl_reserved_overlap(struct vl_prefix p);

/* ---- resources.c ---- */
int tl_nsgs(struct tl *t, const struct ynode *root);
int tl_route_tables(struct tl *t, const struct ynode *root);
int tl_vnets(struct tl *t, const struct ynode *root);
int tl_vms(struct tl *t, const struct ynode *root);
int tl_cgs(struct tl *t, const struct ynode *root);
int tl_aks(struct tl *t, const struct ynode *root);

/* ---- services.c ---- */
/* A public address: `true` (allocated later: *ip = 0) or one in the documentation ranges. */
int tl_public_ip(struct tl *t, const struct ynode *n, const char *what, uint32_t *ip);
int tl_nat_gateway(struct tl *t, const struct ynode *m, struct vl_subnet *s);
/* kubernetesVersion, outboundType, outboundIp of a cluster (its subnet known). */
int tl_aks_outbound(struct tl *t, const struct ynode *m, struct vl_aks *a);
/* services: of a cluster (its pods and serviceCidr known). */
int tl_services(struct tl *t, const struct ynode *m, struct vl_aks *a);

/* ---- k8s.c: Kubernetes fields ---- */

/* metadata.labels (a map of string to string, Kubernetes' syntax) into *out. */
int tl_labels(struct tl *t, const struct ynode *n, const char *what, struct vl_labels *out);
/* A LabelSelector (matchLabels, matchExpressions); sets out->present. */
int tl_selector(struct tl *t, const struct ynode *n, const char *what, struct vl_selector *out);
/* The cluster's namespace `name`, added (labelled kubernetes.io/metadata.name) if new; *idx its index. */
int tl_k8s_ns(struct tl *t, struct vl_aks *a, const char *name, const struct ynode *at, int *idx);
/* ---- asg.c ---- */
/* serviceTags and applicationSecurityGroups: before the NSGs, whose rules name them. */
int tl_service_tags(struct tl *t, const struct ynode *root);
int tl_asgs(struct tl *t, const struct ynode *root);
/* vms[].applicationSecurityGroups, then the lab-wide ASG rules (vl_lab_check_asgs). */
int tl_asg_members(struct tl *t, const struct ynode *root);

/* ---- routing.c ---- */
/* The virtualNetworkPeerings of vnet vi (its mapping m), read as written; tl_peerings()
 * resolves them once every VNet and gateway is known. */
int tl_vnet_peerings(struct tl *t, const struct ynode *m, int vi);
int tl_gateways(struct tl *t, const struct ynode *root);
int tl_peerings(struct tl *t);
int tl_local_gateways(struct tl *t, const struct ynode *root);
int tl_connections(struct tl *t, const struct ynode *root);
int tl_internet(struct tl *t, const struct ynode *root);

/* ---- scenario.c ---- */
int tl_checks(struct tl *t, const struct ynode *root);
int tl_scenario(struct tl *t, const struct ynode *root);
/* expectRule names a rule of the file, a default rule, or one a scenario step adds. */
int tl_check_expect_rules(struct tl *t);
/* Endpoint names exist only after vl_lab_resolve(). */
int tl_check_targets(struct tl *t);

#endif
