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
 * bound to NFLOG group `group`, copying `copy` bytes of each packet, flushed
 * per packet. The socket is left nonblocking. 0 or -errno.
 */
int vl_nflog_open(uint16_t group, uint32_t copy, struct mnl_socket **out);

/* Call cb for each logged packet in buf (one recv() of the socket). 0 or -errno. */
int vl_nflog_parse(const void *buf, size_t len, void (*cb)(const struct vl_drop *d, void *data), void *data);

#endif
