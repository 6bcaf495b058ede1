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
	size_t np_base;	  /* a live `netpol apply`: policies below this index may be replaced */
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
/*
 * Service a->services[i] from map m (its spec fields) and meta (name's map: namespace, uid,
 * annotations); nn is its name node. Inline services (manifest false) need a selector matching a pod.
 */
int tl_service_obj(struct tl *t, const struct ynode *m, const struct ynode *meta, const struct ynode *nn,
		   struct vl_aks *a, size_t i, bool manifest);

/* ---- k8s.c: Kubernetes fields ---- */

/* metadata.labels (a map of string to string, Kubernetes' syntax) into *out. */
int tl_labels(struct tl *t, const struct ynode *n, const char *what, struct vl_labels *out);
/* A LabelSelector (matchLabels, matchExpressions); sets out->present. */
int tl_selector(struct tl *t, const struct ynode *n, const char *what, struct vl_selector *out);
/* The cluster's namespace `name`, added (labelled kubernetes.io/metadata.name) if new; *idx its index. */
int tl_k8s_ns(struct tl *t, struct vl_aks *a, const char *name, const struct ynode *at, int *idx);
/* ---- manifest.c: a cluster's `manifests:` (files and inline documents) ---- */
int tl_manifests(struct tl *t, const struct ynode *n, struct vl_aks *a);

/* ---- podspec.c: pod templates, the virtual node, scheduling ---- */
/* A pod's metadata (labels, annotations) and spec (ports, scheduling fields) into p. */
int tl_pod_template(struct tl *t, const struct ynode *meta, const struct ynode *spec, struct vl_aks *a,
		    struct vl_pod_spec *p);
/* Claim the endpoint names of p's replicas (name, or name-0 … name-N-1) at node at. */
int tl_pod_claim(struct tl *t, const struct vl_pod_spec *p, const struct ynode *at);
/* virtualNode: {subnet: NAME} of a cluster (Azure CNI, a subnet delegated to container groups). */
int tl_virtual_node(struct tl *t, const struct ynode *m, struct vl_aks *a);
/* vl_aks_schedule(), its failure located at the pod's document. */
int tl_schedule(struct tl *t, struct vl_aks *a);

/* ---- netpol.c: network policies ---- */
/* One NetworkPolicy document (networking.k8s.io/v1), appended to a->policies; its namespace is
 * added to the cluster when new. For manifests and the cluster's networkPolicies list. */
int tl_netpol_doc(struct tl *t, const struct ynode *doc, struct vl_aks *a);
/* One Namespace document (v1): the namespace and its labels, merged into one already implied. */
int tl_namespace_doc(struct tl *t, const struct ynode *doc, struct vl_aks *a);
/* networkPolicy: azure|calico|none of cluster map m (its networkPlugin known). */
int tl_netpol_engine(struct tl *t, const struct ynode *m, struct vl_aks *a);
/* namespaces: and networkPolicies: of cluster map m. */
int tl_netpol_cluster(struct tl *t, const struct ynode *m, struct vl_aks *a);

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
