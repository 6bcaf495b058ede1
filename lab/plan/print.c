// SPDX-License-Identifier: MIT
/* A plan as text, one object per line (`up --dry-run`), in iproute2's words. */
#include <stdio.h>

#include "vnetlab/ip.h"
#include "vnetlab/plan.h"

void vl_plan_print(const struct vl_plan *p, FILE *f)
{
	char a[VL_PREFIX_STRLEN], g[VL_IP_STRLEN];

	for (size_t i = 0; i < p->n_ns; i++)
		fprintf(f, "netns  %s\n", p->ns[i].name);
	for (size_t i = 0; i < p->n_sysctls; i++)
		fprintf(f, "sysctl %s %s=%s\n", p->ns[p->sysctls[i].ns].name, p->sysctls[i].key,
			p->sysctls[i].value);
	for (size_t i = 0; i < p->n_links; i++) {
		const struct vl_plan_link *l = &p->links[i];

		if (l->kind == VL_LINK_BRIDGE)
			fprintf(f, "link   %s %s type bridge\n", p->ns[l->ns].name, l->name);
		else
			fprintf(f, "link   %s %s type veth peer %s netns %s%s%s%s%s\n", p->ns[l->ns].name,
				l->name, l->peer_name, p->ns[l->peer_ns].name, l->master[0] ? " master " : "",
				l->master, l->hairpin ? " hairpin" : "",
				l->peer_no_ipv6 ? " peer-no-ipv6" : "");
	}
	for (size_t i = 0; i < p->n_addrs; i++)
		fprintf(f, "addr   %s %s %s\n", p->ns[p->addrs[i].ns].name, p->addrs[i].dev,
			vl_prefix_fmt(p->addrs[i].addr, a));
	for (size_t i = 0; i < p->n_rules; i++) {
		fprintf(f, "rule   %s pref %u", p->ns[p->rules[i].ns].name, p->rules[i].priority);
		if (p->rules[i].mark)
			fprintf(f, " fwmark %u", p->rules[i].mark);
		if (p->rules[i].src.len)
			fprintf(f, " from %s", vl_prefix_fmt(p->rules[i].src, a));
		if (p->rules[i].iif[0])
			fprintf(f, " iif %s", p->rules[i].iif);
		fprintf(f, " lookup %u\n", p->rules[i].table);
	}
	for (size_t i = 0; i < p->n_routes; i++) {
		static const char *const types[] = {"", "blackhole ", "unreachable ", "throw "};
		const struct vl_plan_route *r = &p->routes[i];

		fprintf(f, "route  %s %s%s", p->ns[r->ns].name, types[r->type],
			r->dst.len ? vl_prefix_fmt(r->dst, a) : "default");
		if (r->gateway)
			fprintf(f, " via %s", vl_ip_fmt(r->gateway, g));
		if (r->dev[0])
			fprintf(f, " dev %s", r->dev);
		if (r->table != VL_RT_MAIN)
			fprintf(f, " table %u", r->table);
		fprintf(f, "\n");
	}
	for (size_t i = 0; i < p->n_rulesets; i++)
		fprintf(f, "nft    %s %s\n", p->ns[p->rulesets[i].ns].name,
			p->rulesets[i].kind == VL_RULESET_FABRIC ? "fabric" : "masquerade");
}
