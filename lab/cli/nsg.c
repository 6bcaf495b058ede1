// SPDX-License-Identifier: MIT
/* nsg show|list|import, nsg rule list|show|create|update|delete (add and set: the older names). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "nsg_out.h"
#include "vnetlab/loader.h"
#include "vnetlab/ops.h"
#include "vnetlab/state.h"

/* az flag → ARM field. Plural flags take several values, like az. */
static const struct {
	const char *flag;
	const char *key;
} fields[] = {
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

/* What an nsg verb was given, options in any order after the verb. */
struct nsg_args {
	const char *pos[4];
	size_t np;
	const char *lab;  /* -g/--resource-group: the lab is vnetlab's resource group */
	const char *nsg;  /* --nsg-name */
	const char *name; /* -n/--name: the rule (the NSG for nsg show) */
	bool defaults;	  /* --include-default */
	enum out_fmt fmt;
	struct vl_rule_edit e; /* field flags, when the verb edits */
};

/* The value of an option: "-o json", "-ojson", "--output json", "--output=json". */
static int opt_value(int argc, char **argv, int *i, const char *lng, const char *shrt, const char **v)
{
	const char *a = argv[*i];
	size_t n = strlen(lng);

	if ((shrt && !strcmp(a, shrt)) || !strcmp(a, lng)) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "vnetlab: %s needs a value\n", a);
			return -EINVAL;
		}
		*v = argv[++*i];
		return 1;
	}
	if (!strncmp(a, lng, n) && a[n] == '=') {
		*v = a + n + 1;
		return 1;
	}
	if (shrt && !strncmp(a, shrt, 2) && a[2]) {
		*v = a + 2;
		return 1;
	}
	return 0;
}

static bool is_option(const char *s)
{
	return s[0] == '-' && s[1];
}

/* One field flag and its values (every word up to the next option), into a->e. */
static int field_flag(int argc, char **argv, int *i, struct nsg_args *a)
{
	const char *arg = argv[*i], *eq = strchr(arg, '=');
	size_t flen = eq ? (size_t)(eq - arg) : strlen(arg), cap = 1, n = 0;
	const char *key = NULL;
	char *val;
	int j, rc;

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		if (strlen(fields[f].flag) == flen && !strncmp(arg, fields[f].flag, flen))
			key = fields[f].key;
	if (!key)
		return 0;
	if (eq) {
		val = strdup(eq + 1);
		j = *i + 1;
	} else {
		for (j = *i + 1; j < argc && !is_option(argv[j]); j++)
			cap += strlen(argv[j]) + 1;
		if (j == *i + 1) {
			fprintf(stderr, "vnetlab: %s needs a value\n", arg);
			return -EINVAL;
		}
		val = malloc(cap);
		for (int k = *i + 1; val && k < j; k++)
			n += (size_t)sprintf(val + n, "%s%s", n ? " " : "", argv[k]);
	}
	if (!val)
		return -ENOMEM;
	rc = vl_strv_push(&a->e.keys, key) || vl_strv_push(&a->e.values, val) ? -ENOMEM : 1;
	free(val);
	*i = j - 1;
	return rc;
}

static int parse_args(int argc, char **argv, bool edit, struct nsg_args *a)
{
	const char *o = NULL;
	int r;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (!is_option(arg)) {
			if (a->np == sizeof(a->pos) / sizeof(a->pos[0]))
				return -EINVAL;
			a->pos[a->np++] = arg;
			continue;
		}
		if (!strcmp(arg, "--include-default")) {
			a->defaults = true;
			continue;
		}
		if ((r = opt_value(argc, argv, &i, "--output", "-o", &o)) ||
		    (r = opt_value(argc, argv, &i, "--nsg-name", NULL, &a->nsg)) ||
		    (r = opt_value(argc, argv, &i, "--name", "-n", &a->name)) ||
		    (r = opt_value(argc, argv, &i, "--resource-group", "-g", &a->lab)) ||
		    (edit && (r = field_flag(argc, argv, &i, a)))) {
			if (r < 0)
				return r;
			if (o && out_parse(o, &a->fmt)) {
				fprintf(stderr, "vnetlab: unknown output format '%s' (%s)\n", o, OUT_FORMATS);
				return -EINVAL;
			}
			o = NULL;
			continue;
		}
		fprintf(stderr, "vnetlab: unknown option '%s'\n", arg);
		return -EINVAL;
	}
	return 0;
}

/* LAB, NSG and RULE from the positional words and their flags, in that order; false when they do not add up.
 */
static bool names(struct nsg_args *a, const char **lab, const char **nsg, const char **rule)
{
	size_t k = 0;

	*lab = a->lab ? a->lab : k < a->np ? a->pos[k++] : NULL;
	if (nsg)
		*nsg = a->nsg ? a->nsg : k < a->np ? a->pos[k++] : NULL;
	if (rule)
		*rule = a->name ? a->name : k < a->np ? a->pos[k++] : NULL;
	return k == a->np && *lab && (!nsg || *nsg) && (!rule || *rule);
}

static int find_nsg(const struct vl_lab *lab, const char *name)
{
	int nsg = vl_lab_find_nsg(lab, name);

	if (nsg == VL_NONE)
		fprintf(stderr, "vnetlab: lab '%s' has no NSG '%s'\n", lab->name, name);
	return nsg;
}

static int cmp_rule(const void *a, const void *b)
{
	const struct vl_rule *x = *(const struct vl_rule *const *)a, *y = *(const struct vl_rule *const *)b;

	if (x->dir != y->dir)
		return x->dir == VL_DIR_IN ? -1 : 1;
	return x->priority - y->priority;
}

/* The rules of an NSG as az lists them: custom (inbound, then outbound, by priority), then the defaults. */
static int print_rules(const struct vl_lab *lab, int nsg, bool defaults, enum out_fmt fmt)
{
	const struct vl_nsg *g = &lab->nsgs[nsg];
	const struct vl_rule **rules, *defs;
	size_t n_def, n = 0;
	int rc = 0;

	defs = vl_default_rules(&n_def);
	rules = calloc(g->n_rules + n_def, sizeof(*rules));
	if (!rules)
		return -ENOMEM;
	for (size_t i = 0; i < g->n_rules; i++)
		rules[n++] = &g->rules[i];
	qsort(rules, n, sizeof(*rules), cmp_rule);
	if (defaults)
		for (size_t i = 0; i < n_def; i++)
			rules[n++] = &defs[i];
	if (fmt == OUT_TABLE) {
		struct out_table *t = nsg_rule_table();

		for (size_t i = 0; t && !rc && i < n; i++)
			rc = nsg_rule_table_row(t, rules[i], lab->name);
		if (t && !rc)
			out_table_print(t, stdout);
		rc = t ? rc : -ENOMEM;
		out_table_free(t);
	} else {
		json_t *list = json_array();

		for (size_t i = 0; i < n; i++)
			out_add(list, nsg_rule_tree(rules[i], lab->name));
		rc = out_emit(list, fmt, NULL);
		json_decref(list);
	}
	free(rules);
	return rc;
}

/* nsg show LAB NSG, nsg rule list LAB NSG. */
static int nsg_rules(int argc, char **argv, bool rule_list)
{
	struct nsg_args a = {0};
	const char *labn, *nsgn;
	struct vl_lab *lab;
	int nsg, rc;

	if (parse_args(argc, argv, false, &a))
		return usage("nsg");
	if (!rule_list && !a.nsg) { /* az network nsg show -g RG -n NSG */
		a.nsg = a.name;
		a.name = NULL;
	}
	if (!names(&a, &labn, &nsgn, NULL) || a.name)
		return usage("nsg");
	lab = load_lab_or_file(labn, NULL);
	if (!lab)
		return 1;
	nsg = find_nsg(lab, nsgn);
	rc = nsg == VL_NONE ? 1 : print_rules(lab, nsg, a.defaults, a.fmt) ? 1 : 0;
	vl_lab_free(lab);
	return rc;
}

static int nsg_list(int argc, char **argv)
{
	struct nsg_args a = {0};
	const char *labn;
	struct vl_lab *lab;
	int rc = 0;

	if (parse_args(argc, argv, false, &a) || !names(&a, &labn, NULL, NULL) || a.nsg || a.name)
		return usage("nsg");
	lab = load_lab_or_file(labn, NULL);
	if (!lab)
		return 1;
	if (a.fmt == OUT_TABLE) {
		static const char *const cols[] = {"Name", "ResourceGroup", "Rules", "Subnets",
						   "NetworkInterfaces"};
		struct out_table *t = out_table_new(5, cols);

		for (size_t i = 0; t && !rc && i < lab->n_nsgs; i++) {
			char rules[16], subs[16], nics[16];
			size_t ns = 0, nn = 0;

			for (size_t s = 0; s < lab->n_subnets; s++)
				ns += lab->subnets[s].nsg == (int)i;
			for (size_t e = 0; e < lab->n_eps; e++)
				nn += lab->eps[e].nic_nsg == (int)i;
			snprintf(rules, sizeof(rules), "%zu", lab->nsgs[i].n_rules);
			snprintf(subs, sizeof(subs), "%zu", ns);
			snprintf(nics, sizeof(nics), "%zu", nn);
			rc = out_table_row(
			    t, (const char *const[]){lab->nsgs[i].name, lab->name, rules, subs, nics});
		}
		if (t && !rc)
			out_table_print(t, stdout);
		rc = !t || rc;
		out_table_free(t);
	} else {
		json_t *list = json_array();

		for (size_t i = 0; i < lab->n_nsgs; i++)
			out_add(list, nsg_tree(lab, (int)i, a.defaults, lab->name));
		rc = out_emit(list, a.fmt, NULL) ? 1 : 0;
		json_decref(list);
	}
	vl_lab_free(lab);
	return rc;
}

static void print_rule(const struct vl_lab *lab, const struct vl_rule *r, enum out_fmt fmt)
{
	if (fmt == OUT_TABLE) {
		struct out_table *t = nsg_rule_table();

		if (t && !nsg_rule_table_row(t, r, lab->name))
			out_table_print(t, stdout);
		out_table_free(t);
	} else {
		json_t *o = nsg_rule_tree(r, lab->name);

		out_emit(o, fmt, NULL);
		json_decref(o);
	}
}

/* A rule by name: a custom one, else a default one. */
static const struct vl_rule *find_rule(const struct vl_nsg *g, const char *name)
{
	const struct vl_rule *defs;
	size_t n;
	int i = vl_nsg_find_rule(g, name);

	if (i != VL_NONE)
		return &g->rules[i];
	defs = vl_default_rules(&n);
	for (size_t k = 0; k < n; k++)
		if (!strcasecmp(defs[k].name, name))
			return &defs[k];
	return NULL;
}

static int rule_show(int argc, char **argv)
{
	struct nsg_args a = {0};
	const char *labn, *nsgn, *rulen;
	const struct vl_rule *r = NULL;
	struct vl_lab *lab;
	int nsg;

	if (parse_args(argc, argv, false, &a) || !names(&a, &labn, &nsgn, &rulen) || a.defaults)
		return usage("nsg");
	lab = load_lab_or_file(labn, NULL);
	if (!lab)
		return 1;
	nsg = find_nsg(lab, nsgn);
	if (nsg != VL_NONE && !(r = find_rule(&lab->nsgs[nsg], rulen)))
		fprintf(stderr, "vnetlab: NSG %s has no rule '%s'\n", nsgn, rulen);
	if (r)
		print_rule(lab, r, a.fmt);
	vl_lab_free(lab);
	return r ? 0 : 1;
}

static int rule_edit(enum vl_edit_kind kind, int argc, char **argv)
{
	struct nsg_args a = {.e.kind = kind};
	struct vl_error err = {0};
	struct vl_lab *lab = NULL;
	const char *labn, *nsgn, *rulen;
	int rc;

	if (parse_args(argc, argv, true, &a) || !names(&a, &labn, &nsgn, &rulen) || a.defaults ||
	    (kind == VL_EDIT_DELETE && a.e.keys.n)) {
		vl_rule_edit_clear(&a.e);
		return usage("nsg");
	}
	if (need_root("nsg rule") || !lab_arg_ok(labn)) {
		vl_rule_edit_clear(&a.e);
		return EXIT_USAGE;
	}
	if (enter_lab(labn)) {
		vl_rule_edit_clear(&a.e);
		return 1;
	}
	a.e.nsg = strdup(nsgn);
	a.e.rule = strdup(rulen);
	rc = vl_ops_edit_live(labn, &a.e, &lab, &err);
	if (rc) {
		print_error(&err);
		goto out;
	}
	if (kind == VL_EDIT_DELETE) {
		if (a.fmt == OUT_TABLE)
			printf("deleted rule %s from NSG %s\n", a.e.rule, a.e.nsg);
	} else {
		const struct vl_nsg *g = &lab->nsgs[vl_lab_find_nsg(lab, a.e.nsg)];

		if (a.fmt == OUT_TABLE)
			printf("%s rule %s of NSG %s (live, one transaction):\n",
			       kind == VL_EDIT_ADD ? "added" : "set", a.e.rule, a.e.nsg);
		print_rule(lab, &g->rules[vl_nsg_find_rule(g, a.e.rule)], a.fmt);
	}
out:
	vl_lab_free(lab);
	vl_rule_edit_clear(&a.e);
	return rc ? 1 : 0;
}

/* An export as topology YAML (only the fields it sets) or in az's flattened JSON shape. */
static int nsg_import(int argc, char **argv)
{
	struct nsg_args a = {.fmt = OUT_YAML};
	struct vl_error err = {0};
	struct vl_nsg g = {0};
	struct vl_lab *topo = NULL;
	json_t *doc;
	int rc;

	if (parse_args(argc, argv, false, &a) || a.np != 1 || a.nsg)
		return usage("nsg");
	if (a.lab && !(topo = load_lab_or_file(a.lab, NULL))) /* -g: its ASGs and service tags */
		return 1;
	rc = vl_nsg_import_file_in(topo, a.pos[0], a.name, &g, &err);
	if (rc) {
		print_error(&err);
		vl_lab_free(topo);
		return 1;
	}
	if (a.fmt == OUT_YAML || a.fmt == OUT_TABLE) {
		json_t *list = json_array(), *o = json_object(), *rules = json_array();

		out_set(o, "name", out_str(g.name));
		for (size_t i = 0; i < g.n_rules; i++)
			out_add(rules, nsg_rule_topology(&g.rules[i]));
		out_set(o, "securityRules", rules);
		out_add(list, o);
		doc = json_object();
		out_set(doc, "networkSecurityGroups", list);
	} else {
		json_t *rules = json_array();

		doc = json_object();
		out_set(doc, "name", out_str(g.name));
		for (size_t i = 0; i < g.n_rules; i++)
			out_add(rules, nsg_rule_tree(&g.rules[i], NULL));
		out_set(doc, "securityRules", rules);
		if (a.defaults) { /* the built-in ones: an export's were checked against them */
			const struct vl_rule *defs;
			size_t n_def;
			json_t *d = json_array();

			defs = vl_default_rules(&n_def);
			for (size_t i = 0; i < n_def; i++)
				out_add(d, nsg_rule_tree(&defs[i], NULL));
			out_set(doc, "defaultSecurityRules", d);
		}
		out_set(doc, "type", out_str("Microsoft.Network/networkSecurityGroups"));
	}
	rc = out_emit(doc, a.fmt == OUT_TABLE ? OUT_YAML : a.fmt, "securityRules") ? 1 : 0;
	json_decref(doc);
	vl_nsg_clear(&g);
	vl_lab_free(topo);
	return rc;
}

int cmd_nsg(int argc, char **argv)
{
	static const struct {
		const char *verb;
		enum vl_edit_kind kind;
	} edits[] = {
	    {"create", VL_EDIT_ADD}, {"add", VL_EDIT_ADD},	 {"update", VL_EDIT_SET},
	    {"set", VL_EDIT_SET},    {"delete", VL_EDIT_DELETE},
	};

	if (argc >= 2 && !strcmp(argv[1], "show"))
		return nsg_rules(argc - 2, argv + 2, false);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return nsg_list(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "import"))
		return nsg_import(argc - 2, argv + 2);
	if (argc < 3 || strcmp(argv[1], "rule"))
		return usage("nsg");
	if (!strcmp(argv[2], "list"))
		return nsg_rules(argc - 3, argv + 3, true);
	if (!strcmp(argv[2], "show"))
		return rule_show(argc - 3, argv + 3);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++)
		if (!strcmp(argv[2], edits[i].verb))
			return rule_edit(edits[i].kind, argc - 3, argv + 3);
	return usage("nsg");
}
