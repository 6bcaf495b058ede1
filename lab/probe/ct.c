// SPDX-License-Identifier: MIT
/*
 * Which pod kube-proxy sent a flow to, as the kernel knows it: the conntrack entry of the flow's
 * original tuple in the node that DNATed it holds the pod's address as the reply's source. One
 * ctnetlink get (libmnl) in a network namespace; for a probe, in each node that may have done it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "vnetlab/eval.h"
#include "vnetlab/netns.h"
#include "vnetlab/plan.h"
#include "vnetlab/probe.h"

static void put_tuple(struct nlmsghdr *nlh, uint8_t l4, uint32_t src, uint16_t sport, uint32_t dst,
		      uint16_t dport)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG), *n;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(src));
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(dst));
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, l4);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

/* A nested attribute of type `type` inside attribute a, or NULL. */
static const struct nlattr *nested(const struct nlattr *a, uint16_t type)
{
	const struct nlattr *c;

	mnl_attr_for_each_nested(c, a) if (mnl_attr_get_type(c) == type) return c;
	return NULL;
}

static int on_entry(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a, *ip, *src;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) != CTA_TUPLE_REPLY)
			continue;
		ip = nested(a, CTA_TUPLE_IP);
		src = ip ? nested(ip, CTA_IP_V4_SRC) : NULL;
		if (src && mnl_attr_get_payload_len(src) == 4) {
			*(uint32_t *)data = ntohl(mnl_attr_get_u32(src));
			return MNL_CB_STOP;
		}
	}
	return MNL_CB_OK;
}

int vl_ct_reply_source(enum vl_proto proto, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
		       uint32_t *reply_src)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	uint32_t seq = 1, got = 0;
	int rc;
	ssize_t n;

	if (proto != VL_PROTO_TCP && proto != VL_PROTO_UDP)
		return -EINVAL;
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	put_tuple(nlh, proto == VL_PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP, src, sport, dst, dport);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	rc = MNL_CB_OK;
	while (rc > MNL_CB_STOP && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
		rc = mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), on_entry, &got);
	if (got) {
		*reply_src = got;
		rc = 0;
	} else {
		rc = rc < 0 ? (errno ? -errno : -ENOENT) : -ENOENT;
	}
out:
	mnl_socket_close(nl);
	return rc;
}

/* vl_ct_reply_source() inside the namespace of endpoint ep. */
static int reply_source_in(const struct vl_lab *lab, int ep, enum vl_proto proto, uint32_t src,
			   uint16_t sport, uint32_t dst, uint16_t dport, uint32_t *reply_src)
{
	char ns[VL_NS_NAME_MAX];
	int saved, err, leave;

	vl_ns_name(ns, lab->name, lab->eps[ep].name);
	err = vl_netns_enter_name(ns, &saved);
	if (err < 0)
		return err;
	err = vl_ct_reply_source(proto, src, sport, dst, dport, reply_src);
	leave = vl_netns_leave(saved);
	return leave < 0 ? leave : err;
}

int vl_probe_backend(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
		     uint16_t dport, int *pod, int *node)
{
	struct vl_backend_verdict b[VL_MAX_BACKENDS];
	size_t n = vl_eval_backends(lab, from, dst, proto, sport, dport, b, VL_MAX_BACKENDS);
	uint32_t ip;

	*pod = *node = VL_NONE;
	if (n > VL_MAX_BACKENDS)
		n = VL_MAX_BACKENDS; /* more nodes than listed: asked of the first ones only */
	for (size_t i = 0; i < n; i++) {
		bool asked = false;
		int rc;

		for (size_t j = 0; j < i && !asked; j++)
			asked = b[j].node == b[i].node;
		if (asked)
			continue;
		rc = reply_source_in(lab, b[i].node, proto, lab->eps[from].ip, sport, dst, dport, &ip);
		/* a pod's flow to another node's NodePort comes there masqueraded to its own node */
		if (rc == -ENOENT && lab->eps[from].nic >= 0 && lab->eps[from].nic != from &&
		    (size_t)lab->eps[from].nic < lab->n_eps)
			rc = reply_source_in(lab, b[i].node, proto, lab->eps[lab->eps[from].nic].ip, sport,
					     dst, dport, &ip);
		if (rc == -ENOENT)
			continue;
		if (rc < 0)
			return rc;
		for (size_t k = 0; k < n; k++)
			if (b[k].pod != VL_NONE && lab->eps[b[k].pod].ip == ip) {
				*pod = b[k].pod;
				*node = b[i].node;
				return 0;
			}
	}
	return -ENOENT;
}
