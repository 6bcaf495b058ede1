/* SPDX-License-Identifier: MIT */
/*
 * nftables rulesets of a lab, built with libnftnl and committed with libmnl,
 * one transaction (batch) per namespace per change.
 *
 * Fabric (one per VNet): table "ip vnetlab" with base chains
 *   "forward": ct state established,related accept; then per new flow, jumps
 *   to "out-<nsg>" for the source NIC NSG and source subnet NSG (by iifname),
 *   "in-<nsg>" for the destination subnet NSG and NIC NSG (by oifname),
 *   through four ifname verdict maps (nic_out, subnet_out, subnet_in,
 *   nic_in); then appliances without IP forwarding reject what is not theirs.
 *   In an NSG chain a rule puts its rule id (vl_rule_id) in the packet's mark:
 *   an Allow with VL_FLOW_MARK_ALLOW and returns, a Deny goes to chain
 *   "nsg_deny", which logs (rate-limited) to NFLOG group VL_NFLOG_GROUP with
 *   prefix VL_NFLOG_PREFIX_DENY and drops. After the stages a new flow whose
 *   mark says an Allow decided is logged (rate-limited) to group
 *   VL_NFLOG_FLOW_GROUP with prefix VL_NFLOG_PREFIX_ALLOW: the mark names the
 *   last Allow rule, the rule of the last NSG that allowed it, as Azure's flow
 *   log names it (spec 20.1). An NSG used with a
 *   scope other than the VNet's system scope has chains "in-<nsg>/<scope>"
 *   matching VirtualNetwork against set "vnet/<scope>".
 *   "prerouting": meta mark set iifname map @route_marks (per-subnet route tables).
 *   "postrouting" (nat): oifname "edge" snat to the VNet's default outbound address.
 * AKS node: table "ip vnetlab" with chain "postrouting" (nat): ip-masq-agent.
 */
#ifndef VNETLAB_NFT_H
#define VNETLAB_NFT_H

#include <stdio.h>

#include "vnetlab/model.h"
#include "vnetlab/plan.h"

#define VL_NFT_TABLE "vnetlab"
#define VL_NFLOG_GROUP 7	     /* denied packets */
#define VL_NFLOG_FLOW_GROUP 8 /* the first packet of each flow an NSG allowed */
#define VL_NFLOG_PREFIX_DENY "vl-deny"
#define VL_NFLOG_PREFIX_ALLOW "vl-allow"
#define VL_FLOW_MARK_ALLOW 0x80000000u /* the mark's rule id is an Allow's */
#define VL_FLOW_MARK_ID 0x7fffffffu    /* the rule id in the mark */
/* Logged packets per second from one address to another (a token bucket per pair, each for
 * denies and allows), so that one flood does not starve the attribution of every other flow. */
#define VL_NFT_LOG_RATE 1000
#define VL_NFT_LOG_BURST 5000
/* ... and in all, one bucket per table for every log rule in it (a named limit), so that floods
 * between many pairs cannot flood the agent or its disk; the burst covers a verify's window of
 * flows starting at once. */
#define VL_NFT_LOG_MAX_RATE 20000
#define VL_NFT_LOG_MAX_BURST 50000
/* Pairs with a bucket at most, per table and log: the square of the lab's endpoints, within these
 * bounds (a full set logs no new pair; a pair's bucket goes 60 s after its last packet). */
#define VL_NFT_LOG_PAIRS_MIN 65536
#define VL_NFT_LOG_PAIRS_MAX (1 << 20)
#define VL_NFT_LOG_PAIR_TIMEOUT_S 60

/* Replace VNet `vnet`'s fabric ruleset atomically inside namespace fabric_nsfd. 0 or -errno. */
int vl_nft_fabric_commit(const struct vl_lab *lab, int vnet, int fabric_nsfd, char *why, size_t why_len);
/* Replace only the chains of one NSG in one fabric (a live edit), atomically. 0 or -errno. */
int vl_nft_nsg_commit_one(const struct vl_lab *lab, int vnet, int nsg, int fabric_nsfd, char *why,
			  size_t why_len);
/* Directions of an NSG's rules, as a mask: which ones an edit changed. */
#define VL_NFT_DIR_IN (1u << VL_DIR_IN)
#define VL_NFT_DIR_OUT (1u << VL_DIR_OUT)
#define VL_NFT_DIRS (VL_NFT_DIR_IN | VL_NFT_DIR_OUT)
/*
 * The same when only the rules of the directions in `dirs` changed since the kernel last had
 * the NSG (an edit of one rule: its old and new direction): only their chains are compiled and
 * rewritten; the other direction's chains, and with it inbound-only the platform chains, stay
 * as the kernel has them. vl_nft_nsg_commit_one is dirs = VL_NFT_DIRS. -EINVAL for no direction.
 */
int vl_nft_nsg_commit_dirs(const struct vl_lab *lab, int vnet, int nsg, unsigned dirs, int fabric_nsfd,
			   char *why, size_t why_len);
/* Commit a ruleset of the plan, whatever its kind, in its namespace. 0 or -errno. */
int vl_nft_ruleset_commit(const struct vl_lab *lab, const struct vl_plan_ruleset *rs, int nsfd, char *why,
			  size_t why_len);
const char *vl_nft_ruleset_name(enum vl_ruleset_kind kind); /* "fabric", "masquerade" */
/* Install the masquerade ruleset of AKS node endpoint `node_ep` in its namespace. */
int vl_nft_masq_commit(const struct vl_lab *lab, int node_ep, int node_nsfd, char *why, size_t why_len);
/* The fabric ruleset (and a node's masquerade) in `nft list ruleset` syntax, for --dry-run. */
void vl_nft_fabric_print(const struct vl_lab *lab, int vnet, FILE *f);
void vl_nft_masq_print(const struct vl_lab *lab, int node_ep, FILE *f);

/*
 * Commits keep one netfilter socket per namespace open (up to 16; closing one
 * right after a commit costs an RCU grace period, ~12 ms, 40 times a small
 * commit). Each pins its namespace until closed: call this when a lab is
 * done (teardown, before deleting its namespaces); process exit also does.
 */
void vl_nft_release(void);

/*
 * The serialised transaction the commit functions send (batch begin … end),
 * for tests and benchmarks. nsg = VL_NONE: VNet vnet's full fabric ruleset, else
 * the live edit of that NSG there. On success the caller frees *buf. 0 or -errno.
 */
int vl_nft_nsg_batch(const struct vl_lab *lab, int vnet, int nsg, void **buf, size_t *len, char *why,
		     size_t why_len);
int vl_nft_masq_batch(const struct vl_lab *lab, int node_ep, void **buf, size_t *len, char *why,
		      size_t why_len);

#endif
