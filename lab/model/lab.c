// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

void vl_lab_free(struct vl_lab *lab)
{
	if (!lab)
		return;
	for (size_t i = 0; i < lab->n_vnets; i++) {
		free(lab->vnets[i].name);
		free(lab->vnets[i].spaces);
		free(lab->vnets[i].subnets);
	}
	free(lab->vnets);
	for (size_t i = 0; i < lab->n_subnets; i++) {
		free(lab->subnets[i].name);
		free(lab->subnets[i].delegation);
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
	}
	free(lab->vms);
	for (size_t i = 0; i < lab->n_cgs; i++) {
		free(lab->cgs[i].name);
		free(lab->cgs[i].ports);
	}
	free(lab->cgs);
	for (size_t i = 0; i < lab->n_aks; i++) {
		struct vl_aks *a = &lab->aks[i];

		for (size_t j = 0; j < a->n_pods; j++) {
			free(a->pods[j].name);
			free(a->pods[j].ports);
		}
		free(a->pods);
		free(a->non_masq);
		free(a->name);
	}
	free(lab->aks);
	for (size_t i = 0; i < lab->n_checks; i++) {
		struct vl_check *c = &lab->checks[i];

		free(c->name);
		free(c->from);
		free(c->to);
		free(c->expect_source);
		free(c->expect_rule);
	}
	free(lab->checks);
	for (size_t i = 0; i < lab->n_steps; i++) {
		free(lab->steps[i].text);
		vl_rule_edit_clear(&lab->steps[i].edit);
	}
	free(lab->steps);
	for (size_t i = 0; i < lab->n_eps; i++)
		free(lab->eps[i].name);
	free(lab->eps);
	free(lab->name);
	free(lab->file);
	free(lab);
}

int vl_lab_find_subnet(const struct vl_lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_subnets; i++)
		if (!strcmp(lab->subnets[i].name, name))
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
	static const char *const names[] = {"vm", "containerGroup", "node", "pod"};

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
