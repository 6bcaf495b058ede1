// SPDX-License-Identifier: MIT
/*
 * Apply a plan: make its namespaces (several threads for large labs), then
 * build links, bring them up, add addresses, rules and routes, write sysctls
 * and commit nft rulesets, in the order the kernel needs them. Requests go
 * through rtnl.c, which batches them per namespace; since it chooses
 * interface indexes itself, nothing here waits for the kernel between steps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel.h"
#include "vnetlab/apply.h"
#include "vnetlab/netns.h"
#include "vnetlab/nft.h"


static const char *ns_name(const struct vlk_apply *a, int ns)
{
	return a->plan->ns[ns].name;
}

static void ip_str(char *buf, uint32_t host)
{
	struct in_addr in = {htonl(host)};

	inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

/* Describe the object a request was about, for an error message. */
static void describe(const void *plan, const char *ns, int op, size_t idx, char *buf, size_t len)
{
	const struct vl_plan *p = plan;
	char ip1[INET_ADDRSTRLEN], ip2[INET_ADDRSTRLEN];

	switch ((enum vlk_op)op) {
	case VLK_OP_LO_UP:
		snprintf(buf, len, "bringing up lo in %s", ns);
		break;
	case VLK_OP_NSID:
		snprintf(buf, len, "giving %s's namespace an id in %s", p->links[idx].peer_name, ns);
		break;
	case VLK_OP_LINK_ADD:
		snprintf(buf, len, "creating %s %s in %s",
			 p->links[idx].kind == VL_LINK_BRIDGE ? "bridge" : "veth", p->links[idx].name, ns);
		break;
	case VLK_OP_LINK_UP:
		snprintf(buf, len, "bringing up %s in %s", p->links[idx].name, ns);
		break;
	case VLK_OP_HAIRPIN:
		snprintf(buf, len, "setting hairpin mode on %s (a port of %s) in %s", p->links[idx].name,
			 p->links[idx].master, ns);
		break;
	case VLK_OP_PEER_SYNC:
		snprintf(buf, len, "reading %s in %s", p->links[idx].peer_name, ns);
		break;
	case VLK_OP_PEER_UP:
		snprintf(buf, len, "bringing up %s in %s", p->links[idx].peer_name, ns);
		break;
	case VLK_OP_ADDR:
		ip_str(ip1, p->addrs[idx].addr.addr);
		snprintf(buf, len, "adding address %s/%u to %s in %s", ip1, p->addrs[idx].addr.len,
			 p->addrs[idx].dev, ns);
		break;
	case VLK_OP_ROUTE:
		ip_str(ip1, p->routes[idx].dst.addr);
		ip_str(ip2, p->routes[idx].gateway);
		snprintf(buf, len, "adding route %s/%u%s%s%s%s table %u in %s", ip1, p->routes[idx].dst.len,
			 p->routes[idx].gateway ? " via " : "", p->routes[idx].gateway ? ip2 : "",
			 p->routes[idx].dev[0] ? " dev " : "", p->routes[idx].dev, p->routes[idx].table, ns);
		break;
	case VLK_OP_RULE:
		snprintf(buf, len, "adding rule fwmark %u iif %s lookup %u in %s", p->rules[idx].mark,
			 p->rules[idx].iif[0] ? p->rules[idx].iif : "any", p->rules[idx].table, ns);
		break;
	}
}

/**
 * vlk_up_msg - an RTM_NEWLINK bringing a device up (and into a bridge unless master is 0)
 */
struct nl_msg *vlk_up_msg(int ifindex, int master)
{
	struct ifinfomsg ifi = {
	    .ifi_family = AF_UNSPEC, .ifi_index = ifindex, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (master && nla_put_u32(msg, IFLA_MASTER, (uint32_t)master) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* A bridge port in hairpin mode (`bridge link set dev X hairpin on`): RTM_SETLINK of family
 * AF_BRIDGE, IFLA_PROTINFO { IFLA_BRPORT_MODE 1 }; after the port is in its bridge. */
static struct nl_msg *hairpin_msg(int ifindex)
{
	struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = ifindex};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_SETLINK, 0);
	struct nlattr *info;

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(info = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) ||
	    nla_put_u8(msg, IFLA_BRPORT_MODE, 1) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	nla_nest_end(msg, info);
	return msg;
}

/*
 * No IPv6 address on a device, asked before it is up: IFLA_AF_SPEC { AF_INET6 {
 * IFLA_INET6_ADDR_GEN_MODE none } }. (In one message with IFF_UP the kernel would bring it up
 * first and give it a link-local address.)
 */
static struct nl_msg *no_ipv6_msg(int ifindex)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	struct nlattr *spec, *in6;

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(spec = nla_nest_start(msg, IFLA_AF_SPEC)) || !(in6 = nla_nest_start(msg, AF_INET6)) ||
	    nla_put_u8(msg, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	nla_nest_end(msg, in6);
	nla_nest_end(msg, spec);
	return msg;
}

static struct nl_addr *ip4(uint32_t host, int len)
{
	uint32_t be = htonl(host);
	struct nl_addr *ad = nl_addr_build(AF_INET, &be, sizeof(be));

	if (ad)
		nl_addr_set_prefixlen(ad, len);
	return ad;
}

static int check_ns(struct vlk_apply *a, int ns, const char *what)
{
	if (ns < 0 || (size_t)ns >= a->plan->n_ns) {
		vlk_fail(&a->rt, -EINVAL, "%s: namespace index %d out of range", what, ns);
		return -EINVAL;
	}
	return 0;
}

/*
 * Every notification about a veth end whose peer is in another namespace names that namespace
 * by its id in the end's, and the kernel finds the id by walking all of them in id order
 * (peernet2id_alloc -> idr_for_each) with the RTNL lock held: in a fabric of 5,000 NICs, each
 * veth made and brought up walked past the ids of every VM made before it three times, 7% of
 * `up`'s CPU and 40% of the link watch's. An endpoint's namespace that has one link and no other
 * gets its id from us before the link is made (RTM_NEWNSID, which takes no RTNL lock), each
 * lower than the one before: the walks then find it first. Ids the kernel gives by itself are
 * the lowest free ones, one at most per link touching the namespace, so ours start above those.
 */
static int plan_nsids(struct vlk_apply *a)
{
	const struct vl_plan *p = a->plan;
	size_t *touch = calloc(p->n_ns ? p->n_ns : 1, sizeof(*touch));
	size_t *given = calloc(p->n_ns ? p->n_ns : 1, sizeof(*given));
	int ret = 0;

	a->link_nsid = malloc((p->n_links ? p->n_links : 1) * sizeof(*a->link_nsid));
	if (!touch || !given || !a->link_nsid) {
		ret = -ENOMEM;
		vlk_fail(&a->rt, ret, "planning namespace ids: %s", strerror(ENOMEM));
		goto out;
	}
	for (size_t i = 0; i < p->n_links; i++) {
		const struct vl_plan_link *l = &p->links[i];

		if (check_ns(a, l->ns, l->name) < 0 ||
		    (l->kind == VL_LINK_VETH && check_ns(a, l->peer_ns, l->peer_name) < 0)) {
			ret = -EINVAL;
			goto out;
		}
		touch[l->ns]++;
		if (l->kind == VL_LINK_VETH && l->peer_ns != l->ns)
			touch[l->peer_ns]++;
	}
	for (size_t i = 0; i < p->n_links; i++) {
		const struct vl_plan_link *l = &p->links[i];

		a->link_nsid[i] = -1;
		if (l->kind == VL_LINK_VETH && l->peer_ns != l->ns && touch[l->peer_ns] == 1)
			given[l->ns]++;
	}
	/* ids touch .. touch + given - 1, the highest first */
	for (size_t i = 0; i < p->n_links; i++) {
		const struct vl_plan_link *l = &p->links[i];

		if (l->kind == VL_LINK_VETH && l->peer_ns != l->ns && touch[l->peer_ns] == 1)
			a->link_nsid[i] = (int)(touch[l->ns] + --given[l->ns]);
	}
out:
	free(touch);
	free(given);
	return ret;
}

/* RTM_NEWNSID: in the socket's namespace, the namespace of nsfd gets id nsid. */
static struct nl_msg *nsid_msg(int nsfd, int nsid)
{
	struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWNSID, 0);

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &g, sizeof(g), NLMSG_ALIGNTO) < 0 ||
	    nla_put_s32(msg, NETNSA_NSID, nsid) < 0 || nla_put_u32(msg, NETNSA_FD, (uint32_t)nsfd) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int add_link(struct vlk_apply *a, size_t idx)
{
	const struct vl_plan_link *l = &a->plan->links[idx];
	struct rtnl_link *link = NULL, *peer = NULL;
	struct nl_msg *msg = NULL;
	bool queued = false;
	int ret, ifindex;

	ret = check_ns(a, l->ns, l->name);
	if (ret < 0)
		return ret;
	if (l->kind == VL_LINK_VETH) {
		ret = check_ns(a, l->peer_ns, l->peer_name);
		if (ret < 0)
			return ret;
	}
	/* Namespaces are still being made (nsmake.c): this link's two must be. */
	ret = vlk_make_wait(a, l->ns);
	if (!ret && l->kind == VL_LINK_VETH)
		ret = vlk_make_wait(a, l->peer_ns);
	if (ret < 0)
		return ret;
	if (a->link_nsid[idx] >= 0) {
		msg = nsid_msg(a->ns[l->peer_ns].fd, a->link_nsid[idx]);
		if (!msg) {
			vlk_fail(&a->rt, -ENOMEM, "creating %s in %s: %s", l->name, ns_name(a, l->ns),
				 strerror(ENOMEM));
			return -ENOMEM;
		}
		ret = vlk_rtnl_queue(&a->rt, &a->ns[l->ns], msg, VLK_OP_NSID, idx);
		msg = NULL;
		if (ret < 0)
			return ret;
	}
	link = l->kind == VL_LINK_BRIDGE ? rtnl_link_bridge_alloc() : rtnl_link_veth_alloc();
	if (!link) {
		ret = -ENOMEM;
		goto out;
	}
	ifindex = vlk_dev_add(&a->ns[l->ns], l->name);
	if (ifindex < 0) {
		ret = ifindex;
		goto out;
	}
	rtnl_link_set_name(link, l->name);
	rtnl_link_set_ifindex(link, ifindex);
	if (l->kind == VL_LINK_VETH) {
		int pindex = vlk_dev_add(&a->ns[l->peer_ns], l->peer_name);

		peer = rtnl_link_veth_get_peer(link);
		if (pindex < 0) {
			ret = pindex;
			goto out;
		}
		rtnl_link_set_name(peer, l->peer_name);
		rtnl_link_set_ifindex(peer, pindex);
		/*
		 * One queue each way, said up front: a veth asked for without a count gets one queue per
		 * CPU and is then cut down to one with the RTNL lock held, and that cut waits for an RCU
		 * grace period (veth_init_queues -> synchronize_net), which made up wait on every veth
		 * in turn: 73% of the time `up` of 1,000 VMs spent asleep.
		 */
		rtnl_link_set_num_tx_queues(link, 1);
		rtnl_link_set_num_rx_queues(link, 1);
		rtnl_link_set_num_tx_queues(peer, 1);
		rtnl_link_set_num_rx_queues(peer, 1);
		if (l->peer_ns != l->ns)
			rtnl_link_set_ns_fd(peer, a->ns[l->peer_ns].fd);
	}
	ret = rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL, &msg);
	if (ret < 0) {
		ret = vlk_nlerr_to_errno(ret);
		goto out;
	}
	/* The transport reports its own failure; the link objects are ours either way. */
	ret = vlk_rtnl_queue(&a->rt, &a->ns[l->ns], msg, VLK_OP_LINK_ADD, idx);
	msg = NULL;
	queued = true;
out:
	if (peer)
		rtnl_link_put(peer);
	rtnl_link_put(link);
	if (ret < 0 && !queued) {
		char what[300];

		describe(a->plan, ns_name(a, l->ns), VLK_OP_LINK_ADD, idx, what, sizeof(what));
		vlk_fail(&a->rt, ret, "%s: %s", what, strerror(-ret));
	}
	return ret;
}

/*
 * RTM_GETLINK of a device, for what it does rather than its answer: the kernel first runs the
 * device's pending link-watch event (linkwatch_sync_dev), here while it is down, where that is
 * nothing to do (see peer_up).
 */
static struct nl_msg *getlink_msg(int ifindex)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, 0);

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * The far end of a veth comes up first, the near end (the fabric's or a node's) after it, so
 * that no end is ever up without carrier when the kernel's link watch gets to it. Creating a
 * veth queues a link-watch event for each end (carrier off); one that is handled while its
 * device is up and its peer down deactivates the device, which waits for an RCU grace period
 * under the RTNL lock (dev_deactivate -> synchronize_net, 0.3-0.5 ms): with the fabric ends made
 * up at creation, that was once per NIC, 5,000 grace periods in which every other request of
 * `up` waited. So: the far end's pending event is run while it is down (getlink_msg), it comes
 * up (no carrier yet, nothing pending), and only then the near end, which brings carrier to both.
 */
static int peer_up(struct vlk_apply *a, size_t idx)
{
	const struct vl_plan_link *l = &a->plan->links[idx];
	struct vlk_ns *c = &a->ns[l->peer_ns];
	int ifindex = vlk_dev_index(c, l->peer_name), ret;
	struct nl_msg *msg;

	msg = getlink_msg(ifindex);
	if (!msg)
		goto nomem;
	ret = vlk_rtnl_queue(&a->rt, c, msg, VLK_OP_PEER_SYNC, idx);
	if (ret < 0)
		return ret;
	/* Queued before the peer's up, on the same socket: the kernel keeps the order. */
	if (l->peer_no_ipv6) {
		msg = no_ipv6_msg(ifindex);
		if (!msg)
			goto nomem;
		ret = vlk_rtnl_queue(&a->rt, c, msg, VLK_OP_PEER_UP, idx);
		if (ret < 0)
			return ret;
	}
	msg = vlk_up_msg(ifindex, 0);
	if (!msg)
		goto nomem;
	return vlk_rtnl_queue(&a->rt, c, msg, VLK_OP_PEER_UP, idx);
nomem:
	vlk_fail(&a->rt, -ENOMEM, "bringing up %s: %s", l->peer_name, strerror(ENOMEM));
	return -ENOMEM;
}

/* A bridge, or the near end of a veth (after its peer: see peer_up), up and in its bridge. */
static int link_up(struct vlk_apply *a, size_t idx)
{
	const struct vl_plan_link *l = &a->plan->links[idx];
	struct vlk_ns *c = &a->ns[l->ns];
	int master = 0, ret;
	struct nl_msg *msg;

	if (l->master[0]) {
		master = vlk_dev_index(c, l->master);
		if (!master) {
			vlk_fail(&a->rt, -ENODEV, "enslaving %s to %s in %s: no such bridge in the plan",
				 l->name, l->master, ns_name(a, l->ns));
			return -ENODEV;
		}
	}
	msg = vlk_up_msg(vlk_dev_index(c, l->name), master);
	if (!msg) {
		vlk_fail(&a->rt, -ENOMEM, "bringing up %s: %s", l->name, strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = vlk_rtnl_queue(&a->rt, c, msg, VLK_OP_LINK_UP, idx);
	if (ret || !l->hairpin || !master)
		return ret;
	/* The batch goes out in order: the port is in its bridge by then. */
	msg = hairpin_msg(vlk_dev_index(c, l->name));
	if (!msg) {
		vlk_fail(&a->rt, -ENOMEM, "setting hairpin mode on %s: %s", l->name, strerror(ENOMEM));
		return -ENOMEM;
	}
	return vlk_rtnl_queue(&a->rt, c, msg, VLK_OP_HAIRPIN, idx);
}

/* Send what is queued in the namespaces of links[first..end) (on the near side, or far). */
static int flush_links(struct vlk_apply *a, size_t first, size_t end, bool far)
{
	int ret = 0;

	for (size_t i = first; i < end && !ret; i++)
		if (a->plan->links[i].kind == VL_LINK_VETH)
			ret = vlk_rtnl_flush(&a->rt, &a->ns[far ? a->plan->links[i].peer_ns : a->plan->links[i].ns]);
	return ret;
}

/*
 * The next VETH_CHUNK veths from *i on, made and brought up (peer_up, link_up) before the next
 * chunk is made. Each new veth leaves a link-watch event pending for both ends, and one for a
 * device that is down is handled only by the kernel's once-a-second pass, 100 devices at a time;
 * until then every pass that the carrier of a veth end triggers (right away) walks the whole
 * list of them, with the RTNL lock held. Made all at once, 5,000 fabric ends waited there while
 * the first came up: a quadratic walk in which every other request of `up` waited (perf: 80% of
 * the last phase of `up` of 5,000 VMs spinning on the RTNL lock, the link watch walking). In
 * chunks, fewer than 2 * VETH_CHUNK wait at any time.
 */
#define VETH_CHUNK 64

static int veths_chunk(struct vlk_apply *a, size_t *i)
{
	const struct vl_plan *p = a->plan;
	size_t first = *i, end = first, n = 0;
	int ret = 0;

	for (; end < p->n_links && n < VETH_CHUNK && !ret; end++)
		if (p->links[end].kind == VL_LINK_VETH) {
			ret = add_link(a, end);
			n++;
		}
	*i = end;
	if (!ret)
		ret = flush_links(a, first, end, false);
	for (size_t k = first; k < end && !ret; k++)
		if (p->links[k].kind == VL_LINK_VETH)
			ret = peer_up(a, k);
	/* Every far end up before its near end: they are on other sockets. */
	if (!ret)
		ret = flush_links(a, first, end, true);
	for (size_t k = first; k < end && !ret; k++)
		if (p->links[k].kind == VL_LINK_VETH)
			ret = link_up(a, k);
	if (!ret)
		ret = flush_links(a, first, end, false);
	return ret;
}

static int add_addr(struct vlk_apply *a, size_t idx)
{
	const struct vl_plan_addr *pa = &a->plan->addrs[idx];
	struct rtnl_addr *ra = NULL;
	struct nl_addr *local = NULL;
	struct nl_msg *msg = NULL;
	char what[300];
	int ret, ifindex;

	ret = check_ns(a, pa->ns, pa->dev);
	if (ret < 0)
		return ret;
	ifindex = vlk_dev_index(&a->ns[pa->ns], pa->dev);
	if (!ifindex) {
		ret = -ENODEV;
		goto out;
	}
	ra = rtnl_addr_alloc();
	local = ip4(pa->addr.addr, pa->addr.len);
	if (!ra || !local) {
		ret = -ENOMEM;
		goto out;
	}
	rtnl_addr_set_family(ra, AF_INET);
	rtnl_addr_set_ifindex(ra, ifindex);
	ret = rtnl_addr_set_local(ra, local);
	if (ret >= 0) {
		rtnl_addr_set_prefixlen(ra, pa->addr.len);
		if (pa->via_gateway)
			rtnl_addr_set_flags(ra, IFA_F_NOPREFIXROUTE);
		ret = rtnl_addr_build_add_request(ra, NLM_F_CREATE | NLM_F_EXCL, &msg);
	}
	if (ret < 0) {
		ret = vlk_nlerr_to_errno(ret);
		goto out;
	}
	ret = vlk_rtnl_queue(&a->rt, &a->ns[pa->ns], msg, VLK_OP_ADDR, idx);
	rtnl_addr_put(ra);
	nl_addr_put(local);
	return ret;
out:
	rtnl_addr_put(ra);
	nl_addr_put(local);
	describe(a->plan, ns_name(a, pa->ns), VLK_OP_ADDR, idx, what, sizeof(what));
	vlk_fail(&a->rt, ret, "%s: %s", what, strerror(-ret));
	return ret;
}

static const uint8_t route_types[] = {
    [VL_RT_UNICAST] = RTN_UNICAST,
    [VL_RT_BLACKHOLE] = RTN_BLACKHOLE,
    [VL_RT_UNREACHABLE] = RTN_UNREACHABLE,
    [VL_RT_THROW] = RTN_THROW,
};

static int add_route(struct vlk_apply *a, size_t idx)
{
	const struct vl_plan_route *pr = &a->plan->routes[idx];
	bool unicast = pr->type == VL_RT_UNICAST;
	struct rtnl_route *rt = NULL;
	struct rtnl_nexthop *nh = NULL;
	struct nl_addr *dst = NULL, *gw = NULL;
	struct nl_msg *msg = NULL;
	char what[300];
	int ret, ifindex = 0;

	ret = check_ns(a, pr->ns, "route");
	if (ret < 0)
		return ret;
	if ((unsigned)pr->type >= sizeof(route_types)) {
		ret = -EINVAL;
		goto out;
	}
	if (unicast && pr->dev[0]) {
		ifindex = vlk_dev_index(&a->ns[pr->ns], pr->dev);
		if (!ifindex) {
			ret = -ENODEV;
			goto out;
		}
	} else if (unicast && !pr->gateway) {
		ret = -EINVAL;
		goto out;
	}
	rt = rtnl_route_alloc();
	dst = ip4(pr->dst.addr, pr->dst.len);
	if (unicast) {
		nh = rtnl_route_nh_alloc();
		if (pr->gateway)
			gw = ip4(pr->gateway, 32);
	}
	if (!rt || !dst || (unicast && !nh) || (pr->gateway && unicast && !gw)) {
		ret = -ENOMEM;
		goto out;
	}
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, pr->table ? pr->table : RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_BOOT);
	rtnl_route_set_type(rt, route_types[pr->type]);
	rtnl_route_set_scope(rt, !unicast || pr->gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	ret = rtnl_route_set_dst(rt, dst);
	if (ret < 0)
		goto nlerr;
	if (unicast) {
		if (ifindex)
			rtnl_route_nh_set_ifindex(nh, ifindex);
		if (gw) {
			rtnl_route_nh_set_gateway(nh, gw);
			/* The fabric reaches NIC addresses by /32 link routes, not subnets. */
			if (ifindex)
				rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
		}
		rtnl_route_add_nexthop(rt, nh);
		nh = NULL;
	}
	ret = rtnl_route_build_add_request(rt, NLM_F_CREATE | NLM_F_EXCL, &msg);
	if (ret < 0)
		goto nlerr;
	ret = vlk_rtnl_queue(&a->rt, &a->ns[pr->ns], msg, VLK_OP_ROUTE, idx);
	rtnl_route_put(rt);
	nl_addr_put(dst);
	nl_addr_put(gw);
	return ret;
nlerr:
	ret = vlk_nlerr_to_errno(ret);
out:
	if (nh)
		rtnl_route_nh_free(nh);
	rtnl_route_put(rt);
	nl_addr_put(dst);
	nl_addr_put(gw);
	describe(a->plan, ns_name(a, pr->ns), VLK_OP_ROUTE, idx, what, sizeof(what));
	vlk_fail(&a->rt, ret, "%s: %s", what, strerror(-ret));
	return ret;
}

static int add_rule(struct vlk_apply *a, size_t idx)
{
	const struct vl_plan_rule *pr = &a->plan->rules[idx];
	struct rtnl_rule *r;
	struct nl_msg *msg = NULL;
	char what[300];
	int ret = check_ns(a, pr->ns, "rule");

	if (ret < 0)
		return ret;
	r = rtnl_rule_alloc();
	if (!r) {
		ret = -ENOMEM;
		goto out;
	}
	rtnl_rule_set_family(r, AF_INET);
	if (pr->mark) {
		rtnl_rule_set_mark(r, pr->mark);
		rtnl_rule_set_mask(r, UINT32_MAX);
	}
	if (pr->iif[0])
		rtnl_rule_set_iif(r, pr->iif);
	if (pr->src.len) {
		struct nl_addr *src = ip4(pr->src.addr, pr->src.len);

		if (!src || rtnl_rule_set_src(r, src) < 0) {
			nl_addr_put(src);
			rtnl_rule_put(r);
			ret = -ENOMEM;
			goto out;
		}
		nl_addr_put(src);
	}
	rtnl_rule_set_table(r, pr->table);
	rtnl_rule_set_prio(r, pr->priority);
	rtnl_rule_set_action(r, FR_ACT_TO_TBL);
	ret = rtnl_rule_build_add_request(r, NLM_F_CREATE | NLM_F_EXCL, &msg);
	rtnl_rule_put(r);
	if (ret < 0) {
		ret = vlk_nlerr_to_errno(ret);
		goto out;
	}
	return vlk_rtnl_queue(&a->rt, &a->ns[pr->ns], msg, VLK_OP_RULE, idx);
out:
	describe(a->plan, ns_name(a, pr->ns), VLK_OP_RULE, idx, what, sizeof(what));
	vlk_fail(&a->rt, ret, "%s: %s", what, strerror(-ret));
	return ret;
}

static int commit_rulesets(struct vlk_apply *a)
{
	const struct vl_plan *p = a->plan;

	for (size_t i = 0; i < p->n_rulesets; i++) {
		const struct vl_plan_ruleset *rs = &p->rulesets[i];
		char why[256] = "";
		int ret;

		ret = check_ns(a, rs->ns, "ruleset");
		if (ret < 0)
			return ret;
		ret = vl_nft_ruleset_commit(p->lab, rs, a->ns[rs->ns].fd, why, sizeof(why));
		if (ret < 0) {
			vlk_fail(&a->rt, ret, "committing the %s ruleset in %s: %s",
				 vl_nft_ruleset_name(rs->kind), ns_name(a, rs->ns),
				 why[0] ? why : strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/**
 * vl_apply_up - build every object of a plan in new namespaces
 */
int vl_apply_up(const struct vl_plan *plan, vl_apply_record_fn record, void *arg, struct vl_error *err)
{
	struct vlk_apply a = {
	    .plan = plan,
	    .rt = {
		.err = err, .lock = PTHREAD_MUTEX_INITIALIZER, .describe = describe, .describe_arg = plan}};
	int ret, r;

	vlk_raise_nofile(plan->n_ns * 2 + 256); /* two a namespace (its file, its socket) during apply */
	a.ns = calloc(plan->n_ns ? plan->n_ns : 1, sizeof(*a.ns));
	if (!a.ns) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "applying the plan: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0; i < plan->n_ns; i++)
		vlk_ns_init(&a.ns[i], plan->ns[i].name);

	ret = vlk_sysctls_index(&a);
	if (!ret)
		ret = plan_nsids(&a);
	if (!ret)
		ret = vlk_make_start(&a, record, arg);
	/* While namespaces are made, the links of those made so far: bridges first (masters). */
	for (size_t i = 0; i < plan->n_links && !ret; i++)
		if (plan->links[i].kind == VL_LINK_BRIDGE)
			ret = add_link(&a, i) ?: link_up(&a, i);
	for (size_t i = 0; i < plan->n_links && !ret;)
		ret = veths_chunk(&a, &i);
	r = vlk_make_finish(&a);
	if (!ret)
		ret = r;
	if (!ret)
		ret = vlk_rtnl_flush_all(&a.rt, a.ns, plan->n_ns);
	/* Once the devices are (those of this plan, proxy_delay, may come after they are up). */
	if (!ret)
		ret = vlk_sysctls_dev(&a);
	for (size_t i = 0; i < plan->n_addrs && !ret; i++)
		ret = add_addr(&a, i);
	for (size_t i = 0; i < plan->n_rules && !ret; i++)
		ret = add_rule(&a, i);
	for (size_t i = 0; i < plan->n_routes && !ret; i++)
		ret = add_route(&a, i);
	/* Collect what was sent even after a failure, so the message names the first one. */
	vlk_rtnl_flush_all(&a.rt, a.ns, plan->n_ns);
	if (!ret)
		ret = a.rt.first_err;
	if (!ret)
		ret = commit_rulesets(&a);

	for (size_t i = 0; i < plan->n_ns; i++)
		vlk_ns_close(&a.ns[i]);
	free(a.ns);
	free(a.sysctl_first);
	free(a.sysctl_of);
	free(a.link_nsid);
	if (ret < 0 && !a.rt.first_err)
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "applying the plan: %s", strerror(-ret));
	return ret;
}

