// SPDX-License-Identifier: MIT
/* NSGs and their rules as az prints them: the flattened JSON shape and `az network nsg rule list -o table`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nsg_out.h"

/* An ARM field pair: the singular value and the plural list, as `az` prints both. */
static void pair(json_t *o, const char *key, const char *single, const char *plural_key,
		 const struct vl_strv *plural)
{
	out_set(o, key, out_str(single));
	out_set(o, plural_key, out_strv(plural));
}

static json_t *asg_refs(const struct vl_strv *names, const char *rg)
{
	json_t *l = json_array();

	for (size_t i = 0; i < names->n; i++) {
		json_t *o = json_object();

		out_set(o, "id",
			out_strf(
			    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/%s/providers/"
			    "Microsoft.Network/applicationSecurityGroups/%s",
			    rg ? rg : "vnetlab", names->v[i]));
		if (rg)
			out_set(o, "resourceGroup", out_str(rg));
		out_add(l, o);
	}
	return l;
}

json_t *nsg_rule_tree(const struct vl_rule *r, const char *rg)
{
	json_t *o = json_object();

	out_set(o, "name", out_str(r->name));
	out_set(o, "priority", out_int(r->priority));
	out_set(o, "direction", out_str(vl_dir_name(r->dir)));
	out_set(o, "access", out_str(vl_access_name(r->access)));
	out_set(o, "protocol", out_str(vl_proto_name(r->proto)));
	pair(o, "sourceAddressPrefix", r->src_prefix, "sourceAddressPrefixes", &r->src_prefixes);
	pair(o, "sourcePortRange", r->src_port, "sourcePortRanges", &r->src_ports);
	pair(o, "destinationAddressPrefix", r->dst_prefix, "destinationAddressPrefixes", &r->dst_prefixes);
	pair(o, "destinationPortRange", r->dst_port, "destinationPortRanges", &r->dst_ports);
	/* null when unused, as older az prints them: every rule has the same fields (tsv columns) */
	out_set(o, "sourceApplicationSecurityGroups",
		r->src_asgs.n ? asg_refs(&r->src_asgs, rg) : json_null());
	out_set(o, "destinationApplicationSecurityGroups",
		r->dst_asgs.n ? asg_refs(&r->dst_asgs, rg) : json_null());
	out_set(o, "description", out_str(r->description));
	out_set(o, "provisioningState", out_str("Succeeded"));
	if (rg)
		out_set(o, "resourceGroup", out_str(rg));
	out_set(o, "type",
		out_strf("Microsoft.Network/networkSecurityGroups/%s",
			 r->is_default ? "defaultSecurityRules" : "securityRules"));
	return o;
}

static void opt_pair(json_t *o, const char *key, const char *single, const char *plural_key,
		     const struct vl_strv *plural)
{
	if (single)
		out_set(o, key, out_str(single));
	if (plural->n)
		out_set(o, plural_key, out_strv(plural));
}

json_t *nsg_rule_topology(const struct vl_rule *r)
{
	json_t *o = json_object();

	out_set(o, "name", out_str(r->name));
	out_set(o, "priority", out_int(r->priority));
	out_set(o, "direction", out_str(vl_dir_name(r->dir)));
	out_set(o, "access", out_str(vl_access_name(r->access)));
	out_set(o, "protocol", out_str(vl_proto_name(r->proto)));
	opt_pair(o, "sourceAddressPrefix", r->src_prefix, "sourceAddressPrefixes", &r->src_prefixes);
	if (r->src_asgs.n)
		out_set(o, "sourceApplicationSecurityGroups", out_strv(&r->src_asgs));
	opt_pair(o, "sourcePortRange", r->src_port, "sourcePortRanges", &r->src_ports);
	opt_pair(o, "destinationAddressPrefix", r->dst_prefix, "destinationAddressPrefixes",
		 &r->dst_prefixes);
	if (r->dst_asgs.n)
		out_set(o, "destinationApplicationSecurityGroups", out_strv(&r->dst_asgs));
	opt_pair(o, "destinationPortRange", r->dst_port, "destinationPortRanges", &r->dst_ports);
	if (r->description)
		out_set(o, "description", out_str(r->description));
	return o;
}

json_t *nsg_tree(const struct vl_lab *lab, int nsg, bool defaults, const char *rg)
{
	const struct vl_nsg *g = &lab->nsgs[nsg];
	json_t *o = json_object(), *rules = json_array(), *subs = json_array(), *nics = json_array();
	const struct vl_rule *defs;
	size_t n_def;

	out_set(o, "name", out_str(g->name));
	if (rg)
		out_set(o, "resourceGroup", out_str(rg));
	for (size_t i = 0; i < g->n_rules; i++)
		out_add(rules, nsg_rule_tree(&g->rules[i], rg));
	out_set(o, "securityRules", rules);
	if (defaults) {
		json_t *d = json_array();

		defs = vl_default_rules(&n_def);
		for (size_t i = 0; i < n_def; i++)
			out_add(d, nsg_rule_tree(&defs[i], rg));
		out_set(o, "defaultSecurityRules", d);
	}
	for (size_t i = 0; i < lab->n_subnets; i++)
		if (lab->subnets[i].nsg == nsg) {
			json_t *s = json_object();

			out_set(s, "name", out_str(lab->subnets[i].name));
			out_set(s, "vnet", out_str(lab->vnets[lab->subnets[i].vnet].name));
			out_add(subs, s);
		}
	out_set(o, "subnets", subs);
	for (size_t i = 0; i < lab->n_eps; i++)
		if (lab->eps[i].nic_nsg == nsg) {
			json_t *s = json_object();

			out_set(s, "endpoint", out_str(lab->eps[i].name));
			out_add(nics, s);
		}
	out_set(o, "networkInterfaces", nics);
	out_set(o, "type", out_str("Microsoft.Network/networkSecurityGroups"));
	return o;
}

/* The singular value, else the plural list joined by spaces: az's table cell. */
static char *join(const char *single, const struct vl_strv *plural)
{
	size_t len = 1, n = 0;
	char *s;

	if (single && *single)
		return strdup(single);
	for (size_t i = 0; i < plural->n; i++)
		len += strlen(plural->v[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < plural->n; i++)
		n += (size_t)sprintf(s + n, "%s%s", i ? " " : "", plural->v[i]);
	return s;
}

static const char *const columns[] = {
    "Name",
    "ResourceGroup",
    "Priority",
    "SourcePortRanges",
    "SourceAddressPrefixes",
    "SourceASG",
    "Access",
    "Protocol",
    "Direction",
    "DestinationPortRanges",
    "DestinationAddressPrefixes",
    "DestinationASG",
};
#define NCOLS (sizeof(columns) / sizeof(columns[0]))

struct out_table *nsg_rule_table(void)
{
	return out_table_new(NCOLS, columns);
}

int nsg_rule_table_row(struct out_table *t, const struct vl_rule *r, const char *rg)
{
	char prio[16];
	char *cell[NCOLS] = {0};
	int rc = -ENOMEM;

	snprintf(prio, sizeof(prio), "%d", r->priority);
	cell[3] = join(r->src_port, &r->src_ports);
	cell[4] = join(r->src_prefix, &r->src_prefixes);
	cell[5] = r->src_asgs.n ? join(NULL, &r->src_asgs) : strdup("None");
	cell[9] = join(r->dst_port, &r->dst_ports);
	cell[10] = join(r->dst_prefix, &r->dst_prefixes);
	cell[11] = r->dst_asgs.n ? join(NULL, &r->dst_asgs) : strdup("None");
	if (cell[3] && cell[4] && cell[5] && cell[9] && cell[10] && cell[11]) {
		const char *row[NCOLS] = {r->name,
					  rg ? rg : "",
					  prio,
					  cell[3],
					  cell[4],
					  cell[5],
					  vl_access_name(r->access),
					  vl_proto_name(r->proto),
					  vl_dir_name(r->dir),
					  cell[9],
					  cell[10],
					  cell[11]};

		rc = out_table_row(t, row);
	}
	for (size_t i = 0; i < NCOLS; i++)
		free(cell[i]);
	return rc;
}
