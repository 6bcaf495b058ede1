/* SPDX-License-Identifier: MIT */
/* The agent's NFLOG subscription (libmnl), internal to lab/agent and its tests. */
#ifndef VNETLAB_AGENT_NFLOG_H
#define VNETLAB_AGENT_NFLOG_H

#include <stddef.h>
#include <stdint.h>

#include "vnetlab/agent.h"

struct mnl_socket;

/*
 * Open a NETLINK_NETFILTER socket in the calling thread's network namespace,
 * bound to NFLOG groups groups[0..n), copying `copy` bytes of each packet, flushed
 * per packet. The socket is left nonblocking. 0 or -errno.
 */
int vl_nflog_open(const uint16_t *groups, size_t n_groups, uint32_t copy, struct mnl_socket **out);

/*
 * Call cb for each logged packet in buf (one recv() of the socket). Prefix VL_NFLOG_PREFIX_DENY
 * or VL_NFLOG_PREFIX_ALLOW: the rule id is the packet mark's (allowed set for the latter);
 * any other prefix is a drop tag (vl_drop_set_prefix). 0 or -errno.
 */
int vl_nflog_parse(const void *buf, size_t len, void (*cb)(const struct vl_drop *d, void *data), void *data);

#endif
