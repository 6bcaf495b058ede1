/* SPDX-License-Identifier: MIT */
/*
 * NSG flow records (lab/agent/flowlog.c, pure): what the agent writes for each flow an NSG
 * decided, one line each in /run/vnetlab/<lab>/flows, and the same records as an NSG flow log
 * version 2 document (spec 20.1) in /run/vnetlab/<lab>/nsg-flowlog.json.
 *
 * A line: "flow <unix ms> A|D <proto> <src> <sport> <dst> <dport> I|O|? <nsg>/<rule>" or, when
 * the agent could not name the rule, "... ? ~<16 hex>" (the rule id, vl_rule_id).
 */
#ifndef VNETLAB_FLOWLOG_H
#define VNETLAB_FLOWLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vnetlab/model.h"

#define VL_FLOW_FILE "flows"		   /* in the lab's state directory; rotated to flows.1 */
#define VL_FLOW_V2_FILE "nsg-flowlog.json" /* rotated to nsg-flowlog.json.1 */
#define VL_FLOW_FILE_MAX (1u << 20)	   /* each file rotates past this */
#define VL_FLOW_SUBSCRIPTION "00000000-0000-0000-0000-000000000000"
#define VL_FLOW_V2_RULE_MAX 65 /* Azure truncates rule names past this in flow logs */
#define VL_FLOW_V2_NSG_MAX 80  /* and NSG names past this */

struct vl_flow {
	int64_t ms; /* unix time in milliseconds */
	bool allowed;
	enum vl_proto proto;
	uint32_t src, dst; /* host order */
	uint16_t sport, dport;
	char dir; /* 'I', 'O', or '?' while the rule is unknown */
	bool default_rule;
	char nsg[96];
	char rule[96];
	uint64_t id; /* the rule id; nsg and rule "" until resolved */
};

/* The line of f (with its newline); its length or -ENOSPC. */
int vl_flow_format(char *buf, size_t len, const struct vl_flow *f);
/* Parse one line (trailing newline optional). 0 or -EINVAL. */
int vl_flow_parse(const char *line, struct vl_flow *f);
/*
 * Name f's rule in lab (by id when f has no names) and fill dir and default_rule from it.
 * 0, or -ENOENT when lab has no such rule (f keeps its id).
 */
int vl_flow_resolve(const struct vl_lab *lab, struct vl_flow *f);

/*
 * The version 2 flow tuple: "unixSeconds,src,dst,sport,dport,T|U,I|O,A|D,B,,,," (the lab logs
 * the first packet of a flow only: state B, no counters). -EINVAL for a protocol version 2 does
 * not define (ICMP and others) or an unknown direction; else the length, or -ENOSPC.
 */
int vl_flow_v2_tuple(char *buf, size_t len, const struct vl_flow *f);
/* "UserRule_<rule>" or "DefaultRule_<rule>", the rule cut at VL_FLOW_V2_RULE_MAX. */
void vl_flow_v2_rule(char *buf, size_t len, const struct vl_flow *f);
/* The NIC's MAC as the log spells it, 12 hex digits: 00-0D-3A (Azure's prefix) and the NIC's
 * address's last three bytes (an approximation: not the kernel's eth0 address). */
void vl_flow_v2_mac(char buf[13], uint32_t nic_ip);
/*
 * One record of the version 2 document (a JSON object, no trailing newline) for flows f[0..n)
 * of one NSG, all resolved and with a v2 tuple: grouped by rule, then by NIC (the destination's
 * for inbound, the source's for outbound), time from the first. 0 or -ENOMEM.
 */
int vl_flow_v2_record(FILE *out, const char *lab, const struct vl_flow *f, size_t n);

#endif
