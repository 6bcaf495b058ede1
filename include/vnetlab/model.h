/* SPDX-License-Identifier: MIT */
/*
 * The validated topology of one lab. Pure data: no I/O.
 *
 * Ownership: a struct vl_lab owns every array and string reachable from it;
 * vl_lab_free() releases all of it. Indexes (not pointers) link objects, so
 * arrays can grow while the loader works.
 */
#ifndef VNETLAB_MODEL_H
#define VNETLAB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VL_LAB_NAME_MAX 12
#define VL_ENDPOINT_NAME_MAX 63
#define VL_ENDPOINTS_MAX 5000
#define VL_NSG_RULES_MAX 1000
#define VL_NONE (-1)

/* Where something was written: 1-based line and column in lab->file. */
struct vl_loc {
	int line;
	int col;
};

/* An IPv4 prefix in host byte order; addr has no bits set beyond len. */
struct vl_prefix {
	uint32_t addr;
	uint8_t len;
};

enum vl_proto { VL_PROTO_ANY, VL_PROTO_TCP, VL_PROTO_UDP, VL_PROTO_ICMP, VL_PROTO_ESP, VL_PROTO_AH };
enum vl_dir { VL_DIR_IN, VL_DIR_OUT };
enum vl_access { VL_ALLOW, VL_DENY };

/* One element of a rule's source or destination match set. */
enum vl_addr_kind {
	VL_ADDR_ANY,	      /* "*", also 0.0.0.0/0 */
	VL_ADDR_PREFIX,	      /* an IP or a CIDR */
	VL_ADDR_TAG_VNET,     /* VirtualNetwork: per subnet, vl_eff_in_vnet_tag() (spec section 23.5) */
	VL_ADDR_TAG_INTERNET, /* Internet: lab-wide, vl_eff_is_internet() (spec section 23.6) */
	VL_ADDR_TAG_LB,	      /* AzureLoadBalancer: 168.63.129.16/32 */
	VL_ADDR_ASG,	      /* an application security group: lab->asgs[ref], vl_eff_in_asg() */
	VL_ADDR_TAG_SERVICE,  /* a tag of the topology's serviceTags: lab->service_tags[ref] */
	/* The platform tags (spec section 19.4, docs/nsg-semantics.md): traffic to the platform
	 * addresses bypasses NSGs unless an outbound rule names one of them (vl_eff_platform_rule). */
	VL_ADDR_TAG_PLATFORM_DNS,  /* AzurePlatformDNS: 168.63.129.16/32, TCP and UDP port 53 */
	VL_ADDR_TAG_PLATFORM_IMDS, /* AzurePlatformIMDS: 169.254.169.254/32 */
	VL_ADDR_TAG_PLATFORM_LKM,  /* AzurePlatformLKM: Azure's KMS endpoints; no lab address */
};

/* Is kind one of the AzurePlatform* tags? */
static inline bool vl_addr_kind_platform(enum vl_addr_kind k)
{
	return k == VL_ADDR_TAG_PLATFORM_DNS || k == VL_ADDR_TAG_PLATFORM_IMDS || k == VL_ADDR_TAG_PLATFORM_LKM;
}

struct vl_addr_match {
	enum vl_addr_kind kind;
	struct vl_prefix prefix; /* VL_ADDR_PREFIX only */
	int ref;		 /* VL_ADDR_ASG, VL_ADDR_TAG_SERVICE: index into lab->asgs / service_tags */
};

struct vl_port_range {
	uint16_t lo;
	uint16_t hi;
};

/* A list of strings as written in the file (kept for display and az JSON). */
struct vl_strv {
	char **v;
	size_t n;
};

/*
 * One NSG security rule. The *_prefix / *_port strings keep the ARM fields as
 * written (NULL when absent); src/dst/sport/dport are the parsed match sets
 * (singular ∪ plural), filled by vl_rule_parse().
 */
struct vl_rule {
	char *name;
	char *description;
	int priority;
	enum vl_dir dir;
	enum vl_access access;
	enum vl_proto proto;
	char *src_prefix;
	struct vl_strv src_prefixes;
	char *dst_prefix;
	struct vl_strv dst_prefixes;
	char *src_port;
	struct vl_strv src_ports;
	char *dst_port;
	struct vl_strv dst_ports;
	struct vl_strv src_asgs; /* sourceApplicationSecurityGroups, by name (an id's last segment) */
	struct vl_strv dst_asgs; /* destinationApplicationSecurityGroups */
	bool is_default;
	struct vl_loc loc;

	struct vl_addr_match *src;
	size_t n_src;
	struct vl_addr_match *dst;
	size_t n_dst;
	struct vl_port_range *sport;
	size_t n_sport;
	struct vl_port_range *dport;
	size_t n_dport;
};

struct vl_nsg {
	char *name;
	struct vl_rule *rules; /* custom rules, file order */
	size_t n_rules;
	struct vl_loc loc;
};

/* nextHopType of a UDR; 0 (VirtualAppliance) is what zeroed routes mean. */
enum vl_next_hop { VL_HOP_APPLIANCE, VL_HOP_VNET_LOCAL, VL_HOP_INTERNET, VL_HOP_NONE, VL_HOP_GATEWAY };

struct vl_route {
	char *name;
	struct vl_prefix prefix;
	uint32_t next_hop; /* VirtualAppliance next hop; 0 = none */
	struct vl_loc loc;
	enum vl_next_hop type; /* nextHopType (added by the loader) */
};

struct vl_route_table {
	char *name;
	struct vl_route *routes;
	size_t n_routes;
	bool disable_bgp; /* disableBgpRoutePropagation: no gateway routes in its subnets */
	struct vl_loc loc;
};

struct vl_subnet {
	char *name;
	struct vl_prefix prefix;
	int vnet;	 /* index into lab->vnets */
	int nsg;	 /* index into lab->nsgs or VL_NONE */
	int route_table; /* index into lab->route_tables or VL_NONE */
	char *delegation;
	struct vl_loc loc;
	struct vl_loc nsg_loc;
	/* natGateway: {name, publicIpAddresses}; NULL name = none. 0 addresses are allocated by
	 * vl_public_assign(); SNAT uses the first (spec 14.1). */
	char *natgw;
	uint32_t *natgw_ips;
	size_t n_natgw_ips;
	struct vl_loc natgw_loc;
};

/* One side of a VNet peering (each side is its own resource, spec section 12.1). */
struct vl_peering {
	char *name;
	int remote;		/* index into lab->vnets */
	bool allow_vnet_access; /* allowVirtualNetworkAccess; default true (portal, REST) */
	bool allow_forwarded;	/* allowForwardedTraffic; default false */
	bool allow_gateway_transit;
	bool use_remote_gateways;
	struct vl_loc loc;
};

struct vl_vnet {
	char *name;
	struct vl_prefix *spaces;
	size_t n_spaces;
	int *subnets; /* indexes into lab->subnets */
	size_t n_subnets;
	struct vl_peering *peerings; /* virtualNetworkPeerings */
	size_t n_peerings;
	struct vl_loc loc;
};

enum vl_app { VL_APP_NONE, VL_APP_HELLO, VL_APP_ECHO };

struct vl_vm {
	char *name;
	int subnet;
	uint32_t static_ip; /* privateIpAddress; 0 = dynamic */
	int nsg;	    /* NIC NSG or VL_NONE */
	bool ip_forwarding; /* enableIpForwarding: the NIC may send and receive others' packets */
	bool has_public_ip; /* publicIpAddress: an instance-level public IP (1:1 NAT at the edge) */
	uint32_t public_ip; /* its address; 0 until vl_public_assign() allocates one (`true`) */
	struct vl_loc public_ip_loc;
	int *asgs;	    /* applicationSecurityGroups: indexes into lab->asgs */
	size_t n_asgs;
	enum vl_app app;
	uint16_t *ports;
	size_t n_ports;
	struct vl_loc loc;
};

struct vl_container_group {
	char *name;
	int subnet;
	enum vl_app app;
	uint16_t *ports;
	size_t n_ports;
	struct vl_loc loc;
};

enum vl_plugin { VL_PLUGIN_KUBENET, VL_PLUGIN_AZURE };

/* Kubernetes labels (metadata.labels): key=value pairs, keys unique. */
struct vl_label {
	char *key;
	char *value;
};

struct vl_labels {
	struct vl_label *v;
	size_t n;
};

/* A label selector: matchLabels AND every matchExpressions entry (spec 16.1). */
enum vl_sel_op { VL_SEL_IN, VL_SEL_NOT_IN, VL_SEL_EXISTS, VL_SEL_DOES_NOT_EXIST, VL_SEL_GT, VL_SEL_LT };
/* VL_SEL_GT / VL_SEL_LT: node selector requirements only (one integer value). */

struct vl_sel_expr {
	char *key;
	enum vl_sel_op op;
	struct vl_strv values; /* In / NotIn */
};

struct vl_selector {
	struct vl_labels match; /* matchLabels */
	struct vl_sel_expr *exprs;
	size_t n_exprs;
	/* An empty selector ({}) selects everything; `present` false means the field was absent. */
	bool present;
};

/* A Kubernetes namespace of a cluster: its name and labels (kubernetes.io/metadata.name=<name> always). */
struct vl_k8s_ns {
	char *name;
	struct vl_labels labels;
	struct vl_loc loc;
};

/* NetworkPolicy enforcement of a cluster (--network-policy). */
enum vl_netpol_engine { VL_NETPOL_NONE, VL_NETPOL_AZURE, VL_NETPOL_CALICO };

/* A port of a NetworkPolicy rule: numeric (port..end_port) or named (a containerPort name). */
struct vl_np_port {
	enum vl_proto proto; /* TCP (default), UDP; SCTP is refused */
	uint16_t port;	     /* 0 with name NULL: every port of proto */
	uint16_t end_port;   /* endPort; 0 = port only */
	char *name;	     /* named port, or NULL */
	struct vl_loc loc;
};

/* One peer (`from`/`to` entry): podSelector and/or namespaceSelector in ONE peer, or an ipBlock. */
struct vl_np_peer {
	struct vl_selector pods;       /* podSelector (present or not) */
	struct vl_selector namespaces; /* namespaceSelector (present or not) */
	bool is_block;
	struct vl_prefix block; /* ipBlock.cidr */
	struct vl_prefix *except;
	size_t n_except;
	struct vl_loc loc;
};

/* One ingress or egress rule. n_peers 0 with peers_present false: every peer; ports likewise. */
struct vl_np_rule {
	struct vl_np_peer *peers;
	size_t n_peers;
	bool peers_present;
	struct vl_np_port *ports;
	size_t n_ports;
	bool ports_present;
	struct vl_loc loc;
};

/* A NetworkPolicy (networking.k8s.io/v1). */
struct vl_netpol {
	char *name;
	char *ns;		 /* metadata.namespace; default "default" */
	struct vl_selector pods; /* spec.podSelector ({} = every pod of ns) */
	bool ingress, egress;	 /* policyTypes (defaults per spec 16.1) */
	struct vl_np_rule *in;
	size_t n_in;
	struct vl_np_rule *out;
	size_t n_out;
	struct vl_loc loc;
};

/* Taint effects; VL_EFFECT_ANY is a toleration without `effect` (it tolerates every effect). */
enum vl_effect { VL_EFFECT_ANY, VL_EFFECT_NO_SCHEDULE, VL_EFFECT_PREFER_NO_SCHEDULE, VL_EFFECT_NO_EXECUTE };

struct vl_taint {
	const char *key; /* static strings: nodes' taints are AKS's, never the file's */
	const char *value;
	enum vl_effect effect;
};

struct vl_toleration {
	char *key;   /* NULL: every key (operator Exists without key) */
	bool exists; /* operator Exists (else Equal) */
	char *value; /* Equal: the value ("" when absent) */
	enum vl_effect effect;
};

/* One nodeSelectorTerm: every requirement must hold (matchExpressions on labels, matchFields
 * on metadata.name). */
struct vl_node_term {
	struct vl_sel_expr *exprs;
	size_t n_exprs;
	struct vl_sel_expr *fields;
	size_t n_fields;
};

struct vl_pref_term {
	int weight; /* 1-100 */
	struct vl_node_term term;
};

/* Where a pod may run and where it would rather (spec 17; Kubernetes' scheduling fields). */
struct vl_pod_sched {
	struct vl_labels node_selector; /* nodeSelector */
	struct vl_toleration *tols;
	size_t n_tols;
	struct vl_node_term *required; /* requiredDuringScheduling…: terms ORed */
	size_t n_required;
	struct vl_pref_term *preferred; /* preferredDuringScheduling…: weights of matching terms add */
	size_t n_preferred;
};

struct vl_pod_spec {
	char *name;
	int replicas; /* 0: omitted, one pod named `name`; N: pods name-0 … name-(N-1) */
	int node;     /* node index, or VL_NONE to spread */
	enum vl_app app;
	uint16_t *ports;
	size_t n_ports;
	char **port_names; /* n_ports entries, each a containerPort name or NULL; NULL if none named */
	char *ns;	   /* Kubernetes namespace; "default" when not given */
	struct vl_labels labels; /* metadata.labels; inline pods without labels carry app=<name> */
	struct vl_pod_sched sched;
	char *kind;  /* the manifest kind it came from (Pod, Deployment…), NULL for an inline pod */
	char *file;  /* the manifest it came from (errors are located there), NULL: the topology */
	int *placed; /* per replica: node index, or the cluster's node_count for its virtual node;
		      * filled by vl_aks_schedule() */
	struct vl_loc loc;
};

enum vl_svc_type { VL_SVC_CLUSTER_IP, VL_SVC_NODE_PORT, VL_SVC_LB };

struct vl_svc_port {
	uint16_t port;
	uint16_t target_port;
	uint16_t node_port; /* NodePort and LoadBalancer; 0 until vl_public_assign() (30000-32767) */
	enum vl_proto proto; /* TCP or UDP */
	struct vl_loc loc;
};

/* A Kubernetes Service of a cluster (spec 8, 15). */
struct vl_service {
	char *name;
	enum vl_svc_type type;
	struct vl_labels selector; /* spec.selector: pods of namespace ns with all these labels */
	char *ns;		   /* metadata.namespace; "default" */
	struct vl_svc_port *ports;
	size_t n_ports;
	bool local; /* externalTrafficPolicy: Local (else Cluster) */
	struct vl_prefix *source_ranges; /* loadBalancerSourceRanges */
	size_t n_source_ranges;
	char *uid; /* metadata.uid; derived from the names when absent */
	/* annotations that change the NSG rules (spec 15.2, 15.3) */
	struct vl_strv allowed_tags; /* azure-allowed-service-tags */
	bool deny_all_except;	     /* azure-deny-all-except-load-balancer-source-ranges */
	bool no_nsg_rule;	     /* azure-disable-load-balancer-nsg-rule */
	bool shared_rule;	     /* azure-shared-securityrule (legacy names) */
	uint32_t frontend_ip;	     /* LoadBalancer: loadBalancerIP or allocated */
	uint32_t cluster_ip;	     /* clusterIP or allocated from serviceCidr */
	uint16_t health_port;	     /* healthCheckNodePort (Local LoadBalancer) */
	struct vl_loc loc;
	struct vl_loc frontend_loc;
};

/* outboundType of an AKS cluster (spec 14.2). */
enum vl_outbound_type { VL_OUTBOUND_LB, VL_OUTBOUND_UDR };

struct vl_aks {
	char *name;
	int subnet;
	enum vl_plugin plugin;
	struct vl_prefix pod_cidr;     /* kubenet; default 10.244.0.0/16 */
	struct vl_prefix service_cidr; /* default 10.0.0.0/16 */
	int node_count;		       /* default 3 */
	int max_pods;		       /* default 110 kubenet, 30 azure */
	int node_nsg;		       /* NIC NSG of every node or VL_NONE */
	struct vl_prefix *non_masq;    /* NULL: plugin default */
	size_t n_non_masq;
	struct vl_pod_spec *pods;
	size_t n_pods;
	int k8s_major, k8s_minor;	     /* kubernetesVersion; default 1.30 */
	enum vl_outbound_type outbound_type; /* default loadBalancer */
	uint32_t outbound_ip;		     /* loadBalancer: outboundIp, or allocated */
	struct vl_service *services;
	size_t n_services;
	bool made_node_nsg; /* node_nsg was created for its LoadBalancer rules */
	struct vl_k8s_ns *namespaces; /* every namespace named by a pod, policy or Namespace object */
	size_t n_namespaces;
	enum vl_netpol_engine netpol; /* networkPolicy; default none */
	bool npm_legacy;	      /* npmCompat: legacy (Azure NPM of 2019-2022, spec 16.4) */
	struct vl_netpol *policies;
	size_t n_policies;
	bool has_vnode;	  /* virtualNode: the virtual-node add-on (spec 17) */
	int vnode_subnet; /* its delegated subnet (has_vnode only) */
	struct vl_loc vnode_loc;
	struct vl_loc loc;
};

/* A host outside Azure: on the Internet or on-premises (behind a local network gateway). */
struct vl_host_spec {
	char *name;
	uint32_t address; /* 0 = assigned (Internet: 203.0.113.4 upward; on-premises: prefix .4 upward) */
	enum vl_app app;
	uint16_t *ports;
	size_t n_ports;
	struct vl_loc loc;
};

enum vl_gw_type { VL_GW_VPN, VL_GW_EXPRESSROUTE };

/* virtualNetworkGateways: a router in its VNet's GatewaySubnet. */
struct vl_vnet_gateway {
	char *name;
	int vnet;
	int subnet; /* the VNet's GatewaySubnet */
	enum vl_gw_type type;
	uint32_t ip; /* derived by vl_lab_resolve(): the GatewaySubnet's first address (.4) */
	struct vl_loc loc;
};

/* localNetworkGateways: an on-premises network, its prefixes and its hosts. */
struct vl_local_gateway {
	char *name;
	struct vl_prefix *prefixes; /* addressPrefixes / localNetworkAddressSpace.addressPrefixes */
	size_t n_prefixes;
	struct vl_host_spec *hosts;
	size_t n_hosts;
	struct vl_loc loc;
};

enum vl_conn_type { VL_CONN_IPSEC, VL_CONN_EXPRESSROUTE };

struct vl_connection {
	char *name;
	int gateway;	   /* index into lab->gateways */
	int local_gateway; /* index into lab->local_gateways */
	enum vl_conn_type type;
	struct vl_loc loc;
};

enum vl_expect { VL_EXPECT_ALLOW, VL_EXPECT_DENY };

struct vl_check {
	char *name; /* NULL for an inline scenario check */
	char *from;
	char *to; /* endpoint name or IPv4 address */
	int port; /* 0 = none (icmp) */
	enum vl_proto proto;
	enum vl_expect expect;
	char *expect_source; /* IP, endpoint name, or "node"; NULL = not checked */
	char *expect_rule;   /* "nsg/rule"; NULL = not checked */
	char *description;   /* what the check asks, in words; NULL = none */
	char *hint;	     /* printed when it fails; NULL = none */
	int points;	     /* what passing it is worth (default 1) */
	struct vl_loc loc;
};

/* A live NSG edit: `nsg rule set|add|delete` and scenario set/add/delete. */
enum vl_edit_kind { VL_EDIT_SET, VL_EDIT_ADD, VL_EDIT_DELETE };

struct vl_rule_edit {
	enum vl_edit_kind kind;
	char *nsg;
	char *rule;
	/* Fields to change, as ARM field name / value strings, e.g.
	 * {"priority","400"}, {"sourceAddressPrefixes","10.0.0.0/8 10.1.0.0/16"}. */
	struct vl_strv keys;
	struct vl_strv values;
	struct vl_loc loc;
};

enum vl_step_kind { VL_STEP_SAY, VL_STEP_CHECK, VL_STEP_EDIT, VL_STEP_WAIT, VL_STEP_PAUSE };

struct vl_step {
	enum vl_step_kind kind;
	char *text; /* say; pause: the prompt (NULL = the default one) */
	int check;  /* index into lab->checks (inline checks are appended there) */
	struct vl_rule_edit edit;
	int wait_ms;
	struct vl_loc loc;
};

/* Endpoints are derived by vl_lab_resolve(): every namespace that has a name. */
enum vl_ep_kind { VL_EP_VM, VL_EP_CG, VL_EP_NODE, VL_EP_POD, VL_EP_INTERNET, VL_EP_ONPREM };

struct vl_endpoint {
	char *name;
	enum vl_ep_kind kind;
	int subnet;  /* VM/CG/NODE, Azure CNI pods: their subnet; kubenet pods: node's subnet;
		      * VL_NONE for Internet and on-premises hosts */
	uint32_t ip; /* host order */
	int nic_nsg; /* NSG on the NIC that carries this endpoint's traffic, or VL_NONE */
	int owner;   /* index into vms / cgs / aks by kind; pods and nodes: cluster;
		      * INTERNET: index into internet_hosts; ONPREM: index into local_gateways */
	int node;    /* NODE: node index in its cluster; POD: endpoint index of its node */
	int nic;     /* index of the endpoint whose NIC carries the traffic (itself for VM/CG/NODE) */
	enum vl_app app;
	uint16_t *ports; /* borrowed from the spec */
	size_t n_ports;
	struct vl_prefix pod_cidr; /* NODE (kubenet): its /24 */
	int pod_spec;		   /* POD: index into its cluster's pods (what selectors match) */
	bool virtual_node;	   /* POD on the virtual node: a container group in the virtual node's
				    * subnet (its own NIC, no node, only the subnet NSG, spec 17) */
};

/* applicationSecurityGroups: members are VMs (vl_vm.asgs), all in one VNet (spec section 18). */
struct vl_asg {
	char *name;
	int vnet; /* the VNet of its members; VL_NONE while it has none */
	struct vl_loc loc;
};

/* One tag of serviceTags (a Service Tags JSON file or an inline list): its IPv4 prefixes. */
struct vl_service_tag {
	char *name;
	struct vl_prefix *prefixes;
	size_t n_prefixes;
	struct vl_loc loc;
};

struct vl_effective;

struct vl_lab {
	char *name;
	char *file;
	struct vl_vnet *vnets;
	size_t n_vnets;
	struct vl_subnet *subnets;
	size_t n_subnets;
	struct vl_nsg *nsgs;
	size_t n_nsgs;
	struct vl_route_table *route_tables;
	size_t n_route_tables;
	struct vl_vm *vms;
	size_t n_vms;
	struct vl_container_group *cgs;
	size_t n_cgs;
	struct vl_aks *aks;
	size_t n_aks;
	struct vl_vnet_gateway *gateways; /* virtualNetworkGateways */
	size_t n_gateways;
	struct vl_local_gateway *local_gateways; /* localNetworkGateways */
	size_t n_local_gateways;
	struct vl_connection *connections;
	size_t n_connections;
	struct vl_host_spec *internet_hosts; /* internet: {hosts: [...]} */
	size_t n_internet_hosts;
	struct vl_check *checks;
	size_t n_checks;
	struct vl_step *steps;
	size_t n_steps;
	struct vl_asg *asgs; /* applicationSecurityGroups */
	size_t n_asgs;
	struct vl_service_tag *service_tags; /* serviceTags */
	size_t n_service_tags;

	/* Derived by vl_lab_resolve(). */
	struct vl_endpoint *eps;
	size_t n_eps;
	struct vl_effective *eff; /* what Azure computes from the rest (vnetlab/effective.h) */
};

/* An error with its place in the file; the CLI prints "file:line:col: msg". */
struct vl_error {
	char file[256];
	int line;
	int col;
	char msg[512];
};

void vl_error_set(struct vl_error *err, const char *file, struct vl_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The errors of one validation, in the order they were found (`validate` prints them all). */
#define VL_ERRORS_MAX 20
struct vl_errors {
	struct vl_error v[VL_ERRORS_MAX];
	size_t n;
	bool more; /* more errors were found than v holds; the validation stopped there */
};
/* Appends err; false (and more set) when the list is full: the caller stops looking then. */
bool vl_errors_add(struct vl_errors *errs, const struct vl_error *err);

/*
 * A short id for an NSG rule, never 0, at most 31 bits: the fabric puts it in the packet mark of
 * what the rule decided (NFLOG carries the mark), and whoever has the model maps it back.
 */
uint64_t vl_rule_id(const char *nsg, const char *rule);
/* 1-VL_LAB_NAME_MAX characters of a-z and 0-9: the one rule for a lab name, in files and verbs. */
bool vl_lab_name_ok(const char *s);
/* Give a loaded lab another name (`--name`, a lab's state directory); -EINVAL when it is not ok. */
int vl_lab_set_name(struct vl_lab *lab, const char *name);
/*
 * Where two labs' resources differ (VNets, subnets, NSGs and their rules, route tables,
 * endpoints; not names, checks or scenarios), one phrase per entry appended to *out
 * ("NSG aciNsg", "endpoint web1"). Nothing appended: they build the same lab. 0 or -ENOMEM.
 */
int vl_lab_diff(const struct vl_lab *a, const struct vl_lab *b, struct vl_strv *out);
struct vl_lab *vl_lab_new(void);
/* Free the checks and scenario steps of a lab, leaving none. */
void vl_lab_clear_checks(struct vl_lab *lab);
/* Move src's checks and steps to dst (replacing dst's); src keeps none. */
void vl_lab_take_checks(struct vl_lab *dst, struct vl_lab *src);
void vl_lab_free(struct vl_lab *lab);
void vl_rule_clear(struct vl_rule *r);		 /* frees a rule's members, not the rule */
void vl_rule_edit_clear(struct vl_rule_edit *e); /* frees an edit's members */
void vl_strv_free(struct vl_strv *sv);

/* Kubernetes objects (model/k8s.c). The free functions release members, not the struct. */
void vl_labels_free(struct vl_labels *l);
void vl_selector_free(struct vl_selector *s);
void vl_netpol_free(struct vl_netpol *p);
void vl_k8s_ns_free(struct vl_k8s_ns *n);
/* Add key=value (replacing the value of an existing key); 0 or -ENOMEM. */
int vl_labels_set(struct vl_labels *l, const char *key, const char *value);
/* The value of key, or NULL. */
const char *vl_labels_get(const struct vl_labels *l, const char *key);
/* Does selector s select an object with labels l? An absent selector selects nothing;
 * an empty one ({}) selects everything (Kubernetes' LabelSelector semantics). */
bool vl_selector_matches(const struct vl_selector *s, const struct vl_labels *l);
/* Does one requirement hold for a label's value v (NULL: the object has no such label)? */
bool vl_sel_expr_matches(const struct vl_sel_expr *e, const char *v);
/* Does `have` carry every key=value of `want` (a Service's selector; empty `want`: true)? */
bool vl_labels_subset(const struct vl_labels *want, const struct vl_labels *have);
/* Pod scheduling (model/schedule.c). */
void vl_pod_sched_free(struct vl_pod_sched *s);
void vl_node_term_free(struct vl_node_term *t);
/* The name of node `node` of cluster a (node_count: the virtual node) into buf. */
const char *vl_aks_node_name(const struct vl_aks *a, int node, char *buf, size_t len);
/* AKS's labels of node `node` (node_count: the virtual node) into *out; 0 or -ENOMEM. */
int vl_aks_node_labels(const struct vl_aks *a, int node, struct vl_labels *out);
/* AKS's taints of node `node`; n set to their count. */
const struct vl_taint *vl_aks_node_taints(const struct vl_aks *a, int node, size_t *n);
/* Pods a node takes: maxPods for a VM node, VL_VNODE_PODS for the virtual node. */
int vl_aks_node_capacity(const struct vl_aks *a, int node);
#define VL_VNODE_PODS 5000
/* The Kubernetes node a pod endpoint runs on (the virtual node's name for its pods), or NULL. */
const char *vl_pod_node_name(const struct vl_lab *lab, const struct vl_endpoint *e);
/*
 * Place every replica of every pod spec of cluster a (fills pods[].placed), as kube-scheduler's
 * filters and scores do for nodeSelector, taints and tolerations, required and preferred node
 * affinity and maxPods. Deterministic: the best preferred-affinity score, then the fewest
 * untolerated PreferNoSchedule taints; ties go round-robin over the tied nodes in node order
 * (the i-th pod without `node:` takes the (i mod k)-th of k), the virtual node after the VM nodes.
 * A replica no node takes: -EINVAL, *bad its pod spec, why like kubectl's FailedScheduling event.
 */
int vl_aks_schedule(struct vl_aks *a, int *bad, char *why, size_t why_len);
/* Does pod spec p tolerate every NoSchedule/NoExecute taint of node, match its nodeSelector and
 * required affinity? why (may be NULL) says what failed first. */
bool vl_pod_fits(const struct vl_aks *a, const struct vl_pod_spec *p, int node, char *why, size_t why_len);

/* The cluster's namespace named name, or NULL. */
const struct vl_k8s_ns *vl_aks_find_ns(const struct vl_aks *a, const char *name);
int vl_strv_push(struct vl_strv *sv, const char *s);

/* Lookups by name; return the index or VL_NONE. A subnet may be named
 * "VNET/SUBNET"; a bare name must be unique in the lab. */
int vl_lab_find_subnet(const struct vl_lab *lab, const char *name);
/* The subnets `name` ("NAME" or "VNET/SUBNET") may mean: returns 0, 1 or 2
 * (two: a bare name in more than one VNet; the search stops there) and
 * fills found[] with their indexes, VL_NONE for the rest. */
size_t vl_lab_match_subnet(const struct vl_lab *lab, const char *name, int found[2]);
int vl_lab_find_vnet(const struct vl_lab *lab, const char *name);
int vl_lab_find_nsg(const struct vl_lab *lab, const char *name);
int vl_lab_find_endpoint(const struct vl_lab *lab, const char *name);
int vl_lab_find_endpoint_by_ip(const struct vl_lab *lab, uint32_t ip);
/* The endpoint holding ip, one of from's VNet first (addresses repeat across unjoined VNets). */
int vl_lab_find_endpoint_near(const struct vl_lab *lab, int from, uint32_t ip);
int vl_nsg_find_rule(const struct vl_nsg *nsg, const char *name);
/* Case-insensitive, as ARM names are. */
int vl_lab_find_asg(const struct vl_lab *lab, const char *name);
int vl_lab_find_service_tag(const struct vl_lab *lab, const char *name);

/*
 * Derive endpoints and assign addresses as Azure does: per subnet .4 upward
 * in file order, skipping static addresses; kubenet pods from their node's
 * /24 (.2 upward); Azure CNI pods from the subnet after the nodes.
 * Returns 0 or -EINVAL with err set.
 */
int vl_lab_resolve(struct vl_lab *lab, struct vl_error *err);

/* Parse the ARM strings of r into its match sets; validates values. 0 or -EINVAL. */
int vl_rule_parse(struct vl_rule *r, char *why, size_t why_len);

/* The six default rules of every NSG (spec section 2), in priority order per direction. */
const struct vl_rule *vl_default_rules(size_t *n);


/*
 * Validate one NSG as Azure does (rule count, names, priorities 100-4096,
 * SecurityRuleConflict, singular+plural, tags in plural lists, ports, tags,
 * protocols) and fill every rule's match sets. Errors are located at the
 * offending rule's loc in `file`. 0 or -EINVAL.
 */
int vl_nsg_validate(struct vl_nsg *nsg, const char *file, struct vl_error *err);
/*
 * The same with the lab's application security groups and service tags known (lab may be
 * NULL: then a rule naming either is refused). vl_rule_parse() is vl_rule_parse_lab(NULL, …).
 */
int vl_nsg_validate_lab(const struct vl_lab *lab, struct vl_nsg *nsg, const char *file, struct vl_error *err);
/*
 * The same, going on past a bad rule when errs is not NULL: each error is added to errs
 * (err holds the last one) and the rules after it are still checked, against the good ones
 * only. -EINVAL when any rule was bad.
 */
int vl_nsg_validate_all(const struct vl_lab *lab, struct vl_nsg *nsg, const char *file, struct vl_error *err,
			struct vl_errors *errs);
int vl_rule_parse_lab(const struct vl_lab *lab, struct vl_rule *r, char *why, size_t why_len);
/*
 * Lab-wide ASG rules of spec section 18, once VMs are known: every member of an ASG in one VNet
 * (sets asgs[].vnet), at most 20 per NIC, a rule's source and destination ASGs in one VNet.
 */
int vl_lab_check_asgs(struct vl_lab *lab, struct vl_error *err);

/* Apply a live edit to lab->nsgs, validated like the file. 0 or -errno with err set. */
int vl_lab_apply_edit(struct vl_lab *lab, const struct vl_rule_edit *e, struct vl_error *err);
/*
 * Apply n edits in order, as n calls of vl_lab_apply_edit would, with each NSG they touch copied
 * once and validated once, after its last edit (lab/model/nsg_replay.c): the cost of a journal's
 * replay grows with its edits, not with edits × rules. When that fails, nothing has changed and the
 * edits are applied one by one, so the error (and what stays applied) is vl_lab_apply_edit's.
 */
int vl_lab_apply_edits(struct vl_lab *lab, const struct vl_rule_edit *e, size_t n, struct vl_error *err);

/* A cluster's service by name, or VL_NONE. */
int vl_aks_find_service(const struct vl_aks *a, const char *name);
/* "cluster/service" or "service" (unique in the lab): *cluster and *svc, 0 or -ENOENT. */
int vl_lab_find_service(const struct vl_lab *lab, const char *name, int *cluster, int *svc);

const char *vl_proto_name(enum vl_proto p); /* "Tcp", "Udp", "Icmp", "Esp", "Ah", "*" */
const char *vl_app_name(enum vl_app a);	    /* "hello", "echo", "" */
const char *vl_ep_kind_name(enum vl_ep_kind k);
const char *vl_dir_name(enum vl_dir d);	      /* "Inbound" / "Outbound" */
const char *vl_access_name(enum vl_access a); /* "Allow" / "Deny" */

#endif
