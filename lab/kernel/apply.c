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
#include <sys/resource.h>
#include <unistd.h>

#include "kernel.h"
#include "vnetlab/apply.h"
#include "vnetlab/netns.h"
#include "vnetlab/nft.h"

enum op { OP_LO_UP, OP_LINK_ADD, OP_LINK_UP, OP_PEER_SYNC, OP_PEER_UP, OP_ADDR, OP_ROUTE, OP_RULE };

struct apply {
	const struct vl_plan *plan;
	struct vlk_ns *ns;
	/* The transport's shared state; its lock also serialises record() while namespaces are made in
	 * parallel. */
	struct vlk_rtnl rt;
	/* The plan's sysctls by namespace: ns has sysctl_of[k] for k from sysctl_first[ns] up to
	 * sysctl_first[ns + 1]. */
	size_t *sysctl_first;
	size_t *sysctl_of;
};

static const char *ns_name(const struct apply *a, int ns)
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

	switch ((enum op)op) {
	case OP_LO_UP:
		snprintf(buf, len, "bringing up lo in %s", ns);
		break;
	case OP_LINK_ADD:
		snprintf(buf, len, "creating %s %s in %s",
			 p->links[idx].kind == VL_LINK_BRIDGE ? "bridge" : "veth", p->links[idx].name, ns);
		break;
	case OP_LINK_UP:
		snprintf(buf, len, "bringing up %s in %s", p->links[idx].name, ns);
		break;
	case OP_PEER_SYNC:
		snprintf(buf, len, "reading %s in %s", p->links[idx].peer_name, ns);
		break;
	case OP_PEER_UP:
		snprintf(buf, len, "bringing up %s in %s", p->links[idx].peer_name, ns);
		break;
	case OP_ADDR:
		ip_str(ip1, p->addrs[idx].addr.addr);
		snprintf(buf, len, "adding address %s/%u to %s in %s", ip1, p->addrs[idx].addr.len,
			 p->addrs[idx].dev, ns);
		break;
	case OP_ROUTE:
		ip_str(ip1, p->routes[idx].dst.addr);
		ip_str(ip2, p->routes[idx].gateway);
		snprintf(buf, len, "adding route %s/%u%s%s%s%s table %u in %s", ip1, p->routes[idx].dst.len,
			 p->routes[idx].gateway ? " via " : "", p->routes[idx].gateway ? ip2 : "",
			 p->routes[idx].dev[0] ? " dev " : "", p->routes[idx].dev, p->routes[idx].table, ns);
		break;
	case OP_RULE:
		snprintf(buf, len, "adding rule fwmark %u iif %s lookup %u in %s", p->rules[idx].mark,
			 p->rules[idx].iif[0] ? p->rules[idx].iif : "any", p->rules[idx].table, ns);
		break;
	}
}

/* A sysctl that names a device must wait until the device exists. */
static bool sysctl_names_dev(const char *key)
{
	static const char *const prefixes[] = {"net/ipv4/conf/", "net/ipv6/conf/", "net/ipv4/neigh/",
					       "net/ipv6/neigh/"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t l = strlen(prefixes[i]);

		if (!strncmp(key, prefixes[i], l))
			return strncmp(key + l, "all/", 4) && strncmp(key + l, "default/", 8);
	}
	return false;
}

/* Write sysctls of namespace ns from inside it (the caller entered it). */
static int write_sysctls(struct apply *a, int ns, bool dev_keys)
{
	const struct vl_plan *p = a->plan;

	for (size_t k = a->sysctl_first[ns]; k < a->sysctl_first[ns + 1]; k++) {
		const struct vl_plan_sysctl *s = &p->sysctls[a->sysctl_of[k]];
		char path[160];
		size_t len = strlen(s->value);
		ssize_t n;
		int f, ret;

		if (sysctl_names_dev(s->key) != dev_keys)
			continue;
		snprintf(path, sizeof(path), "/proc/sys/%s", s->key);
		f = open(path, O_WRONLY | O_CLOEXEC);
		if (f < 0) {
			ret = -errno;
			vlk_fail(&a->rt, ret, "writing sysctl %s=%s in %s: %s", s->key, s->value,
				 ns_name(a, ns), strerror(-ret));
			return ret;
		}
		n = write(f, s->value, len);
		ret = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
		close(f);
		if (ret < 0) {
			vlk_fail(&a->rt, ret, "writing sysctl %s=%s in %s: %s", s->key, s->value,
				 ns_name(a, ns), strerror(-ret));
			return ret;
		}
	}
	return 0;
}

struct inside_arg {
	struct apply *a;
	int ns;
};

static int inside_new_ns(void *arg)
{
	struct inside_arg *ia = arg;
	int ret = write_sysctls(ia->a, ia->ns, false);

	if (ret < 0)
		return ret;
	return vlk_ns_open(&ia->a->ns[ia->ns]);
}

static struct nl_msg *link_change_msg(int ifindex, int master)
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

static int check_ns(struct apply *a, int ns, const char *what)
{
	if (ns < 0 || (size_t)ns >= a->plan->n_ns) {
		vlk_fail(&a->rt, -EINVAL, "%s: namespace index %d out of range", what, ns);
		return -EINVAL;
	}
	return 0;
}

struct creator {
	struct apply *a;
	vl_apply_record_fn record;
	void *arg;
	size_t first;
	size_t stride;
	int ret;
};

static int create_one(struct creator *cr, size_t i)
{
	struct apply *a = cr->a;
	const struct vl_plan *p = a->plan;
	struct inside_arg ia = {a, (int)i};
	struct nl_msg *msg;
	int ret = 0;

	if (cr->record) {
		pthread_mutex_lock(&a->rt.lock);
		ret = cr->record(p->ns[i].name, true, cr->arg);
		pthread_mutex_unlock(&a->rt.lock);
		if (ret < 0) {
			vlk_fail(&a->rt, ret, "recording namespace %s: %s", p->ns[i].name, strerror(-ret));
			return ret;
		}
	}
	ret = vl_netns_create_with(p->ns[i].name, &a->ns[i].fd, inside_new_ns, &ia);
	if (ret == -EEXIST) {
		if (cr->record) {
			pthread_mutex_lock(&a->rt.lock);
			cr->record(p->ns[i].name, false, cr->arg);
			pthread_mutex_unlock(&a->rt.lock);
		}
		vlk_fail(&a->rt, ret, "namespace %s already exists and is not this lab's: left alone",
			 p->ns[i].name);
		return ret;
	}
	if (ret < 0) {
		vlk_fail(&a->rt, ret, "creating namespace %s: %s", p->ns[i].name, strerror(-ret));
		return ret;
	}
	msg = link_change_msg(VLK_LOOPBACK_IFINDEX, 0);
	if (!msg) {
		vlk_fail(&a->rt, -ENOMEM, "bringing up lo in %s: %s", p->ns[i].name, strerror(ENOMEM));
		return -ENOMEM;
	}
	return vlk_rtnl_queue(&a->rt, &a->ns[i], msg, OP_LO_UP, 0);
}

static void *create_some(void *arg)
{
	struct creator *cr = arg;

	for (size_t i = cr->first; i < cr->a->plan->n_ns && !cr->ret; i += cr->stride) {
		if (vlk_failed(&cr->a->rt))
			break;
		cr->ret = create_one(cr, i);
	}
	return NULL;
}

/*
 * Making a namespace is mostly kernel time (unshare, the first /proc/sys
 * access), per thread and independent: large labs use one thread per core.
 * Each thread touches only its own namespaces' contexts.
 */
static int create_namespaces(struct apply *a, vl_apply_record_fn record, void *arg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = a->plan->n_ns < 64 ? 1 : cpus < 1 ? 1 : cpus > 4 ? 4 : (size_t)cpus;
	struct creator cr[4];
	pthread_t tid[4];
	bool running[4] = {false};
	int ret;

	ret = vl_netns_prepare();
	if (ret < 0) {
		vlk_fail(&a->rt, ret, "preparing %s: %s", VL_NETNS_DIR, strerror(-ret));
		return ret;
	}
	for (size_t t = 0; t < n; t++)
		cr[t] = (struct creator){a, record, arg, t, n, 0};
	for (size_t t = 1; t < n; t++)
		running[t] = !pthread_create(&tid[t], NULL, create_some, &cr[t]);
	create_some(&cr[0]);
	for (size_t t = 1; t < n; t++) {
		if (running[t])
			pthread_join(tid[t], NULL);
		else
			create_some(&cr[t]); /* a thread that could not start: its share here */
	}
	for (size_t t = 0; t < n; t++)
		if (cr[t].ret)
			return cr[t].ret;
	return a->rt.first_err;
}

static int add_link(struct apply *a, size_t idx)
{
	const struct vl_plan_link *l = &a->plan->links[idx];
	struct rtnl_link *link = NULL, *peer = NULL;
	struct nl_msg *msg = NULL;
	bool queued = false;
	int ret, ifindex;

	ret = check_ns(a, l->ns, l->name);
	if (ret < 0)
		return ret;
	if (l->kind == VL_LINK_BRIDGE) {
		link = rtnl_link_bridge_alloc();
	} else {
		ret = check_ns(a, l->peer_ns, l->peer_name);
		if (ret < 0)
			return ret;
		link = rtnl_link_veth_alloc();
	}
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
	ret = vlk_rtnl_queue(&a->rt, &a->ns[l->ns], msg, OP_LINK_ADD, idx);
	msg = NULL;
	queued = true;
out:
	if (peer)
		rtnl_link_put(peer);
	rtnl_link_put(link);
	if (ret < 0 && !queued) {
		char what[300];

		describe(a->plan, ns_name(a, l->ns), OP_LINK_ADD, idx, what, sizeof(what));
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
static int peer_up(struct apply *a, size_t idx)
{
	const struct vl_plan_link *l = &a->plan->links[idx];
	struct vlk_ns *c = &a->ns[l->peer_ns];
	int ifindex = vlk_dev_index(c, l->peer_name), ret;
	struct nl_msg *msg;

	msg = getlink_msg(ifindex);
	if (!msg)
		goto nomem;
	ret = vlk_rtnl_queue(&a->rt, c, msg, OP_PEER_SYNC, idx);
	if (ret < 0)
		return ret;
	/* Queued before the peer's up, on the same socket: the kernel keeps the order. */
	if (l->peer_no_ipv6) {
		msg = no_ipv6_msg(ifindex);
		if (!msg)
			goto nomem;
		ret = vlk_rtnl_queue(&a->rt, c, msg, OP_PEER_UP, idx);
		if (ret < 0)
			return ret;
	}
	msg = link_change_msg(ifindex, 0);
	if (!msg)
		goto nomem;
	return vlk_rtnl_queue(&a->rt, c, msg, OP_PEER_UP, idx);
nomem:
	vlk_fail(&a->rt, -ENOMEM, "bringing up %s: %s", l->peer_name, strerror(ENOMEM));
	return -ENOMEM;
}

/* A bridge, or the near end of a veth (after its peer: see peer_up), up and in its bridge. */
static int link_up(struct apply *a, size_t idx)
{
	const struct vl_plan_link *l = &a->plan->links[idx];
	struct vlk_ns *c = &a->ns[l->ns];
	int master = 0;
	struct nl_msg *msg;

	if (l->master[0]) {
		master = vlk_dev_index(c, l->master);
		if (!master) {
			vlk_fail(&a->rt, -ENODEV, "enslaving %s to %s in %s: no such bridge in the plan",
				 l->name, l->master, ns_name(a, l->ns));
			return -ENODEV;
		}
	}
	msg = link_change_msg(vlk_dev_index(c, l->name), master);
	if (!msg) {
		vlk_fail(&a->rt, -ENOMEM, "bringing up %s: %s", l->name, strerror(ENOMEM));
		return -ENOMEM;
	}
	return vlk_rtnl_queue(&a->rt, c, msg, OP_LINK_UP, idx);
}

static int add_addr(struct apply *a, size_t idx)
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
	ret = vlk_rtnl_queue(&a->rt, &a->ns[pa->ns], msg, OP_ADDR, idx);
	rtnl_addr_put(ra);
	nl_addr_put(local);
	return ret;
out:
	rtnl_addr_put(ra);
	nl_addr_put(local);
	describe(a->plan, ns_name(a, pa->ns), OP_ADDR, idx, what, sizeof(what));
	vlk_fail(&a->rt, ret, "%s: %s", what, strerror(-ret));
	return ret;
}

static const uint8_t route_types[] = {
    [VL_RT_UNICAST] = RTN_UNICAST,
    [VL_RT_BLACKHOLE] = RTN_BLACKHOLE,
    [VL_RT_UNREACHABLE] = RTN_UNREACHABLE,
    [VL_RT_THROW] = RTN_THROW,
};

static int add_route(struct apply *a, size_t idx)
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
	ret = vlk_rtnl_queue(&a->rt, &a->ns[pr->ns], msg, OP_ROUTE, idx);
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
	describe(a->plan, ns_name(a, pr->ns), OP_ROUTE, idx, what, sizeof(what));
	vlk_fail(&a->rt, ret, "%s: %s", what, strerror(-ret));
	return ret;
}

static int add_rule(struct apply *a, size_t idx)
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
	return vlk_rtnl_queue(&a->rt, &a->ns[pr->ns], msg, OP_RULE, idx);
out:
	describe(a->plan, ns_name(a, pr->ns), OP_RULE, idx, what, sizeof(what));
	vlk_fail(&a->rt, ret, "%s: %s", what, strerror(-ret));
	return ret;
}

static int dev_sysctls(struct apply *a)
{
	const struct vl_plan *p = a->plan;
	bool *todo = calloc(p->n_ns ? p->n_ns : 1, sizeof(*todo));
	int ret = 0;

	if (!todo) {
		vlk_fail(&a->rt, -ENOMEM, "writing sysctls: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_sysctls; i++)
		if (sysctl_names_dev(p->sysctls[i].key) && p->sysctls[i].ns >= 0 &&
		    (size_t)p->sysctls[i].ns < p->n_ns)
			todo[p->sysctls[i].ns] = true;
	for (size_t ns = 0; ns < p->n_ns && !ret; ns++) {
		int saved, r;

		if (!todo[ns])
			continue;
		ret = vl_netns_enter(a->ns[ns].fd, &saved);
		if (ret < 0) {
			vlk_fail(&a->rt, ret, "entering %s: %s", ns_name(a, (int)ns), strerror(-ret));
			break;
		}
		ret = write_sysctls(a, (int)ns, true);
		r = vl_netns_leave(saved);
		if (r < 0 && !ret) {
			ret = r;
			vlk_fail(&a->rt, ret, "leaving %s: %s", ns_name(a, (int)ns), strerror(-ret));
		}
	}
	free(todo);
	return ret;
}

static int commit_rulesets(struct apply *a)
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

/*
 * Sort the sysctls by namespace (counting sort, plan order kept within one), so each namespace
 * reads only its own: a scan of all of them per namespace was quadratic in a 5,000-VM lab, whose
 * fabric has a sysctl per NIC.
 */
static int index_sysctls(struct apply *a)
{
	const struct vl_plan *p = a->plan;
	size_t *at;

	a->sysctl_first = calloc(p->n_ns + 2, sizeof(*a->sysctl_first));
	a->sysctl_of = calloc(p->n_sysctls ? p->n_sysctls : 1, sizeof(*a->sysctl_of));
	if (!a->sysctl_first || !a->sysctl_of)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_sysctls; i++) {
		if (p->sysctls[i].ns < 0 || (size_t)p->sysctls[i].ns >= p->n_ns) {
			vlk_fail(&a->rt, -EINVAL, "sysctl %s: namespace index %d out of range",
				 p->sysctls[i].key, p->sysctls[i].ns);
			return -EINVAL;
		}
		a->sysctl_first[p->sysctls[i].ns + 2]++;
	}
	for (size_t ns = 2; ns < p->n_ns + 2; ns++)
		a->sysctl_first[ns] += a->sysctl_first[ns - 1];
	/* sysctl_first[ns + 1] is now where ns's run starts: fill it, which moves it to its end */
	at = a->sysctl_first + 1;
	for (size_t i = 0; i < p->n_sysctls; i++)
		a->sysctl_of[at[p->sysctls[i].ns]++] = i;
	return 0;
}

/* Two fds per namespace (its file and its socket) stay open during apply. */
static void raise_nofile(size_t n_ns)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)n_ns * 2 + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/**
 * vl_apply_up - build every object of a plan in new namespaces
 */
int vl_apply_up(const struct vl_plan *plan, vl_apply_record_fn record, void *arg, struct vl_error *err)
{
	struct apply a = {
	    .plan = plan,
	    .rt = {
		.err = err, .lock = PTHREAD_MUTEX_INITIALIZER, .describe = describe, .describe_arg = plan}};
	int ret;

	raise_nofile(plan->n_ns);
	a.ns = calloc(plan->n_ns ? plan->n_ns : 1, sizeof(*a.ns));
	if (!a.ns) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "applying the plan: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0; i < plan->n_ns; i++)
		vlk_ns_init(&a.ns[i], plan->ns[i].name);

	ret = index_sysctls(&a);
	if (ret == -ENOMEM)
		vlk_fail(&a.rt, ret, "indexing sysctls: %s", strerror(ENOMEM));
	if (!ret)
		ret = create_namespaces(&a, record, arg);
	/* Bridges first: veths may name them as master. */
	for (int pass = 0; pass < 2 && !ret; pass++)
		for (size_t i = 0; i < plan->n_links && !ret; i++)
			if ((plan->links[i].kind == VL_LINK_BRIDGE) == (pass == 0))
				ret = add_link(&a, i);
	if (!ret)
		ret = vlk_rtnl_flush_all(&a.rt, a.ns, plan->n_ns);
	if (!ret)
		ret = dev_sysctls(&a);
	/* Every far end up before any near end (peer_up): they are on other sockets. */
	for (size_t i = 0; i < plan->n_links && !ret; i++)
		if (plan->links[i].kind == VL_LINK_VETH)
			ret = peer_up(&a, i);
	if (!ret)
		ret = vlk_rtnl_flush_all(&a.rt, a.ns, plan->n_ns);
	for (size_t i = 0; i < plan->n_links && !ret; i++)
		ret = link_up(&a, i);
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
	if (ret < 0 && !a.rt.first_err)
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "applying the plan: %s", strerror(-ret));
	return ret;
}

/*
 * Deleting a namespace waits for an RCU grace period (umount2 -> namespace_unlock ->
 * synchronize_rcu_expedited), 0.3-0.5 ms of sleep each: one after another, `down` of 5,000 VMs
 * slept 1.6-2.5 s. Several threads wait for theirs at once, and the kernel serves waiters that
 * overlap with one grace period.
 */
#define DELETERS 64

struct deleter {
	const char *const *names;
	size_t n;
	size_t next;   /* the next name to take, by every thread (atomic) */
	size_t failed; /* the lowest index that failed, under lock */
	int first;
	pthread_mutex_t lock;
};

static void *delete_some(void *arg)
{
	struct deleter *d = arg;

	for (;;) {
		size_t i = __atomic_fetch_add(&d->next, 1, __ATOMIC_RELAXED);
		int ret;

		if (i >= d->n)
			return NULL;
		ret = vl_netns_delete(d->names[i]);
		if (ret < 0) {
			pthread_mutex_lock(&d->lock);
			if (i < d->failed) {
				d->failed = i;
				d->first = ret;
			}
			pthread_mutex_unlock(&d->lock);
		}
	}
}

/**
 * vl_apply_delete_all_at - delete namespaces, several at a time, going on past errors
 */
int vl_apply_delete_all_at(const char *const *names, size_t n, size_t *failed)
{
	struct deleter d = {.names = names, .n = n, .failed = n, .lock = PTHREAD_MUTEX_INITIALIZER};
	size_t threads = n < 32 ? 0 : n / 8 < DELETERS ? n / 8 : DELETERS; /* 8 names a thread at least */
	pthread_t tid[DELETERS];
	size_t started = 0;

	while (started < threads && !pthread_create(&tid[started], NULL, delete_some, &d))
		started++;
	delete_some(&d); /* this thread too, and alone if none could start */
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	if (failed)
		*failed = d.failed;
	return d.first;
}

/**
 * vl_apply_delete_all - delete a lab's namespaces, going on past errors
 */
int vl_apply_delete_all(const char *const *names, size_t n)
{
	return vl_apply_delete_all_at(names, n, NULL);
}
