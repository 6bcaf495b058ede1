/* SPDX-License-Identifier: MIT */
/* One real connection attempt from inside an endpoint's namespace. */
#ifndef VNETLAB_PROBE_H
#define VNETLAB_PROBE_H

#include "vnetlab/model.h"

/*
 * CONNECTED: TCP handshake done; UDP or ICMP: a reply came back (UDP port 53: a DNS response).
 * REFUSED: the target said no (a TCP reset, or ICMP port unreachable from the target).
 * TIMEOUT: nothing came back. DROPPED: the agent saw an NSG rule drop it.
 * UNREACHABLE: the network said there is no way there (no route, an unreachable or
 * prohibit route, ICMP destination unreachable other than port unreachable, time exceeded).
 */
enum vl_probe_status {
	VL_PROBE_CONNECTED,
	VL_PROBE_REFUSED,
	VL_PROBE_TIMEOUT,
	VL_PROBE_DROPPED,
	VL_PROBE_UNREACHABLE,
};

struct vl_probe_result {
	enum vl_probe_status status;
	char seen_source[16]; /* what the target's app reported, "" if none */
	char answered_by[64]; /* the endpoint whose app answered (a Service's pod), "" if none */
	char nsg[96];	      /* when dropped */
	char rule[96];
	double ms;	/* time to the result */
	uint16_t sport; /* local port used */
	/* A probe to a Service: the pod kube-proxy sent it to and the node whose kube-proxy did (from
	 * conntrack, or the drop record after the DNAT), VL_NONE when not known. */
	int backend_pod, backend_node;
};

/* "connected", "refused", "timeout", "dropped", "unreachable" */
const char *vl_probe_status_name(enum vl_probe_status s);

/*
 * Probe from endpoint `from` of a lab that is up (state in dir) to dst:port.
 * TCP: connect (and, when the target runs an app, read what it saw).
 * UDP: send a datagram, wait for a reply; to port 53 the datagram is a DNS
 * query for the source endpoint's own name. ICMP: echo request. A drop
 * reported by the agent ends the wait early. 0 with *r filled, or -errno.
 */
int vl_probe_run(const struct vl_lab *lab, const char *dir, int from, uint32_t dst, enum vl_proto proto,
		 uint16_t port, int timeout_ms, struct vl_probe_result *r);

/*
 * What a failed connect, send or receive (errno e) says: REFUSED, UNREACHABLE or
 * TIMEOUT; -1 when e is no answer from the network (a local error).
 */
int vl_probe_errno_status(int e);
/*
 * What an ICMP error (type, code) about our packet says: port unreachable from the
 * target itself is REFUSED; any other destination unreachable, or time exceeded,
 * is UNREACHABLE; -1 for any other message.
 */
int vl_probe_icmp_status(uint8_t type, uint8_t code, bool from_target);
/*
 * An ICMP message as a raw ICMP socket reads it (IPv4 header first), seen while
 * waiting for the reply to our echo (to dst, with id): CONNECTED for the reply,
 * the vl_probe_icmp_status of an error that quotes our echo, -1 when it is not about it.
 */
int vl_probe_icmp_verdict(const void *pkt, size_t len, uint32_t dst, uint16_t id);

/*
 * The ICMP error queued on a UDP socket with IP_RECVERR: its status (refused only for a port
 * unreachable from dst itself, else unreachable), or -1 when none is queued.
 */
int vl_probe_udp_error(int fd, uint32_t dst);

/*
 * The conntrack entry, in the caller's network namespace, whose original tuple is proto
 * src:sport -> dst:dport: its reply's source, i.e. where a DNAT sent the flow (lab/probe/ct.c).
 * 0 with *reply_src set, -ENOENT when there is no such entry, or -errno.
 */
int vl_ct_reply_source(enum vl_proto proto, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
		       uint32_t *reply_src);

/*
 * A probe from endpoint `from` to dst:dport (a Service) that used source port sport: the pod, and
 * the node whose kube-proxy sent it there, as the conntrack entries of the nodes that may have done
 * it say. 0, -ENOENT when none knows the flow (not a Service, or dropped before a node kept it), or
 * -errno.
 */
int vl_probe_backend(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
		     uint16_t dport, int *pod, int *node);

#endif
