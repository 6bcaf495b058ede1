/* SPDX-License-Identifier: MIT */
/*
 * A lab as a picture: the resolved model and its effective model turned into a small graph
 * description (clusters nested in clusters, nodes in clusters, edges between nodes or clusters),
 * then written as Graphviz dot, a mermaid flowchart, or SVG laid out in-process by libgvc.
 *
 * vl_graph_build() is pure and decides everything that is drawn and in which order (file
 * order, so the output is the same for the same lab); the writers only choose shapes and
 * colours by kind and escape text for their format. Labels hold the names as the model has
 * them (lines separated by '\n'); the writers never emit a control character raw.
 *
 * Ownership: struct vl_graph owns its arrays and strings; vl_graph_free() releases them.
 */
#ifndef VNETLAB_GRAPH_H
#define VNETLAB_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "vnetlab/model.h"

enum vl_gcluster_kind {
	VL_GC_VNET,	/* ref: lab->vnets */
	VL_GC_SUBNET,	/* ref: lab->subnets */
	VL_GC_AKS,	/* ref: lab->aks; inside its subnet */
	VL_GC_ONPREM,	/* ref: lab->local_gateways: the on-premises network with its hosts */
	VL_GC_INTERNET, /* ref: VL_NONE; the Internet node, its hosts and the public IPs */
};

enum vl_gnode_kind {
	VL_GN_VM,	     /* ref: endpoint */
	VL_GN_CG,	     /* ref: endpoint */
	VL_GN_NODE,	     /* ref: endpoint (an AKS node) */
	VL_GN_POD,	     /* ref: endpoint */
	VL_GN_HOST,	     /* ref: endpoint (Internet or on-premises host) */
	VL_GN_NSG,	     /* ref: lab->nsgs; a subnet's NSG (in its subnet) or a NIC NSG (edges to NICs) */
	VL_GN_ROUTE_TABLE,   /* ref: lab->route_tables, or VL_NONE for a kubenet cluster's table */
	VL_GN_GATEWAY,	     /* ref: lab->gateways (in its GatewaySubnet) */
	VL_GN_LOCAL_GATEWAY, /* ref: lab->local_gateways */
	VL_GN_INTERNET,	     /* the Internet itself */
	VL_GN_SERVICE,	     /* ref: index into the cluster's services (cluster: the AKS cluster) */
	VL_GN_FRONTEND,	     /* ref: lab->eff->frontends: a LoadBalancer frontend public IP */
	VL_GN_PUBLIC_IP,     /* ref: endpoint of the VM holding an instance public IP */
	VL_GN_NATGW,	     /* ref: lab->subnets (the subnet whose NAT gateway it is) */
	VL_GN_EMPTY,	     /* placeholder of a cluster with nothing in it */
};

enum vl_gedge_kind {
	VL_GE_PEERING,	  /* VNet to VNet; directed (a to b) while only a's side exists */
	VL_GE_CONNECTION, /* gateway to local network gateway */
	VL_GE_NIC_NSG,	  /* NSG to the NIC it is on */
	VL_GE_POD,	  /* pod to its node */
	VL_GE_NEXT_HOP,	  /* route table to the appliance a route sends to */
	VL_GE_BACKEND,	  /* frontend to a backend node; weak when its probe fails */
	VL_GE_SELECTS,	  /* service to a pod it selects */
	VL_GE_PUBLIC_IP,  /* an instance public IP to its VM (1:1 NAT) */
	VL_GE_OUTBOUND,	  /* a VNet (default outbound access) or a NAT gateway to the Internet */
};

struct vl_gcluster {
	char *id; /* unique, readable ("vnet:hub", "subnet:hub/shared") */
	char *label;
	enum vl_gcluster_kind kind;
	int parent; /* index into clusters, or VL_NONE at the top */
	int ref;
};

struct vl_gnode {
	char *id; /* unique, readable ("ep:web1", "nsg:shared-nsg@hub/shared") */
	char *label;
	enum vl_gnode_kind kind;
	int cluster; /* index into clusters, or VL_NONE at the top */
	int ref;
};

/* One end of an edge: a node, or a whole cluster (a VNet's peering). */
struct vl_gend {
	bool cluster;
	int index;
};

struct vl_gedge {
	struct vl_gend a, b;
	enum vl_gedge_kind kind;
	char *label;   /* NULL: none */
	bool directed; /* an arrow from a to b */
	bool weak;     /* drawn dashed: not (yet) carrying traffic */
};

struct vl_graph {
	char *name;
	struct vl_gcluster *clusters;
	size_t n_clusters;
	struct vl_gnode *nodes;
	size_t n_nodes;
	struct vl_gedge *edges;
	size_t n_edges;
};

/* The graph of a resolved lab (lab->eff set). 0 or -ENOMEM; *out is the caller's. */
int vl_graph_build(const struct vl_lab *lab, struct vl_graph **out);
void vl_graph_free(struct vl_graph *g);

/* Lookups by id; VL_NONE when absent. */
int vl_graph_find_node(const struct vl_graph *g, const char *id);
int vl_graph_find_cluster(const struct vl_graph *g, const char *id);
/* Is cluster (or node's cluster) c inside cluster outer, at any depth (c == outer counts)? */
bool vl_graph_cluster_within(const struct vl_graph *g, int c, int outer);

/* Writers: 0 or -errno (-EIO when the stream failed). */
int vl_graph_write_dot(const struct vl_graph *g, FILE *f);
int vl_graph_write_mermaid(const struct vl_graph *g, FILE *f);
/* SVG laid out by Graphviz's dot layout in this process; why says what failed. */
int vl_graph_write_svg(const struct vl_graph *g, FILE *f, char *why, size_t why_len);

#endif
