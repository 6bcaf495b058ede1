// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "nflog.h"
#include "vnetlab/nft.h"

static struct nlmsghdr *cfg_msg(char *buf, uint8_t family, uint16_t group, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	return nlh;
}

static int talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	ssize_t n;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if (mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL) < 0)
		return -errno;
	return 0;
}

int vl_nflog_open(const uint16_t *groups, size_t n_groups, uint32_t copy, struct mnl_socket **out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfulnl_msg_config_cmd cmd;
	struct nfulnl_msg_config_mode mode;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL);
	int rcvbuf = 4 << 20;
	int err, fd;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto fail;
	}
	fd = mnl_socket_get_fd(nl);
	/* a burst of drops must not overrun the queue; root may exceed rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	/* PF_(UN)BIND are no-ops since Linux 3.17 but kept for older kernels */
	cmd.command = NFULNL_CFG_CMD_PF_UNBIND;
	nlh = cfg_msg(buf, AF_INET, 0, ++seq);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	(void)talk(nl, nlh);
	cmd.command = NFULNL_CFG_CMD_PF_BIND;
	nlh = cfg_msg(buf, AF_INET, 0, ++seq);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	(void)talk(nl, nlh);

	/* one socket, several groups: each message names its group (nfgen res_id) */
	for (size_t g = 0; g < n_groups; g++) {
		cmd.command = NFULNL_CFG_CMD_BIND;
		nlh = cfg_msg(buf, AF_UNSPEC, groups[g], ++seq);
		mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
		err = talk(nl, nlh);
		if (err < 0)
			goto fail;

		memset(&mode, 0, sizeof(mode));
		mode.copy_mode = NFULNL_COPY_PACKET;
		mode.copy_range = htonl(copy);
		nlh = cfg_msg(buf, AF_UNSPEC, groups[g], ++seq);
		mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
		/* the default queue threshold and 1 s flush timeout would delay a lone drop */
		mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
		mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(1));
		err = talk(nl, nlh);
		if (err < 0)
			goto fail;
	}

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		err = -errno;
		goto fail;
	}
	*out = nl;
	return 0;
fail:
	mnl_socket_close(nl);
	return err;
}

struct parse_ctx {
	void (*cb)(const struct vl_drop *d, void *data);
	void *data;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NFULA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFULA_MAX + 1] = {0};
	struct parse_ctx *ctx = data;
	struct vl_drop d;
	const char *prefix;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg))
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) < 0)
		return MNL_CB_OK;
	if (!tb[NFULA_PAYLOAD] || !tb[NFULA_PREFIX])
		return MNL_CB_OK;
	memset(&d, 0, sizeof(d));
	if (vl_drop_from_packet(mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
				mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), &d) < 0)
		return MNL_CB_OK;
	/* the kernel NUL-terminates the prefix, but do not trust the length blindly */
	prefix = mnl_attr_get_payload(tb[NFULA_PREFIX]);
	if (strnlen(prefix, mnl_attr_get_payload_len(tb[NFULA_PREFIX])) ==
	    mnl_attr_get_payload_len(tb[NFULA_PREFIX]))
		return MNL_CB_OK;
	if (!strcmp(prefix, VL_NFLOG_PREFIX_DENY) || !strcmp(prefix, VL_NFLOG_PREFIX_ALLOW)) {
		/* the fabric's own rules: the mark names the rule */
		if (!tb[NFULA_MARK] || mnl_attr_get_payload_len(tb[NFULA_MARK]) != 4)
			return MNL_CB_OK;
		d.id = ntohl(mnl_attr_get_u32(tb[NFULA_MARK])) & VL_FLOW_MARK_ID;
		d.allowed = prefix[3] == 'a';
		if (!d.id)
			return MNL_CB_OK;
	} else if (vl_drop_set_prefix(&d, prefix) < 0) {
		return MNL_CB_OK;
	}
	ctx->cb(&d, ctx->data);
	return MNL_CB_OK;
}

int vl_nflog_parse(const void *buf, size_t len, void (*cb)(const struct vl_drop *d, void *data), void *data)
{
	struct parse_ctx ctx = {cb, data};

	/*
	 * libmnl trusts nlmsg_len: near UINT32_MAX it passes mnl_nlmsg_ok as a negative int and
	 * its alignment wraps to 0, so the walk reads past buf or loops forever (found by fuzzing).
	 */
	if (len > INT32_MAX)
		return -EINVAL;
	for (size_t off = 0; off < len;) {
		struct nlmsghdr h;

		if (len - off < sizeof(h))
			return -EINVAL;
		memcpy(&h, (const char *)buf + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
			return -EINVAL;
		off += NLMSG_ALIGN(h.nlmsg_len);
	}

	if (mnl_cb_run(buf, len, 0, 0, msg_cb, &ctx) < 0)
		return -errno;
	return 0;
}
