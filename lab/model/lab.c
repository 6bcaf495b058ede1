// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vnetlab/effective.h"
#include "vnetlab/model.h"

void vl_error_set(struct vl_error *err, const char *file, struct vl_loc loc, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = loc.line;
	err->col = loc.col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

bool vl_lab_name_ok(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	/* No '-': namespaces are vl-<lab>-<endpoint>; lab "a-b" with endpoint "c" would
	 * collide with lab "a" and endpoint "b-c". No '/' or '.': it names a directory. */
	if (len < 1 || len > VL_LAB_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

uint64_t vl_rule_id(const char *nsg, const char *rule)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over "nsg/rule" */

	for (const char *p = nsg; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	h = (h ^ '/') * 0x100000001b3ull;
	for (const char *p = rule; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h ? h : 1;
}

int vl_lab_set_name(struct vl_lab *lab, const char *name)
{
	char *copy;

	if (!vl_lab_name_ok(name))
		return -EINVAL;
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	free(lab->name);
	lab->name = copy;
	return 0;
}

struct vl_lab *vl_lab_new(void)
{
	return calloc(1, sizeof(struct vl_lab));
}

void vl_strv_free(struct vl_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

int vl_strv_push(struct vl_strv *sv, const char *s)
{
	char **v = realloc(sv->v, (sv->n + 1) * sizeof(*v));
	char *dup = strdup(s);

	if (v)
		sv->v = v;
	if (!v || !dup) {
		free(dup);
		return -ENOMEM;
	}
	sv->v[sv->n++] = dup;
	return 0;
}

void vl_rule_clear(struct vl_rule *r)
{
	free(r->name);
	free(r->description);
	free(r->src_prefix);
	free(r->dst_prefix);
	free(r->src_port);
	free(r->dst_port);
	vl_strv_free(&r->src_prefixes);
	vl_strv_free(&r->dst_prefixes);
	vl_strv_free(&r->src_ports);
	vl_strv_free(&r->dst_ports);
	vl_strv_free(&r->src_asgs);
	vl_strv_free(&r->dst_asgs);
	free(r->src);
	free(r->dst);
	free(r->sport);
	free(r->dport);
	memset(r, 0, sizeof(*r));
}

void vl_rule_edit_clear(struct vl_rule_edit *e)
{
	free(e->nsg);
	free(e->rule);
	vl_strv_free(&e->keys);
	vl_strv_free(&e->values);
}

static void hosts_free(struct vl_host_spec *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].ports);
	}
	free(h);
}

/* Frees everything reachable from lab, the effective model (lab->eff) included. */
void vl_lab_clear_checks(struct vl_lab *lab)
{
	for (size_t i = 0; i < lab->n_checks; i++) {
		struct vl_check *c = &lab->checks[i];

		free(c->name);
		free(c->from);
		free(c->to);
		free(c->expect_source);
		free(c->expect_rule);
		free(c->description);
		free(c->hint);
	}
	free(lab->checks);
	for (size_t i = 0; i < lab->n_steps; i++) {
		free(lab->steps[i].text);
		vl_rule_edit_clear(&lab->steps[i].edit);
	}
	free(lab->steps);
	lab->checks = NULL;
	lab->n_checks = 0;
	lab->steps = NULL;
	lab->n_steps = 0;
}

void vl_lab_take_checks(struct vl_lab *dst, struct vl_lab *src)
{
	vl_lab_clear_checks(dst);
	dst->checks = src->checks;
	dst->n_checks = src->n_checks;
	dst->steps = src->steps;
	dst->n_steps = src->n_steps;
	src->checks = NULL;
	src->n_checks = 0;
	src->steps = NULL;
	src->n_steps = 0;
}

void vl_lab_free(struct vl_lab *lab)
{
	if (!lab)
		return;
	for (size_t i = 0; i < lab->n_vnets; i++) {
		free(lab->vnets[i].name);
		free(lab->vnets[i].spaces);
		free(lab->vnets[i].subnets);
		for (size_t j = 0; j < lab->vnets[i].n_peerings; j++)
			free(lab->vnets[i].peerings[j].name);
		free(lab->vnets[i].peerings);
	}
	free(lab->vnets);
	for (size_t i = 0; i < lab->n_subnets; i++) {
		free(lab->subnets[i].name);
		free(lab->subnets[i].delegation);
		free(lab->subnets[i].natgw);
		free(lab->subnets[i].natgw_ips);
	}
	free(lab->subnets);
	for (size_t i = 0; i < lab->n_nsgs; i++) {
		for (size_t j = 0; j < lab->nsgs[i].n_rules; j++)
			vl_rule_clear(&lab->nsgs[i].rules[j]);
		free(lab->nsgs[i].rules);
		free(lab->nsgs[i].name);
	}
	free(lab->nsgs);
	for (size_t i = 0; i < lab->n_route_tables; i++) {
		for (size_t j = 0; j < lab->route_tables[i].n_routes; j++)
			free(lab->route_tables[i].routes[j].name);
		free(lab->route_tables[i].routes);
		free(lab->route_tables[i].name);
	}
	free(lab->route_tables);
	for (size_t i = 0; i < lab->n_vms; i++) {
		free(lab->vms[i].name);
		free(lab->vms[i].ports);
		free(lab->vms[i].asgs);
	}
	free(lab->vms);
	for (size_t i = 0; i < lab->n_asgs; i++)
		free(lab->asgs[i].name);
	free(lab->asgs);
	for (size_t i = 0; i < lab->n_service_tags; i++) {
		free(lab->service_tags[i].name);
		free(lab->service_tags[i].prefixes);
	}
	free(lab->service_tags);
	for (size_t i = 0; i < lab->n_cgs; i++) {
		free(lab->cgs[i].name);
		free(lab->cgs[i].ports);
	}
	free(lab->cgs);
	for (size_t i = 0; i < lab->n_aks; i++) {
		struct vl_aks *a = &lab->aks[i];

		for (size_t j = 0; j < a->n_pods; j++) {
			struct vl_pod_spec *p = &a->pods[j];

			free(p->name);
			for (size_t k = 0; p->port_names && k < p->n_ports; k++)
				free(p->port_names[k]);
			free(p->port_names);
			free(p->ports);
			free(p->ns);
			vl_labels_free(&p->labels);
			vl_pod_sched_free(&p->sched);
			free(p->kind);
			free(p->file);
			free(p->placed);
		}
		free(a->pods);
		for (size_t j = 0; j < a->n_namespaces; j++)
			vl_k8s_ns_free(&a->namespaces[j]);
		free(a->namespaces);
		for (size_t j = 0; j < a->n_policies; j++)
			vl_netpol_free(&a->policies[j]);
		free(a->policies);
		for (size_t j = 0; j < a->n_services; j++) {
			struct vl_service *sv = &a->services[j];

			free(sv->name);
			free(sv->ports);
			free(sv->source_ranges);
			free(sv->uid);
			free(sv->ns);
			vl_labels_free(&sv->selector);
			vl_strv_free(&sv->allowed_tags);
		}
		free(a->services);
		free(a->non_masq);
		free(a->name);
	}
	free(lab->aks);
	for (size_t i = 0; i < lab->n_gateways; i++)
		free(lab->gateways[i].name);
	free(lab->gateways);
	for (size_t i = 0; i < lab->n_local_gateways; i++) {
		struct vl_local_gateway *g = &lab->local_gateways[i];

		hosts_free(g->hosts, g->n_hosts);
		free(g->prefixes);
		free(g->name);
	}
	free(lab->local_gateways);
	for (size_t i = 0; i < lab->n_connections; i++)
		free(lab->connections[i].name);
	free(lab->connections);
	hosts_free(lab->internet_hosts, lab->n_internet_hosts);
	vl_lab_clear_checks(lab);
	vl_eff_free(lab->eff, lab);
	for (size_t i = 0; i < lab->n_eps; i++)
		free(lab->eps[i].name);
	free(lab->eps);
	free(lab->name);
	free(lab->file);
	free(lab);
}

size_t vl_lab_match_subnet(const struct vl_lab *lab, const char *name, int found[2])
{
	const char *slash = strchr(name, '/');
	size_t n = 0;

	found[0] = found[1] = VL_NONE;
	if (slash) {
		const struct vl_vnet *v = NULL;
		size_t vlen = (size_t)(slash - name);

		for (size_t i = 0; !v && i < lab->n_vnets; i++)
			if (strlen(lab->vnets[i].name) == vlen && !strncmp(lab->vnets[i].name, name, vlen))
				v = &lab->vnets[i];
		for (size_t j = 0; v && j < v->n_subnets; j++)
			if (!strcmp(lab->subnets[v->subnets[j]].name, slash + 1)) {
				found[0] = v->subnets[j];
				return 1;
			}
		return 0;
	}
	for (size_t i = 0; i < lab->n_subnets && n < 2; i++)
		if (!strcmp(lab->subnets[i].name, name))
			found[n++] = (int)i;
	return n;
}

int vl_lab_find_subnet(const struct vl_lab *lab, const char *name)
{
	int found[2];

	return vl_lab_match_subnet(lab, name, found) == 1 ? found[0] : VL_NONE;
}

int vl_lab_find_vnet(const struct vl_lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_vnets; i++)
		if (!strcmp(lab->vnets[i].name, name))
			return (int)i;
	return VL_NONE;
}

int vl_lab_find_nsg(const struct vl_lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_nsgs; i++)
		if (!strcmp(lab->nsgs[i].name, name))
			return (int)i;
	return VL_NONE;
}

int vl_lab_find_endpoint(const struct vl_lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_eps; i++)
		if (!strcmp(lab->eps[i].name, name))
			return (int)i;
	return VL_NONE;
}

int vl_lab_find_endpoint_by_ip(const struct vl_lab *lab, uint32_t ip)
{
	for (size_t i = 0; i < lab->n_eps; i++)
		if (lab->eps[i].ip == ip)
			return (int)i;
	return VL_NONE;
}

int vl_lab_find_endpoint_near(const struct vl_lab *lab, int from, uint32_t ip)
{
	int vnet = VL_NONE, any = VL_NONE;

	if (from >= 0 && (size_t)from < lab->n_eps && lab->eps[from].subnet >= 0)
		vnet = lab->subnets[lab->eps[from].subnet].vnet;
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->ip != ip)
			continue;
		if (vnet == VL_NONE || (e->subnet >= 0 && lab->subnets[e->subnet].vnet == vnet))
			return (int)i;
		if (any == VL_NONE)
			any = (int)i;
	}
	return any;
}

/* Rule names are unique case-insensitively in an NSG, as ARM resource names are. */
int vl_nsg_find_rule(const struct vl_nsg *nsg, const char *name)
{
	for (size_t i = 0; i < nsg->n_rules; i++)
		if (!strcasecmp(nsg->rules[i].name, name))
			return (int)i;
	return VL_NONE;
}

const char *vl_proto_name(enum vl_proto p)
{
	static const char *const names[] = {"*", "Tcp", "Udp", "Icmp", "Esp", "Ah"};

	return names[p];
}

const char *vl_app_name(enum vl_app a)
{
	return a == VL_APP_HELLO ? "hello" : a == VL_APP_ECHO ? "echo" : "";
}

const char *vl_ep_kind_name(enum vl_ep_kind k)
{
	static const char *const names[] = {"vm", "containerGroup", "node", "pod", "internet", "onprem"};

	return names[k];
}

const char *vl_dir_name(enum vl_dir d)
{
	return d == VL_DIR_IN ? "Inbound" : "Outbound";
}

const char *vl_access_name(enum vl_access a)
{
	return a == VL_ALLOW ? "Allow" : "Deny";
}

int vl_aks_find_service(const struct vl_aks *a, const char *name)
{
	for (size_t i = 0; i < a->n_services; i++)
		if (!strcmp(a->services[i].name, name))
			return (int)i;
	return VL_NONE;
}

int vl_lab_find_service(const struct vl_lab *lab, const char *name, int *cluster, int *svc)
{
	const char *slash = strchr(name, '/');
	int found = 0;

	for (size_t c = 0; c < lab->n_aks; c++) {
		const char *sn = name;
		int s;

		if (slash) {
			if (strncmp(lab->aks[c].name, name, (size_t)(slash - name)) ||
			    lab->aks[c].name[slash - name])
				continue;
			sn = slash + 1;
		}
		s = vl_aks_find_service(&lab->aks[c], sn);
		if (s == VL_NONE)
			continue;
		if (found++)
			return -ENOENT; /* ambiguous: say cluster/service */
		*cluster = (int)c;
		*svc = s;
	}
	return found ? 0 : -ENOENT;
}
