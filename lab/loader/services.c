// SPDX-License-Identifier: MIT
/*
 * Kubernetes Services of an AKS cluster (`services:`) and the public
 * addresses a topology may write (a VM's publicIpAddress, a subnet's NAT
 * gateway, a cluster's outboundIp, a LoadBalancer's loadBalancerIP).
 * Addresses written as `true` (or left out) are allocated later, by
 * vl_public_assign() in the effective model.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tl.h"
#include "vnetlab/ip.h"

#define NODE_PORT_LO 30000
#define NODE_PORT_HI 32767

static const struct vl_prefix doc_ranges[] = {{0xc0000200u, 24}, {0xc6336400u, 24}, {0xcb007100u, 24}};

int tl_public_ip(struct tl *t, const struct ynode *n, const char *what, uint32_t *ip)
{
	char a[VL_IP_STRLEN];
	bool inside = false;
	uint32_t low;
	int r;

	*ip = 0;
	if (n->kind == YN_SCALAR && n->plain && !strcmp(n->str, "true"))
		return 0;
	if ((r = tl_ipv4(t, n, what, ip)))
		return r;
	for (size_t i = 0; i < sizeof(doc_ranges) / sizeof(doc_ranges[0]); i++)
		inside |= vl_prefix_contains(doc_ranges[i], *ip);
	if (!inside)
		return ld_fail(&t->c, n,
			       "%s %s is outside the documentation ranges 192.0.2.0/24, 198.51.100.0/24 and "
			       "203.0.113.0/24 (the lab's public addresses never leave the host)",
			       what, vl_ip_fmt(*ip, a));
	low = *ip & 0xffu;
	if (low == 0 || low == 1 || low == 255)
		return ld_fail(&t->c, n,
			       "%s %s is reserved (.0 is the network, .1 the edge router, .255 broadcast)",
			       what, vl_ip_fmt(*ip, a));
	return 0;
}

int tl_nat_gateway(struct tl *t, const struct ynode *m, struct vl_subnet *s)
{
	static const char *const keys[] = {"name", "publicIpAddresses", NULL};
	const struct ynode *ips, *nn;
	int r;

	if ((r = tl_named(t, m, "natGateway", keys, 0, &s->natgw, &nn)))
		return r;
	s->natgw_loc = m->loc;
	if (!strcmp(s->name, GATEWAY_SUBNET))
		return ld_fail(&t->c, m, "a NAT gateway cannot be associated with " GATEWAY_SUBNET);
	ips = ld_get(m, "publicIpAddresses");
	if (ips && ips->kind == YN_SEQ) {
		if (!ips->n || ips->n > 16)
			return ld_fail(&t->c, ips, "a NAT gateway has 1 to 16 public IP addresses, got %zu",
				       ips->n);
		s->natgw_ips = calloc(ips->n, sizeof(*s->natgw_ips));
		if (!s->natgw_ips)
			return -ENOMEM;
		s->n_natgw_ips = ips->n;
		for (size_t i = 0; i < ips->n; i++)
			if ((r = tl_public_ip(t, ips->kids[i], "NAT gateway public IP", &s->natgw_ips[i])))
				return r;
		return 0;
	}
	s->natgw_ips = calloc(1, sizeof(*s->natgw_ips));
	if (!s->natgw_ips)
		return -ENOMEM;
	s->n_natgw_ips = 1;
	return ips ? tl_public_ip(t, ips, "NAT gateway public IP", &s->natgw_ips[0]) : 0;
}

/* "1.12.7", "v1.29", "1.30.0": major and minor. */
static int k8s_version(struct tl *t, const struct ynode *n, struct vl_aks *a)
{
	const char *s;
	char *end;
	long major, minor;
	int r;

	if ((r = tl_want_scalar(t, n, "kubernetesVersion")))
		return r;
	s = n->str[0] == 'v' ? n->str + 1 : n->str;
	major = strtol(s, &end, 10);
	if (end == s || *end != '.')
		goto bad;
	s = end + 1;
	minor = strtol(s, &end, 10);
	if (end == s || (*end && *end != '.') || major != 1 || minor < 0 || minor > 99)
		goto bad;
	a->k8s_major = (int)major;
	a->k8s_minor = (int)minor;
	return 0;
bad:
	return ld_fail(&t->c, n, "invalid kubernetesVersion '%s'; expected 1.MINOR[.PATCH], e.g. 1.29.2",
		       n->str);
}

int tl_aks_outbound(struct tl *t, const struct ynode *m, struct vl_aks *a)
{
	const struct ynode *n;
	int r;

	a->k8s_major = 1;
	a->k8s_minor = 30;
	if ((n = ld_get(m, "kubernetesVersion")) && (r = k8s_version(t, n, a)))
		return r;
	a->outbound_type = VL_OUTBOUND_LB;
	if ((n = ld_get(m, "outboundType"))) {
		if ((r = tl_want_scalar(t, n, "outboundType")))
			return r;
		if (!strcasecmp(n->str, "userDefinedRouting"))
			a->outbound_type = VL_OUTBOUND_UDR;
		else if (strcasecmp(n->str, "loadBalancer"))
			return ld_fail(
			    &t->c, n,
			    "outboundType '%s' is not emulated; expected loadBalancer or userDefinedRouting",
			    n->str);
	}
	if ((n = ld_get(m, "outboundIp"))) {
		if (a->outbound_type != VL_OUTBOUND_LB)
			return ld_fail(&t->c, n, "outboundIp needs outboundType loadBalancer");
		if ((r = tl_public_ip(t, n, "outboundIp", &a->outbound_ip)))
			return r;
	}
	if (a->outbound_type == VL_OUTBOUND_UDR) {
		int rt = t->lab->subnets[a->subnet].route_table;
		bool dflt = false;

		for (size_t i = 0; rt != VL_NONE && i < t->lab->route_tables[rt].n_routes; i++)
			dflt |= t->lab->route_tables[rt].routes[i].prefix.len == 0;
		if (!dflt)
			return ld_fail(
			    &t->c, ld_get(m, "outboundType"),
			    "outboundType userDefinedRouting needs a 0.0.0.0/0 route in the route table "
			    "of subnet '%s' (AKS refuses the cluster otherwise)",
			    t->lab->subnets[a->subnet].name);
	}
	return 0;
}

static int svc_proto(struct tl *t, const struct ynode *n, enum vl_proto *p)
{
	int r;

	*p = VL_PROTO_TCP;
	if (!n)
		return 0;
	if ((r = tl_want_scalar(t, n, "protocol")))
		return r;
	if (!strcasecmp(n->str, "UDP"))
		*p = VL_PROTO_UDP;
	else if (strcasecmp(n->str, "TCP"))
		return ld_fail(&t->c, n, "invalid protocol '%s'; expected TCP or UDP", n->str);
	return 0;
}

/*
 * A named targetPort: the containerPort of that name in the pods the Service selects, which must
 * agree on its number (kube-proxy resolves it per endpoint; a lab keeps one number per port).
 */
static int named_target(struct tl *t, const struct ynode *n, const struct vl_aks *a, const struct vl_service *s,
			struct vl_svc_port *p)
{
	char q[48];
	int found = 0;

	for (size_t i = 0; i < a->n_pods; i++) {
		const struct vl_pod_spec *ps = &a->pods[i];

		if (!s->selector.n || strcmp(ps->ns, s->ns) || !vl_labels_subset(&s->selector, &ps->labels))
			continue;
		for (size_t k = 0; ps->port_names && k < ps->n_ports; k++) {
			if (!ps->port_names[k] || strcmp(ps->port_names[k], n->str))
				continue;
			if (found && found != ps->ports[k])
				return ld_fail(&t->c, n,
					       "targetPort '%s' of service '%s' names port %d in one pod and %u in "
					       "another; give the number",
					       ld_quote(&t->c, n->str, q, sizeof(q)), s->name, found, ps->ports[k]);
			found = ps->ports[k];
		}
	}
	if (!found)
		return ld_fail(&t->c, n, "targetPort '%s' of service '%s' names no containerPort of the pods it selects",
			       ld_quote(&t->c, n->str, q, sizeof(q)), s->name);
	p->target_port = (uint16_t)found;
	return 0;
}

static bool numeric(const struct ynode *n)
{
	if (n->kind != YN_SCALAR || n->null || !*n->str)
		return n->kind != YN_SCALAR || n->null; /* let ld_int say what is wrong */
	for (const char *c = n->str; *c; c++)
		if (*c < '0' || *c > '9')
			return false;
	return true;
}

static int svc_port(struct tl *t, const struct ynode *m, const struct vl_aks *a, const struct vl_service *s,
		    struct vl_svc_port *p)
{
	static const char *const keys[] = {"name", "port", "targetPort", "protocol", "nodePort", NULL};
	const struct ynode *n;
	int v, r;

	if ((r = ld_map(&t->c, m, "service port")) || (r = ld_keys(&t->c, m, "service port", keys)) ||
	    (r = ld_need(&t->c, m, "port", "service port", &n)) ||
	    (r = ld_int(&t->c, n, "port", 1, 65535, &v)))
		return r;
	p->loc = m->loc;
	p->port = p->target_port = (uint16_t)v;
	if ((n = ld_get(m, "targetPort")) && !numeric(n)) {
		if ((r = named_target(t, n, a, s, p)))
			return r;
	} else if (n) {
		if ((r = ld_int(&t->c, n, "targetPort", 1, 65535, &v)))
			return r;
		p->target_port = (uint16_t)v;
	}
	if ((n = ld_get(m, "nodePort"))) {
		if ((r = ld_int(&t->c, n, "nodePort", NODE_PORT_LO, NODE_PORT_HI, &v)))
			return r;
		p->node_port = (uint16_t)v;
	}
	return svc_proto(t, ld_get(m, "protocol"), &p->proto);
}

static int svc_ports(struct tl *t, const struct ynode *m, const struct vl_aks *a, struct vl_service *s)
{
	const struct ynode *seq = ld_get(m, "ports"), *port = ld_get(m, "port");
	int v, r;

	if (seq && port)
		return ld_fail(&t->c, port, "give either ports or port/targetPort, not both");
	if (port) {
		s->ports = calloc(1, sizeof(*s->ports));
		if (!s->ports)
			return -ENOMEM;
		s->n_ports = 1;
		if ((r = ld_int(&t->c, port, "port", 1, 65535, &v)))
			return r;
		s->ports[0].loc = port->loc;
		s->ports[0].port = s->ports[0].target_port = (uint16_t)v;
		if ((port = ld_get(m, "targetPort"))) {
			if ((r = ld_int(&t->c, port, "targetPort", 1, 65535, &v)))
				return r;
			s->ports[0].target_port = (uint16_t)v;
		}
		return svc_proto(t, ld_get(m, "protocol"), &s->ports[0].proto);
	}
	if (ld_get(m, "targetPort") || ld_get(m, "protocol"))
		return ld_fail(&t->c,
			       ld_get(m, "targetPort") ? ld_get(m, "targetPort") : ld_get(m, "protocol"),
			       "targetPort and protocol go with port (or inside ports)");
	if (!seq)
		return ld_fail(&t->c, m, "service '%s' needs ports (or port)", s->name);
	if ((r = ld_seq(&t->c, seq, "ports")))
		return r;
	if (!seq->n)
		return ld_fail(&t->c, seq, "service '%s' has no ports", s->name);
	s->ports = calloc(seq->n, sizeof(*s->ports));
	if (!s->ports)
		return -ENOMEM;
	s->n_ports = seq->n;
	for (size_t i = 0; i < seq->n; i++) {
		if ((r = svc_port(t, seq->kids[i], a, s, &s->ports[i])))
			return r;
		for (size_t j = 0; j < i; j++)
			if (s->ports[j].port == s->ports[i].port && s->ports[j].proto == s->ports[i].proto)
				return ld_fail(&t->c, seq->kids[i],
					       "port %u/%s is listed twice in service '%s'", s->ports[i].port,
					       vl_proto_name(s->ports[i].proto), s->name);
	}
	return 0;
}

/*
 * Inline `selector: NAME` (the pods named NAME: each carries app=<its name>) or a map of labels;
 * a manifest's spec.selector is a map. The pods it picks are the effective model's (services.c).
 */
static int svc_selector(struct tl *t, const struct ynode *n, const struct vl_aks *a, struct vl_service *s,
			bool manifest)
{
	int r;

	if (n->kind == YN_SCALAR && !manifest && !n->null) {
		if ((r = vl_labels_set(&s->selector, "app", n->str)))
			return r;
	} else if (n->kind != YN_MAP && !n->null) {
		return ld_fail(&t->c, n, "expected a map of labels for selector of service '%s', got %s", s->name,
			       ld_kind(n));
	} else if (!n->null && (r = tl_labels(t, n, "selector", &s->selector))) {
		return r;
	}
	if (manifest)
		return 0; /* a Service may select nothing (yet): no endpoints */
	for (size_t i = 0; i < a->n_pods; i++)
		if (!strcmp(a->pods[i].ns, s->ns) && vl_labels_subset(&s->selector, &a->pods[i].labels))
			return 0;
	return ld_fail(&t->c, n,
		       "selector of service '%s' matches no pod of cluster '%s' (no pod of namespace '%s' has "
		       "those labels; an inline pod carries app=<its name>)",
		       s->name, a->name, s->ns);
}

static int svc_annotations(struct tl *t, const struct ynode *m, struct vl_service *s)
{
	static const char pre[] = "service.beta.kubernetes.io/";
	int r;

	if ((r = ld_map(&t->c, m, "annotations")))
		return r;
	for (size_t i = 0; i < m->n; i++) {
		const struct ynode *k = m->kids[2 * i], *v = m->kids[2 * i + 1];
		const char *key = k->str;
		bool on;

		if (strncmp(key, pre, sizeof(pre) - 1))
			continue; /* Kubernetes keeps any annotation; these do nothing here */
		key += sizeof(pre) - 1;
		if ((r = tl_want_scalar(t, v, k->str)))
			return r;
		on = !strcasecmp(v->str, "true");
		if (!strcmp(key, "azure-deny-all-except-load-balancer-source-ranges")) {
			s->deny_all_except = on;
		} else if (!strcmp(key, "azure-disable-load-balancer-nsg-rule")) {
			s->no_nsg_rule = on;
		} else if (!strcmp(key, "azure-shared-securityrule")) {
			s->shared_rule = on;
		} else if (!strcmp(key, "azure-allowed-service-tags")) {
			char *dup = strdup(v->str), *save = NULL;

			if (!dup)
				return -ENOMEM;
			for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				while (*tok == ' ')
					tok++;
				for (size_t e = strlen(tok); e && tok[e - 1] == ' ';)
					tok[--e] = '\0';
				if (*tok && vl_strv_push(&s->allowed_tags, tok)) {
					free(dup);
					return -ENOMEM;
				}
			}
			free(dup);
		}
	}
	return 0;
}

static int service(struct tl *t, const struct ynode *m, struct vl_aks *a, size_t i)
{
	static const char *const keys[] = {"name",
					   "namespace",
					   "type",
					   "selector",
					   "ports",
					   "port",
					   "targetPort",
					   "protocol",
					   "externalTrafficPolicy",
					   "loadBalancerSourceRanges",
					   "loadBalancerIP",
					   "clusterIP",
					   "healthCheckNodePort",
					   "uid",
					   "annotations",
					   NULL};
	const struct ynode *nn;
	int r;

	if ((r = ld_map(&t->c, m, "service")) || (r = ld_keys(&t->c, m, "service", keys)) ||
	    (r = ld_need(&t->c, m, "name", "service", &nn)))
		return r;
	return tl_service_obj(t, m, m, nn, a, i, false);
}

int tl_service_obj(struct tl *t, const struct ynode *m, const struct ynode *meta, const struct ynode *nn,
		   struct vl_aks *a, size_t i, bool manifest)
{
	struct vl_service *s = &a->services[i];
	const struct ynode *n;
	char ip[VL_IP_STRLEN];
	int v, r;

	if ((r = tl_endpoint_name(t, nn, "service name", VL_ENDPOINT_NAME_MAX, &s->name)))
		return r;
	s->loc = (manifest ? meta : m)->loc;
	if ((n = ld_get(meta, "namespace")) && (r = ld_str(&t->c, n, "namespace", &s->ns)))
		return r;
	if (!s->ns && !(s->ns = strdup("default")))
		return -ENOMEM;
	if ((r = tl_k8s_ns(t, a, s->ns, n ? n : meta, NULL)))
		return r;
	for (size_t j = 0; j < i; j++)
		if (!strcmp(a->services[j].name, s->name))
			return ld_fail(&t->c, nn, "duplicate service name '%s' in cluster '%s'", s->name,
				       a->name);

	s->type = VL_SVC_CLUSTER_IP;
	if ((n = ld_get(m, "type"))) {
		if ((r = tl_want_scalar(t, n, "type")))
			return r;
		if (!strcmp(n->str, "LoadBalancer"))
			s->type = VL_SVC_LB;
		else if (!strcmp(n->str, "NodePort"))
			s->type = VL_SVC_NODE_PORT;
		else if (strcmp(n->str, "ClusterIP"))
			return ld_fail(
			    &t->c, n,
			    "invalid service type '%s'; expected ClusterIP, NodePort or LoadBalancer",
			    n->str);
	}
	if (!manifest && (r = ld_need(&t->c, m, "selector", "service", &n)))
		return r;
	if ((n = ld_get(m, "selector")) && (r = svc_selector(t, n, a, s, manifest)))
		return r;
	if ((r = svc_ports(t, m, a, s)))
		return r;
	for (size_t p = 0; p < s->n_ports; p++)
		if (s->ports[p].node_port && s->type == VL_SVC_CLUSTER_IP)
			return ld_fail(
			    &t->c, m, "nodePort needs type NodePort or LoadBalancer (service '%s')", s->name);
	if ((n = ld_get(m, "externalTrafficPolicy"))) {
		if ((r = tl_want_scalar(t, n, "externalTrafficPolicy")))
			return r;
		if (!strcmp(n->str, "Local"))
			s->local = true;
		else if (strcmp(n->str, "Cluster"))
			return ld_fail(&t->c, n,
				       "invalid externalTrafficPolicy '%s'; expected Cluster or Local",
				       n->str);
		if (s->type == VL_SVC_CLUSTER_IP)
			return ld_fail(&t->c, n, "externalTrafficPolicy needs type NodePort or LoadBalancer");
	}
	if ((n = ld_get(m, "loadBalancerSourceRanges"))) {
		if (s->type != VL_SVC_LB)
			return ld_fail(&t->c, n, "loadBalancerSourceRanges needs type LoadBalancer");
		if ((r = tl_cidr_list(t, n, "loadBalancerSourceRanges", &s->source_ranges,
				      &s->n_source_ranges)))
			return r;
	}
	if ((n = ld_get(m, "loadBalancerIP"))) {
		if (s->type != VL_SVC_LB)
			return ld_fail(&t->c, n, "loadBalancerIP needs type LoadBalancer");
		s->frontend_loc = n->loc;
		if ((r = tl_public_ip(t, n, "loadBalancerIP", &s->frontend_ip)))
			return r;
	} else {
		s->frontend_loc = m->loc;
	}
	if ((n = ld_get(m, "clusterIP"))) {
		if ((r = tl_ipv4(t, n, "clusterIP", &s->cluster_ip)))
			return r;
		if (!vl_prefix_contains(a->service_cidr, s->cluster_ip) ||
		    s->cluster_ip == a->service_cidr.addr)
			return ld_fail(&t->c, n, "clusterIP %s is not a host of serviceCidr of cluster '%s'",
				       vl_ip_fmt(s->cluster_ip, ip), a->name);
		for (size_t j = 0; j < i; j++)
			if (a->services[j].cluster_ip == s->cluster_ip)
				return ld_fail(&t->c, n, "clusterIP %s is taken by service '%s'", ip,
					       a->services[j].name);
	}
	if ((n = ld_get(m, "healthCheckNodePort"))) {
		if (s->type != VL_SVC_LB || !s->local)
			return ld_fail(
			    &t->c, n,
			    "healthCheckNodePort needs type LoadBalancer and externalTrafficPolicy Local");
		if ((r = ld_int(&t->c, n, "healthCheckNodePort", NODE_PORT_LO, NODE_PORT_HI, &v)))
			return r;
		s->health_port = (uint16_t)v;
	}
	if ((n = ld_get(meta, "uid"))) {
		size_t hex = 0;

		if ((r = tl_want_scalar(t, n, "uid")))
			return r;
		for (const char *c = n->str; *c; c++)
			hex += (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f');
		if (hex != 32 || strlen(n->str) != 36)
			return ld_fail(&t->c, n, "uid '%s' is not a UUID (8-4-4-4-12 lower-case hex digits)",
				       n->str);
		if ((r = ld_str(&t->c, n, "uid", &s->uid)))
			return r;
	}
	if ((n = ld_get(meta, "annotations")) && (r = svc_annotations(t, n, s)))
		return r;
	/* Two services of the cluster on one frontend address and port (spec 15.4: one LB rule each). */
	for (size_t j = 0; j < i && s->type == VL_SVC_LB && s->frontend_ip; j++) {
		const struct vl_service *o = &a->services[j];

		if (o->type != VL_SVC_LB || o->frontend_ip != s->frontend_ip)
			continue;
		for (size_t p = 0; p < s->n_ports; p++)
			for (size_t q = 0; q < o->n_ports; q++)
				if (s->ports[p].port == o->ports[q].port &&
				    s->ports[p].proto == o->ports[q].proto)
					return ld_fail(
					    &t->c, ld_get(m, "loadBalancerIP"),
					    "service '%s' and service '%s' both use frontend %s port %u/%s",
					    s->name, o->name, vl_ip_fmt(s->frontend_ip, ip), s->ports[p].port,
					    vl_proto_name(s->ports[p].proto));
	}
	/* nodePorts are unique per cluster */
	for (size_t p = 0; p < s->n_ports; p++)
		for (size_t j = 0; j <= i; j++)
			for (size_t q = 0; q < a->services[j].n_ports && (j < i || q < p); q++)
				if (s->ports[p].node_port && s->ports[p].node_port == a->services[j].ports[q].node_port)
					return ld_fail(&t->c, m, "nodePort %u is taken by service '%s'",
						       s->ports[p].node_port, a->services[j].name);
	return 0;
}

int tl_services(struct tl *t, const struct ynode *m, struct vl_aks *a)
{
	const struct ynode *seq;
	int r = tl_list_of(t, m, "services", &seq);

	/* after the manifests' services, which stay in front */
	for (size_t i = 0; !r && seq && i < seq->n; i++) {
		if (!tl_grow(&a->services, &a->n_services, sizeof(*a->services)))
			return -ENOMEM;
		r = service(t, seq->kids[i], a, a->n_services - 1);
	}
	return r;
}
