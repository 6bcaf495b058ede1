/* SPDX-License-Identifier: MIT */
/*
 * `verify`: every flow of a lab, the evaluator's verdict and a real probe side
 * by side. The plan (the flow list, each flow's source port and verdict, and
 * the comparison) is pure; vl_verify_run() probes all flows of a lab that is
 * up in parallel, from one epoll loop.
 *
 * Ownership: struct vl_verify owns its flow array and its interned strings;
 * vl_verify_free() releases them. Flows point into the lab (rules), which
 * must outlive them.
 */
#ifndef VNETLAB_VERIFY_H
#define VNETLAB_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnetlab/eval.h"
#include "vnetlab/probe.h"

/* Source ports are assigned from [VL_VERIFY_PORT_LO, VL_VERIFY_PORT_LO + VL_VERIFY_PORT_SPAN). */
#define VL_VERIFY_PORT_LO 10000
#define VL_VERIFY_PORT_SPAN 50000

struct vl_verify_flow {
	int from, to;	      /* endpoint indexes; to is VL_NONE for a flow to a clusterIP or a frontend, the
			       * node for a flow to its NodePort */
	int svc_cluster, svc; /* a flow to service svc of cluster svc_cluster (a clusterIP, a frontend or a
			       * node's NodePort), else VL_NONE */
	uint32_t dst;
	enum vl_proto proto; /* TCP or UDP */
	uint16_t dport;
	uint16_t sport; /* planned; after the run, the one the kernel used */
	/* the evaluator */
	enum vl_outcome outcome;
	int nsg;		    /* deciding NSG or VL_NONE */
	const struct vl_rule *rule; /* deciding rule or NULL */
	int np_pod;		    /* denied by a network policy: the pod whose policies did, else VL_NONE */
	enum vl_dir np_dir;	    /* ... ingress (VL_DIR_IN) or egress */
	/* A flow to a Service: the backends it may get, v->backends[backend0 .. backend0 + n_backends),
	 * each with its own verdict (the fields above are those of the evaluator's own pick); mixed when
	 * their outcomes differ. */
	size_t backend0, n_backends;
	bool mixed;
	/* the kernel (after vl_verify_run) */
	bool probed;
	enum vl_probe_status status;
	int err;	      /* a local error (-errno) instead of a result, else 0 */
	const char *drop;     /* DROPPED: "nsg/rule" the agent reported (interned in struct vl_verify) */
	double ms;	      /* time from its first packet to the result */
	int reached_pod;      /* a flow to a Service: the pod the kernel DNATed it to (conntrack, or the
			       * drop record), VL_NONE when unknown */
	int reached_node;     /* ... and the node whose kube-proxy did (VL_NONE: unknown) */
};

struct vl_verify {
	struct vl_verify_flow *flows;
	size_t n_flows;
	struct vl_backend_verdict *backends; /* the backends of the flows to Services */
	size_t n_backends;
	char **strings; /* interned drop names */
	size_t n_strings;
	/* NodePort flows left out: to a node without a pod of an externalTrafficPolicy Local Service
	 * that has pods elsewhere (kube-proxy drops them; the lab's node refuses them) */
	size_t not_planned;
	bool watched;	/* vl_verify_run had the agent's drop records */
	size_t retried; /* flows tried a second time */
};

/*
 * The flows of a lab: for every ordered pair of distinct endpoints (from
 * matching `from`, to matching `to`; NULL: any) and every port the target's
 * app listens on, one TCP flow, and one UDP flow for echo. Then, unless `to`
 * names an endpoint, every Service port (`to` may name the Service): its
 * clusterIP from each pod and node of its cluster, and a LoadBalancer's
 * frontend from each Internet host; and, unless `to` names an endpoint other
 * than a node, each node's NodePort of each NodePort and LoadBalancer Service
 * (`to` may name the node) from every endpoint but the Internet's hosts, the
 * node itself and its pods (a Local Service's NodePort on a node without its
 * pod is counted in not_planned); each with every backend the flow may get. A pair whose target
 * address means another endpoint from the source's side (overlapping address
 * spaces) is left out. Source ports are assigned from port_base upward, one
 * counter per NIC address (a pod counts with its node, whose address it may be
 * masqueraded to), so that a drop record names one flow. Each flow gets the
 * evaluator's verdict. 0, -ENOENT when `from` or `to` names no endpoint, -ENOMEM.
 */
int vl_verify_plan(const struct vl_lab *lab, const char *from, const char *to, uint16_t port_base,
		   struct vl_verify *out);
void vl_verify_free(struct vl_verify *v);

/*
 * Do the two sides agree? connected/refused = delivered; dropped by the same
 * nsg/rule = denied; unreachable = unreachable; timeout = nohost. A flow to a
 * Service is compared with the backend the kernel reached (connected only if
 * its pod listens, refused only if it does not); when the kernel's pick is not
 * known, with each backend it may have reached: it agrees when one does.
 */
bool vl_verify_agrees(const struct vl_lab *lab, const struct vl_verify *v, const struct vl_verify_flow *f);
/* The backend of flow f the kernel reached, or NULL (not a Service flow, or not known). */
const struct vl_backend_verdict *vl_verify_reached(const struct vl_verify *v, const struct vl_verify_flow *f);
/* Did the kernel let it reach its target (connected or refused)? */
bool vl_verify_allowed(const struct vl_verify_flow *f);

struct vl_verify_opts {
	int timeout_ms;	 /* silence longer than this after a flow's first packet: timeout (default 1000) */
	int deadline_ms; /* the whole run (default 60000); flows not done by then keep err -ETIMEDOUT */
	size_t window;	 /* flows in flight at most (default: what descriptors allow, up to 4096) */
};

/*
 * Probe every flow of v from its source's namespace in lab (state in dir, its
 * agent's drop records from dir/agent.sock): non-blocking sockets, one epoll
 * loop, one watch connection. Flows that end in a silence the evaluator does
 * not expect are tried once more with fewer flows in flight. 0 or -errno (the
 * run itself failed; per-flow errors are in each flow's err).
 */
int vl_verify_run(const struct vl_lab *lab, const char *dir, struct vl_verify *v,
		  const struct vl_verify_opts *opts);

/* Interned copy of s kept in v (for drop names); NULL on ENOMEM. */
const char *vl_verify_intern(struct vl_verify *v, const char *s);

#endif
