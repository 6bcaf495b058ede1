// SPDX-License-Identifier: MIT
/* nsg show, nsg rule set|add|delete. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vnetlab/ops.h"
#include "vnetlab/state.h"

/* az flag → ARM field. Plural flags take several values, like az. */
static const struct {
	const char *flag;
	const char *key;
} flags[] = {
    {"--priority", "priority"},
    {"--access", "access"},
    {"--direction", "direction"},
    {"--protocol", "protocol"},
    {"--description", "description"},
    {"--source-address-prefixes", "sourceAddressPrefixes"},
    {"--source", "sourceAddressPrefixes"},
    {"--source-port-ranges", "sourcePortRanges"},
    {"--destination-address-prefixes", "destinationAddressPrefixes"},
    {"--destination", "destinationAddressPrefixes"},
    {"--destination-port-ranges", "destinationPortRanges"},
    {"--port", "destinationPortRanges"},
};

int edit_from_flags(struct vl_rule_edit *e, int argc, char **argv)
{
	for (int i = 0; i < argc;) {
		const char *key = NULL;
		size_t cap = 1, n = 0;
		char *val;
		int j;

		for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++)
			if (!strcmp(argv[i], flags[f].flag))
				key = flags[f].key;
		if (!key) {
			fprintf(stderr, "vnetlab: unknown option '%s'\n", argv[i]);
			return -EINVAL;
		}
		for (j = i + 1; j < argc && strncmp(argv[j], "--", 2); j++)
			cap += strlen(argv[j]) + 1;
		if (j == i + 1) {
			fprintf(stderr, "vnetlab: %s needs a value\n", argv[i]);
			return -EINVAL;
		}
		val = malloc(cap);
		if (!val)
			return -ENOMEM;
		for (int k = i + 1; k < j; k++)
			n += (size_t)sprintf(val + n, "%s%s", n ? " " : "", argv[k]);
		if (vl_strv_push(&e->keys, key) || vl_strv_push(&e->values, val)) {
			free(val);
			return -ENOMEM;
		}
		free(val);
		i = j;
	}
	return 0;
}

static void strv_join(const struct vl_strv *sv, const char *single, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (single && *single) {
		snprintf(buf, len, "%s", single);
		return;
	}
	for (size_t i = 0; i < sv->n && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "", sv->v[i]);
}

/* An ARM field pair: the singular value and the plural list, as `az` prints both. */
static void json_field(FILE *f, const char *key, const char *single, const char *plural_key,
		       const struct vl_strv *plural)
{
	fprintf(f, "\"%s\":", key);
	json_str(f, single);
	fprintf(f, ",\"%s\":[", plural_key);
	for (size_t i = 0; i < plural->n; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_str(f, plural->v[i]);
	}
	fprintf(f, "]");
}

static void rule_json(FILE *f, const struct vl_rule *r)
{
	fprintf(f, "{\"name\":");
	json_str(f, r->name);
	fprintf(f, ",\"priority\":%d,\"direction\":\"%s\",\"access\":\"%s\",\"protocol\":\"%s\",",
		r->priority, vl_dir_name(r->dir), vl_access_name(r->access), vl_proto_name(r->proto));
	json_field(f, "sourceAddressPrefix", r->src_prefix, "sourceAddressPrefixes", &r->src_prefixes);
	fprintf(f, ",");
	json_field(f, "sourcePortRange", r->src_port, "sourcePortRanges", &r->src_ports);
	fprintf(f, ",");
	json_field(f, "destinationAddressPrefix", r->dst_prefix, "destinationAddressPrefixes",
		   &r->dst_prefixes);
	fprintf(f, ",");
	json_field(f, "destinationPortRange", r->dst_port, "destinationPortRanges", &r->dst_ports);
	fprintf(f, ",\"description\":");
	json_str(f, r->description);
	fprintf(
	    f,
	    ",\"provisioningState\":\"Succeeded\",\"type\":\"Microsoft.Network/networkSecurityGroups/%s\"}",
	    r->is_default ? "defaultSecurityRules" : "securityRules");
}

static void rule_row(const struct vl_rule *r)
{
	char sp[256], sa[256], dp[256], da[256];

	strv_join(&r->src_ports, r->src_port, sp, sizeof(sp));
	strv_join(&r->src_prefixes, r->src_prefix, sa, sizeof(sa));
	strv_join(&r->dst_ports, r->dst_port, dp, sizeof(dp));
	strv_join(&r->dst_prefixes, r->dst_prefix, da, sizeof(da));
	printf("%-30s %-10d %-18s %-24s %-8s %-10s %-11s %-23s %s\n", r->name, r->priority, sp, sa,
	       vl_access_name(r->access), vl_proto_name(r->proto), vl_dir_name(r->dir), dp, da);
}

static int cmp_rule(const void *a, const void *b)
{
	const struct vl_rule *x = *(const struct vl_rule *const *)a, *y = *(const struct vl_rule *const *)b;

	if (x->dir != y->dir)
		return x->dir == VL_DIR_IN ? -1 : 1;
	return x->priority - y->priority;
}

static int nsg_show(int argc, char **argv)
{
	const struct vl_rule **rules;
	const struct vl_rule *defs;
	struct vl_lab *lab;
	bool json = false, defaults = false;
	const char *pos[2];
	size_t n_def, n = 0, np = 0;
	int nsg;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--include-default"))
			defaults = true;
		else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			if (parse_output(argv[++i], &json))
				return usage("nsg");
		} else if (argv[i][0] == '-' || np == 2)
			return usage("nsg");
		else
			pos[np++] = argv[i];
	}
	if (np != 2)
		return usage("nsg");
	lab = load_lab_or_file(pos[0], NULL);
	if (!lab)
		return 1;
	nsg = vl_lab_find_nsg(lab, pos[1]);
	if (nsg == VL_NONE) {
		fprintf(stderr, "vnetlab: lab '%s' has no NSG '%s'\n", lab->name, pos[1]);
		vl_lab_free(lab);
		return 1;
	}
	defs = vl_default_rules(&n_def);
	rules = calloc(lab->nsgs[nsg].n_rules + n_def, sizeof(*rules));
	if (!rules) {
		vl_lab_free(lab);
		return 1;
	}
	for (size_t i = 0; i < lab->nsgs[nsg].n_rules; i++)
		rules[n++] = &lab->nsgs[nsg].rules[i];
	qsort(rules, n, sizeof(*rules), cmp_rule);
	if (defaults)
		for (size_t i = 0; i < n_def; i++)
			rules[n++] = &defs[i];
	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++) {
			printf("%s", i ? "," : "");
			rule_json(stdout, rules[i]);
		}
		printf("]\n");
	} else {
		printf("%-30s %-10s %-18s %-24s %-8s %-10s %-11s %-23s %s\n", "Name", "Priority",
		       "SourcePortRanges", "SourceAddressPrefixes", "Access", "Protocol", "Direction",
		       "DestinationPortRanges", "DestinationAddressPrefixes");
		printf("%-30s %-10s %-18s %-24s %-8s %-10s %-11s %-23s %s\n", "-----", "--------",
		       "---------", "---------", "------", "--------", "---------", "---------", "---------");
		for (size_t i = 0; i < n; i++)
			rule_row(rules[i]);
	}
	free(rules);
	vl_lab_free(lab);
	return 0;
}

static int nsg_rule(int argc, char **argv)
{
	struct vl_rule_edit e = {0};
	struct vl_error err = {0};
	struct vl_lab *lab = NULL;
	int rc;

	/* argv: rule VERB LAB NSG RULE [flags] */
	if (argc < 5)
		return usage("nsg");
	if (!strcmp(argv[1], "set"))
		e.kind = VL_EDIT_SET;
	else if (!strcmp(argv[1], "add") || !strcmp(argv[1], "create"))
		e.kind = VL_EDIT_ADD;
	else if (!strcmp(argv[1], "delete"))
		e.kind = VL_EDIT_DELETE;
	else
		return usage("nsg");
	if (edit_from_flags(&e, argc - 5, argv + 5) || (e.kind == VL_EDIT_DELETE && e.keys.n)) {
		vl_rule_edit_clear(&e);
		return usage("nsg");
	}
	if (need_root("nsg rule")) {
		vl_rule_edit_clear(&e);
		return EXIT_USAGE;
	}
	if (!lab_arg_ok(argv[2])) {
		vl_rule_edit_clear(&e);
		return EXIT_USAGE;
	}
	if (enter_lab(argv[2])) {
		vl_rule_edit_clear(&e);
		return 1;
	}
	e.nsg = strdup(argv[3]);
	e.rule = strdup(argv[4]);
	rc = vl_ops_edit_live(argv[2], &e, &lab, &err);
	if (rc) {
		print_error(&err);
		goto out;
	}
	if (e.kind == VL_EDIT_DELETE) {
		printf("deleted rule %s from NSG %s\n", e.rule, e.nsg);
	} else {
		const struct vl_nsg *g = &lab->nsgs[vl_lab_find_nsg(lab, e.nsg)];

		printf("%s rule %s of NSG %s (live, one transaction):\n",
		       e.kind == VL_EDIT_ADD ? "added" : "set", e.rule, e.nsg);
		rule_row(&g->rules[vl_nsg_find_rule(g, e.rule)]);
	}
out:
	vl_lab_free(lab);
	vl_rule_edit_clear(&e);
	return rc ? 1 : 0;
}

int cmd_nsg(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return nsg_show(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "rule"))
		return nsg_rule(argc - 1, argv + 1);
	return usage("nsg");
}
