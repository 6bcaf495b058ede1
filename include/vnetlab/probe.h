/* SPDX-License-Identifier: MIT */
/* One real connection attempt from inside an endpoint's namespace. */
#ifndef VNETLAB_PROBE_H
#define VNETLAB_PROBE_H

#include "vnetlab/model.h"

enum vl_probe_status { VL_PROBE_CONNECTED, VL_PROBE_REFUSED, VL_PROBE_TIMEOUT, VL_PROBE_DROPPED };

struct vl_probe_result {
	enum vl_probe_status status;
	char seen_source[16]; /* what the target's app reported, "" if none */
	char nsg[96];	      /* when dropped */
	char rule[96];
	double ms;	/* time to the result */
	uint16_t sport; /* local port used */
};

const char *vl_probe_status_name(enum vl_probe_status s); /* "connected", "refused", "timeout", "dropped" */

/*
 * Probe from endpoint `from` of a lab that is up (state in dir) to dst:port.
 * TCP: connect (and, when the target runs an app, read what it saw).
 * UDP: send a datagram, wait for a reply. ICMP: echo request. A drop
 * reported by the agent ends the wait early. 0 with *r filled, or -errno.
 */
int vl_probe_run(const struct vl_lab *lab, const char *dir, int from, uint32_t dst, enum vl_proto proto,
		 uint16_t port, int timeout_ms, struct vl_probe_result *r);

#endif
