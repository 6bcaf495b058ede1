/* SPDX-License-Identifier: MIT */
/*
 * Internal to lab/nft: the compiled form of NSG rules (shared by the netlink
 * builder and the text printer, so both say the same thing) and the batch
 * buffer that one transaction is serialised into.
 */
#ifndef VNETLAB_NFT_INTERNAL_H
#define VNETLAB_NFT_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/netlink.h>

#include "vnetlab/effective.h"
#include "vnetlab/model.h"

/* Public entry points accept why == NULL or why_len == 0. */
#define VLNFT_WHY_INIT(why, why_len)                  \
	char why##_own[256];                          \
	if (!(why) || !(why_len)) {                   \
		(why) = why##_own;                    \
		(why_len) = sizeof(why##_own);        \
	}                                             \
	(why)[0] = '\0'

/* Names inside table ip vnetlab. */
#define VLNFT_SET_VNET "vnet"	    /* VirtualNetwork of the fabric's system scope; others "vnet/<scope>" */
#define VLNFT_SET_NOTINET "notinet" /* everything that is not the Internet tag (lab-wide) */
#define VLNFT_MAP_MARKS "route_marks" /* ifname : fwmark of the NIC's scope (per-subnet route tables) */
#define VLNFT_CHAIN_PREROUTING "prerouting"
#define VLNFT_SET_FWD_PREFIX "fwd/" /* "fwd/<remote vnet>": what a peering admits without forwarded traffic */
#define VLNFT_SET_NONMASQ "nonmasq"
#define VLNFT_SET_TCPUDP "tcpudp"
#define VLNFT_CHAIN_FORWARD "forward"
#define VLNFT_CHAIN_DENY "nsg_deny" /* every Deny rule goes here: limit, log, drop */
/* The buckets of the log limits, one per pair of addresses (vlnft_emit_pair_meter): of nsg_deny,
 * of the flow log of allowed flows, and of a node's network-policy denies. */
#define VLNFT_SET_LOG_DENY "log_deny"
#define VLNFT_SET_LOG_ALLOW "log_allow"
#define VLNFT_SET_LOG_NP "np-log"
#define VLNFT_OBJ_LOG_CEILING "log_ceiling" /* the named limit every log rule of a table shares */
#define VLNFT_CHAIN_POSTROUTING "postrouting"
#define VLNFT_MAP_SNAT "edge_snat"	 /* NIC address : its outbound public address */
#define VLNFT_MAP_DNAT "edge_dnat"	 /* instance public IP : the VM's private address */
#define VLNFT_CHAIN_EDGE_IN "edge_in"	 /* nat prerouting: instance public IPs, inbound */
#define VLNFT_CHAIN_NAME_MAX 128 /* "in-<nsg>/<scope>/c<16 hex>" with an 80-character NSG name */
#define VLNFT_LOG_PREFIX_MAX 127 /* NF_LOG_PREFIXLEN - 1: the kernel keeps at most this much of a log prefix */

/* nftables datatypes (nftables src/datatype.h), stored as set key types so
 * that `nft list` shows keys the way it would have written them. */
#define VLNFT_TYPE_BITS 6 /* a concatenation's type: its fields' types, 6 bits each */
#define VLNFT_TYPE_IPADDR 7
#define VLNFT_TYPE_INET_PROTOCOL 12
#define VLNFT_TYPE_INET_SERVICE 13
#define VLNFT_TYPE_IFNAME 41
#define VLNFT_TYPE_MARK 19

/* The four stages of the forward chain, in evaluation order. */
enum vlnft_stage { VLNFT_NIC_OUT, VLNFT_SUBNET_OUT, VLNFT_SUBNET_IN, VLNFT_NIC_IN, VLNFT_N_STAGES };
extern const char *const vlnft_stage_map[VLNFT_N_STAGES]; /* map names */

/* Inclusive interval in host order. */
struct vlnft_ival {
	uint32_t lo;
	uint32_t hi;
};

struct vlnft_ivals {
	struct vlnft_ival *v;
	size_t n;
	size_t cap;
};

enum vlnft_addr_kind {
	VLNFT_A_ANY,	  /* no match needed */
	VLNFT_A_VNET,	  /* lookup @<set> (the scope's VirtualNetwork) */
	VLNFT_A_INTERNET, /* lookup != @notinet */
	VLNFT_A_IVALS,	  /* one interval: cmp/prefix/range; more: shared named set */
};

#define VLNFT_VNET_SET_MAX 24

struct vlnft_addr {
	enum vlnft_addr_kind kind;
	char set[VLNFT_VNET_SET_MAX]; /* VLNFT_A_VNET */
	struct vlnft_ivals iv;
};

enum vlnft_proto_kind {
	VLNFT_P_ANY,    /* no match */
	VLNFT_P_ONE,    /* meta l4proto <l4> */
	VLNFT_P_TCPUDP, /* protocol "*" with ports: meta l4proto @tcpudp */
};

struct vlnft_crule {
	const struct vl_rule *rule;
	enum vlnft_proto_kind pk;
	uint8_t l4;
	struct vlnft_addr src;
	struct vlnft_addr dst;
	struct vlnft_ivals sport; /* n == 0: any (or not applicable) */
	struct vlnft_ivals dport;
};

/* One NSG chain pair of a fabric: an NSG evaluated with the VirtualNetwork tag of a scope. */
struct vlnft_pair {
	int nsg;
	int scope;
};

/*
 * A fabric's ruleset in the making: its VNet, the (NSG, scope) pairs it has
 * chains for (every NSG with the system scope, plus those its subnets and
 * NICs use with another scope), and the tag sets of the scope compiled now.
 */
struct vlnft_ctx {
	const struct vl_lab *lab;
	int vnet;
	int scope;		      /* set by vlnft_ctx_scope() */
	struct vlnft_ivals vnet_tag;  /* VirtualNetwork of `scope` */
	struct vlnft_ivals notinet;   /* not the Internet tag */
	const struct vl_rule *defaults;
	size_t n_defaults;
	struct vlnft_pair *pairs; /* sorted by scope, then nsg */
	size_t n_pairs;
	bool *has_platform; /* per NSG of the lab: vl_eff_has_platform_rules(), asked once */
};

int vlnft_ctx_init(struct vlnft_ctx *c, const struct vl_lab *lab, int vnet, char *why, size_t why_len);
/* Compile from now on with the VirtualNetwork tag of `scope`. */
int vlnft_ctx_scope(struct vlnft_ctx *c, int scope, char *why, size_t why_len);
void vlnft_ctx_fini(struct vlnft_ctx *c);
/* "vnet" for the fabric's system scope, "vnet/<scope>" for the others. */
void vlnft_vnet_set_name(char *buf, const struct vlnft_ctx *c, int scope);
/* The scope of a NIC endpoint's subnet. */
int vlnft_ep_scope(const struct vl_lab *lab, int ep);

/* The rules of one NSG and direction in evaluation order (custom by priority,
 * then the defaults), compiled. Caller frees with vlnft_crules_free(). */
int vlnft_compile_nsg(const struct vlnft_ctx *c, const struct vl_nsg *nsg, enum vl_dir dir,
		      struct vlnft_crule **out, size_t *n, char *why, size_t why_len);
void vlnft_crules_free(struct vlnft_crule *r, size_t n);
/* What a compiled rule does, as 64 bits; kept in the rule's userdata so a
 * live edit can tell which kernel rules still match the model. */
uint64_t vlnft_crule_fp(const char *chain, const char *nsg, const struct vlnft_crule *cr);
/* The same in two steps, for many rules of one chain: the chain's part once, then each rule's. */
uint64_t vlnft_crule_fp_seed(const char *chain, const char *nsg);
uint64_t vlnft_crule_fp_from(uint64_t seed, const struct vlnft_crule *cr);
#define VLNFT_UDATA_RULE_FP 0x7f /* nft ignores udata types it does not know */

/*
 * NSG chain layout (nsgchain.c). A chain of up to VLNFT_CHUNK_AT rules holds them itself. A
 * longer one is cut into chunks of VLNFT_CHUNK_MIN to VLNFT_CHUNK_MAX rules, each a chain of
 * its own named after its content ("<chain>/c<16 hex digits>"); the chain itself then sets the
 * mark to 0 and jumps to its chunks in turn while the mark is still 0 (an Allow sets it and
 * returns; a Deny goes to nsg_deny), and goes to the last chunk, which
 * ends with the default rules. A live edit makes the chains of the chunks the kernel lacks and
 * patches the head (nsgrules.c: it reads the head's rules, by their fingerprints, and replaces the
 * jumps that changed), and a one-rule edit of a 1,000-rule NSG sends one chunk of rules and one
 * jump, not the 1,000.
 */
#define VLNFT_CHUNK_AT 32
/* An edit sends the chunk(s) it changes whole; each chunk costs a full commit a chain and a head
 * rule. For nft_bench's 500 rules each way, 8/8/24 makes 36 chunks and a one-rule edit sends 17
 * rules on average; 4/12/64 made 31 and 29 (its long tail past 24 the most of it). */
#define VLNFT_CHUNK_MIN 8
#define VLNFT_CHUNK_AVG 8 /* past VLNFT_CHUNK_MIN, a cut after one rule in this many */
#define VLNFT_CHUNK_MAX 24

struct vlnft_chunk {
	size_t first; /* index of its first rule in the layout's rules */
	size_t n;
	unsigned shape; /* 0: plain (a rule each); else keyed (keyed.c): the fields its rules match */
	char name[VLNFT_CHAIN_NAME_MAX];
};

/*
 * Keyed chunks (keyed.c). A run of at least VLNFT_KEYED_RUN rules in a row that each match every
 * field they match exactly (a protocol, one address, one port), the same fields all, is cut into
 * keyed chunks of VLNFT_KEYED_MIN to VLNFT_KEYED_MAX rules (fewer where the run ends): a packet has one value for those
 * fields, so at most one rule of the chunk can match it (the first of two with one key: the other
 * is never reached), and one map lookup finds it as the rules in turn would. The chunk's chain
 * "<chain>/k<16 hex>" holds three rules whatever its length, and its map of the same name one
 * element a rule (its key : its mark, commented with its name):
 *
 *   meta mark set meta l4proto . ip saddr . th dport map @<chunk>   (only the fields of the shape)
 *   meta mark & 0x80000000 != 0 return                               (an Allow)
 *   meta mark != 0 goto nsg_deny                                     (a Deny)
 *
 * The kernel takes in a rule's expressions at some 1.2 us each (it looks each type up by name),
 * an element in about 2 us less than a rule: a 1,000-rule allow list commits in a tenth of the time.
 */
#define VLNFT_KEY_PROTO 1u
#define VLNFT_KEY_SADDR 2u
#define VLNFT_KEY_DADDR 4u
#define VLNFT_KEY_SPORT 8u
#define VLNFT_KEY_DPORT 16u
#define VLNFT_KEYED_RUN 8
#define VLNFT_KEYED_MIN 32
#define VLNFT_KEYED_AVG 32
#define VLNFT_KEYED_MAX 128
/* The fields rule cr matches, when it matches each exactly (0: it cannot be keyed). */
unsigned vlnft_crule_shape(const struct vlnft_crule *cr);

struct vlnft_layout {
	char chain[VLNFT_CHAIN_NAME_MAX];
	const char *nsg;
	struct vlnft_crule *cr; /* the chain's rules in evaluation order */
	uint64_t *fp;		/* vlnft_crule_fp of each */
	size_t n;
	struct vlnft_chunk *chunks; /* NULL: the rules are in `chain` itself */
	size_t n_chunks;
};

/* Lay out NSG nsg's chain of `dir` with the VirtualNetwork tag of `scope` (set in c by
 * vlnft_ctx_scope before). Free with vlnft_layout_fini(). 0 or -errno (why says). */
int vlnft_layout_nsg(const struct vlnft_ctx *c, const struct vl_nsg *nsg, int scope, enum vl_dir dir,
		     struct vlnft_layout *l, char *why, size_t why_len);
void vlnft_layout_fini(struct vlnft_layout *l);
/* Is `name` a chunk chain of `chain` (as vlnft_layout_nsg names them)? */
bool vlnft_is_chunk_of(const char *name, const char *chain);
/* Is `name` a keyed chunk's (its chain's and its map's)? */
bool vlnft_is_keyed_chunk(const char *name);

/*
 * Lists of at least VLNFT_SET_MIN intervals become a named set, one per
 * distinct content, named after it ("a" + 16 hex digits for addresses, "p"
 * for ports) and shared by every rule of the table that has that list.
 * Shorter lists are expanded into one nft rule per combination.
 */
#define VLNFT_SET_MIN 3
#define VLNFT_SET_NAME_MAX 20
struct vlnft_named {
	char name[VLNFT_SET_NAME_MAX];
	bool addr; /* ipv4_addr, else inet_service */
	struct vlnft_ivals iv;
};
void vlnft_set_name(char *buf, bool addr, const struct vlnft_ivals *iv);
bool vlnft_is_list_set(const char *name); /* a name vlnft_set_name() makes */
/* Every list set the lab's NSG rules use, sorted by name. Caller frees with vlnft_named_free(). */
int vlnft_lab_sets(struct vlnft_ctx *c, struct vlnft_named **out, size_t *n, char *why, size_t why_len);
/* The same for the rules of NSG nsg alone (VL_NONE: every NSG, as vlnft_lab_sets). */
int vlnft_nsg_sets(struct vlnft_ctx *c, int nsg, struct vlnft_named **out, size_t *n, char *why, size_t why_len);
void vlnft_named_free(struct vlnft_named *v, size_t n);
/* Lists being gathered (unsorted, with repeats) until vlnft_lists_finish() sorts them by name and
 * drops the repeats (-EEXIST, why says, if two lists hash to one name). */
struct vlnft_lists {
	struct vlnft_named *v;
	size_t n, cap;
};
/* The lists of n compiled rules. */
int vlnft_lists_add(struct vlnft_lists *l, const struct vlnft_crule *cr, size_t n);
/* The lists of NSG nsg's rules of `dir` with the VirtualNetwork tag of c's scope, without laying
 * the chain out (no order, no expansion: the same lists, for less). */
int vlnft_lists_add_nsg(const struct vlnft_ctx *c, struct vlnft_lists *l, const struct vl_nsg *nsg,
			enum vl_dir dir, char *why, size_t why_len);
/* Hand the lists out sorted and unique (*out: free with vlnft_named_free); l is empty after. */
int vlnft_lists_finish(struct vlnft_lists *l, struct vlnft_named **out, size_t *n, char *why, size_t why_len);
void vlnft_lists_fini(struct vlnft_lists *l);

/* Names of the list sets (vlnft_is_list_set) of table ip vnetlab. Caller frees *out. 0 or -errno. */
int vlnft_dump_sets(int nsfd, char (**out)[VLNFT_SET_NAME_MAX], size_t *n, char *why, size_t why_len);
/* Names of the chains of table ip vnetlab, sorted (strcmp). Caller frees *out. 0 or -errno;
 * -ENOENT: no such table. */
int vlnft_dump_chains(int nsfd, char (**out)[VLNFT_CHAIN_NAME_MAX], size_t *n, char *why, size_t why_len);

/* A rule of a chain in the kernel: its handle and the fingerprint in its userdata (0: none). */
struct vlnft_krule {
	uint64_t handle;
	uint64_t fp;
};
/* The rules of chain `chain` of table ip vnetlab in their order. Caller frees *out. 0 or -errno. */
int vlnft_dump_rules(int nsfd, const char *chain, struct vlnft_krule **out, size_t *n, char *why,
		     size_t why_len);

int vlnft_ivals_push(struct vlnft_ivals *iv, uint32_t lo, uint32_t hi);
void vlnft_ivals_merge(struct vlnft_ivals *iv); /* sort, join overlapping and adjacent */
void vlnft_ivals_free(struct vlnft_ivals *iv);
int vlnft_ivals_copy(struct vlnft_ivals *dst, const struct vlnft_ivals *src); /* appends src to dst */
uint32_t vlnft_prefix_last(struct vl_prefix p); /* last address of p */
/* Prefix length if [lo,hi] is exactly one prefix, else -1. */
int vlnft_ival_prefix_len(const struct vlnft_ival *i);

/* "in-<nsg>" / "out-<nsg>" for the fabric's system scope, "in-<nsg>/<scope>" for others. */
void vlnft_chain_name(char *buf, const struct vlnft_ctx *c, const char *nsg, int scope, enum vl_dir dir);

/* One transaction being serialised. */
struct vlnft_batch {
	char *buf;
	size_t len;
	size_t cap;
	uint32_t seq0;
	uint32_t seq;
	uint32_t set_id;
	size_t last_msg; /* offset of the last object message (gets NLM_F_ACK) */
	char (*labels)[96];
	size_t n_labels;
	size_t cap_labels;
	int err;
};

int vlnft_batch_init(struct vlnft_batch *b);
void vlnft_batch_fini(struct vlnft_batch *b);
/* Start a message of at most `room` bytes; NULL on allocation failure (b->err set). */
struct nlmsghdr *vlnft_batch_msg(struct vlnft_batch *b, size_t room, uint16_t type, uint16_t flags,
				 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Account for the message just built with vlnft_batch_msg(). */
void vlnft_batch_done(struct vlnft_batch *b, struct nlmsghdr *nlh);
/* Close the batch (NFNL_MSG_BATCH_END); 0 or b->err. */
int vlnft_batch_finish(struct vlnft_batch *b);
/* Send a finished batch on a NETLINK_NETFILTER socket opened inside nsfd. */
int vlnft_batch_send(struct vlnft_batch *b, int nsfd, char *why, size_t why_len);

/* Builders (lab/nft/fabric.c, masq.c): one finished batch each. */
int vlnft_nsg_build(const struct vl_lab *lab, int vnet, int nsg, struct vlnft_batch *b, char *why,
		    size_t why_len);
int vlnft_masq_build(const struct vl_lab *lab, int node_ep, struct vlnft_batch *b, char *why, size_t why_len);
/* kube-proxy's chains of an AKS node (kproxy.c), into the node's batch: nothing without Services. */
int vlnft_kproxy_emit(const struct vl_lab *lab, int node_ep, struct vlnft_batch *b);
/* The same chains in `nft -f` syntax, inside the node's table (up --dry-run). */
void vlnft_kproxy_print(const struct vl_lab *lab, int node_ep, FILE *f);
/* Network policy chains of an AKS node (netpol.c), into the node's batch: nothing when no pod of
 * the node is isolated. */
int vlnft_netpol_emit(const struct vl_lab *lab, int node_ep, struct vlnft_batch *b);
bool vlnft_netpol_needed(const struct vl_lab *lab, int node_ep);
/* The same chains in `nft -f` syntax, inside the node's table (up --dry-run). */
void vlnft_netpol_print(const struct vl_lab *lab, int node_ep, FILE *f);
/* "np-in/<pod>", "np-out/<pod>"; the NFLOG prefix "np:in/<pod>", "np:out/<pod>". */
void vlnft_netpol_chain(char *buf, size_t len, const struct vl_lab *lab, int pod, enum vl_dir d);
void vlnft_netpol_prefix(char *buf, size_t len, const struct vl_lab *lab, int pod, enum vl_dir d);

/*
 * What a fabric's ruleset holds besides the NSG rules, shared by the builder
 * (fabric.c) and the printer (print.c) so that both say the same thing.
 */
struct vlnft_jump {
	char ifname[16];
	char chain[VLNFT_CHAIN_NAME_MAX];
	int nsg, scope; /* the pair the chain evaluates */
};

struct vlnft_ifval {
	char ifname[16];
	uint32_t value;
};

struct vlnft_kv {
	uint32_t key, value;
};

/* A LoadBalancer frontend port of the fabric: packets from the edge to ip:port go to one of the
 * healthy backends, by a hash of the client's address and port, as a fwmark (vl_lb_mark). */
struct vlnft_lbport {
	uint32_t ip;
	uint8_t l4;
	uint16_t port;
	uint32_t *marks;
	size_t n_marks;
};

struct vlnft_shape {
	struct vlnft_jump *stage[VLNFT_N_STAGES]; /* ifname : jump <chain>, per stage map */
	size_t n_stage[VLNFT_N_STAGES];
	struct vlnft_ifval *marks; /* NIC : fwmark of its scope's routing table */
	size_t n_marks;
	struct vlnft_ifval *nofwd; /* NICs that VirtualAppliance routes target but that do not forward:
				    * packets to them for another address are rejected (host unreachable) */
	size_t n_nofwd;
	struct vlnft_ivals *fwd; /* per peering without allowForwardedTraffic: the sources it admits */
	char (*fwd_if)[16];	 /* ... and its link ("pr<remote>") */
	size_t n_fwd;
	int *scopes; /* scopes whose VirtualNetwork set the fabric holds (its system scope first) */
	size_t n_scopes;
	uint32_t outbound; /* SNAT address on the edge */
	struct vlnft_kv *snat; /* NIC address : the address the Internet sees it with (spec 14.1) */
	size_t n_snat;
	struct vlnft_kv *ilpip; /* instance public IP : the VM's address (1:1, inbound) */
	size_t n_ilpip;
	struct vlnft_lbport *lb;
	size_t n_lb;
};

int vlnft_shape_init(struct vlnft_shape *s, const struct vlnft_ctx *c);
void vlnft_shape_fini(struct vlnft_shape *s);

/*
 * The AzurePlatform* rules in the kernel (platform.c, spec 19.4, docs/nsg-semantics.md):
 *
 *   set platform_ips    { 168.63.129.16, 169.254.169.254 }
 *   map platform_nic, platform_subnet   ifname : jump plat-<nsg>[/<k>], only for NSGs that have
 *                       platform rules (vl_eff_platform_rules)
 *   chain plat-<nsg>[/<k>]   those rules by priority: Deny logs and drops, Allow returns
 *   chain platform      hook input: ct state established,related accept; then for packets to
 *                       @platform_ips, iifname vmap @platform_nic, iifname vmap @platform_subnet;
 *                       policy accept (no platform rule matches: the bypass)
 */
#define VLNFT_CHAIN_PLATFORM "platform"
#define VLNFT_SET_PLATFORM "platform_ips"
#define VLNFT_MAP_PLATFORM_NIC "platform_nic"
#define VLNFT_MAP_PLATFORM_SUBNET "platform_subnet"
/* "plat-<nsg>" for the fabric's system scope, "plat-<nsg>/<scope>" for others. */
void vlnft_platform_chain_name(char *buf, const struct vlnft_ctx *c, const char *nsg, int scope);
/* The platform part of a full commit (after the NSG chains' rules). */
int vlnft_platform_emit(struct vlnft_ctx *c, struct vlnft_batch *b, const struct vlnft_shape *sh, char *why,
			size_t why_len);
/* A live edit of NSG nsg: its platform chains refilled (made, or deleted when it has no platform
 * rule left) and the two maps refilled, when it has platform rules or `had` them. */
int vlnft_platform_edit(struct vlnft_ctx *c, struct vlnft_batch *b, int nsg, bool had, char *why,
			size_t why_len);

/* The platform part as `nft -f` text, inside the table (print.c). */
void vlnft_platform_print(struct vlnft_ctx *c, const struct vlnft_shape *sh, FILE *f);
/* A compiled rule's match (protocol, addresses, ports, "counter ") as `nft -f` text, after "\t\t". */
void vlnft_print_match(FILE *f, const struct vlnft_crule *cr);
/* Pairs a pair meter of lab's tables holds at most (VL_NFT_LOG_PAIRS_MIN..._MAX). */
uint32_t vlnft_log_pairs(const struct vl_lab *lab);
/* The set of a pair meter, the ceiling, and the limits of vlnft_rx_log_limits, in nft syntax. */
void vlnft_print_pair_meter(FILE *f, const struct vl_lab *lab, const char *name);
void vlnft_print_log_ceiling(FILE *f);
void vlnft_print_log_limits(FILE *f, const char *set);

/* Masquerade parameters of a node, shared by builder and printer. */
struct vlnft_masq {
	enum vl_plugin plugin;
	uint32_t node_ip;
	struct vl_prefix pod_cidr; /* kubenet: the node's /24 */
	struct vlnft_ivals nonmasq;
};
int vlnft_masq_params(const struct vl_lab *lab, int node_ep, struct vlnft_masq *m, char *why, size_t why_len);

/*
 * What a batch knows of the kernel's table. A full commit makes the table anew (none). A live
 * edit reads the names of its chains and list sets first (known); an offline edit batch
 * (vl_nft_nsg_batch) knows nothing and writes what is right whatever the kernel holds.
 */
struct vlnft_kstate {
	bool known;
	const char (*chains)[VLNFT_CHAIN_NAME_MAX]; /* sorted */
	size_t n_chains;
	const char (*sets)[VLNFT_SET_NAME_MAX]; /* sorted */
	size_t n_sets;
	int nsfd; /* the namespace, to read a chain's rules (-1: not read) */
};

/* A keyed chunk's map (keyed.c): its fields, their nft type, and its elements, the rules of the
 * chunk in order without those an earlier one's key hides. */
#define VLNFT_KEY_MAX 20 /* bytes of a set key: an ifname, or five fields of 4 */
struct vlnft_keyed_elem {
	uint8_t key[VLNFT_KEY_MAX];
	uint32_t mark; /* the rule id, with VL_FLOW_MARK_ALLOW for an Allow */
	const struct vlnft_crule *cr;
};
int vlnft_keyed_fields(unsigned shape);
uint32_t vlnft_keyed_key_type(unsigned shape);
int vlnft_keyed_elems(const struct vlnft_layout *l, const struct vlnft_chunk *k, struct vlnft_keyed_elem **out,
		      size_t *n);
/* Keyed chunk k of l into b: its map and elements, then its chain's three rules (the caller made
 * the chain; blind, the map is emptied before it is filled, as it may hold what it held). */
int vlnft_keyed_emit(struct vlnft_batch *b, const struct vlnft_layout *l, const struct vlnft_chunk *k,
		     bool blind);

/* The chains of pair k (nsgrules.c): a full commit's (ks NULL; the chains exist) or an edit's. */
int vlnft_nsg_pair_emit(struct vlnft_ctx *c, struct vlnft_batch *b, size_t k, const struct vlnft_kstate *ks,
			char *why, size_t why_len);
/* A live edit of NSG nsg whose rules of the directions in `dirs` (VL_NFT_DIR_IN, _OUT) changed:
 * the chains of those directions, the platform chains if outbound, and the list sets that come
 * or go. The chains of a direction not in dirs are left as the kernel has them (ks known; blind,
 * both directions are written). */
int vlnft_nsg_edit_build(struct vlnft_ctx *c, int nsg, unsigned dirs, const struct vlnft_kstate *ks,
			 struct vlnft_batch *b, char *why, size_t why_len);
/* The kernel's chain and list-set names into ks (it points into *chains and *sets, which the
 * caller frees). No table: ks not known. 0 or -errno. */
int vlnft_read_kernel(int nsfd, struct vlnft_kstate *ks, char (**chains)[VLNFT_CHAIN_NAME_MAX],
		      char (**sets)[VLNFT_SET_NAME_MAX], char *why, size_t why_len);

#endif
