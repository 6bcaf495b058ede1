// SPDX-License-Identifier: MIT
/* `vnetlab netpol list|apply|delete`: a cluster's network policies, changed live. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "out.h"
#include "vnetlab/effective.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"
#include "vnetlab/state.h"

/* Each policy of every cluster, with the pods it selects (the effective model's, computed once). */
static json_t *list_doc(const struct vl_lab *lab)
{
	json_t *doc = json_array();

	for (size_t c = 0; c < lab->n_aks; c++)
		for (size_t i = 0; i < lab->aks[c].n_policies; i++) {
			const struct vl_netpol *p = &lab->aks[c].policies[i];
			json_t *o = json_object(), *types = json_array(), *pods = json_array();

			out_set(o, "cluster", out_str(lab->aks[c].name));
			out_set(o, "engine", out_str(vl_netpol_engine_name(lab->aks[c].netpol)));
			out_set(o, "namespace", out_str(p->ns));
			out_set(o, "name", out_str(p->name));
			if (p->ingress)
				out_add(types, out_str("Ingress"));
			if (p->egress)
				out_add(types, out_str("Egress"));
			out_set(o, "policyTypes", types);
			out_set(o, "ingressRules", out_int((long long)p->n_in));
			out_set(o, "egressRules", out_int((long long)p->n_out));
			for (size_t e = 0; e < lab->n_eps; e++) {
				const struct vl_np_pod *np =
				    lab->eff && e < lab->eff->n_np ? &lab->eff->np[e] : NULL;

				for (size_t k = 0; np && k < np->n_policies; k++)
					if (np->policies[k] == (int)i && lab->eps[e].owner == (int)c)
						out_add(pods, out_str(lab->eps[e].name));
			}
			out_set(o, "pods", pods);
			out_add(doc, o);
		}
	return doc;
}

static void list_table(const struct vl_lab *lab)
{
	printf("%-12s %-8s %-16s %-28s %-16s %s\n", "Cluster", "Engine", "Namespace", "Name", "PolicyTypes",
	       "Pods");
	for (size_t c = 0; c < lab->n_aks; c++)
		for (size_t i = 0; i < lab->aks[c].n_policies; i++) {
			const struct vl_netpol *p = &lab->aks[c].policies[i];
			size_t n = 0;

			for (size_t e = 0; lab->eff && e < lab->n_eps && e < lab->eff->n_np; e++)
				for (size_t k = 0; k < lab->eff->np[e].n_policies; k++)
					n += lab->eff->np[e].policies[k] == (int)i &&
					     lab->eps[e].owner == (int)c;
			printf("%-12s %-8s %-16s %-28s %-16s %zu\n", lab->aks[c].name,
			       vl_netpol_engine_name(lab->aks[c].netpol), p->ns, p->name,
			       p->ingress && p->egress ? "Ingress,Egress"
			       : p->egress	       ? "Egress"
						       : "Ingress",
			       n);
		}
}

static int np_list(int argc, char **argv)
{
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'}, {0}};
	enum out_fmt fmt = OUT_TABLE;
	struct vl_lab *lab;
	bool running;
	int c, rc = 0;

	/* argv: list LAB|FILE, options anywhere after list */
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1)
		if (c != 'o' || out_parse(optarg, &fmt))
			return usage("netpol");
	if (argc - optind != 1)
		return usage("netpol");
	lab = load_lab_or_file(argv[optind], &running);
	if (!lab)
		return 1;
	if (fmt != OUT_TABLE) {
		json_t *doc = list_doc(lab);

		rc = out_emit(doc, fmt, NULL) ? 1 : 0;
		json_decref(doc);
	} else {
		list_table(lab);
	}
	vl_lab_free(lab);
	return rc;
}

static int np_edit(int argc, char **argv, bool del)
{
	struct vl_error err = {0};
	struct vl_lab *lab = NULL;
	const char *cluster = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc;

	/* argv: apply|delete LAB FILE|NS/NAME [--cluster NAME] */
	if (argc != 3 && !(argc == 5 && !strcmp(argv[3], "--cluster")))
		return usage("netpol");
	if (argc == 5)
		cluster = argv[4];
	if (need_root("netpol"))
		return EXIT_USAGE;
	if (!lab_arg_ok(argv[1]))
		return EXIT_USAGE;
	if (!del) {
		FILE *f = fopen(argv[2], "r");

		if (!f) {
			fprintf(stderr, "vnetlab: cannot read %s\n", argv[2]);
			return 1;
		}
		text = calloc(1, 16u << 20);
		len = text ? fread(text, 1, (16u << 20) - 1, f) : 0;
		fclose(f);
		if (!text)
			return 1;
		text[len] = '\0';
		if (strlen(text) != len) {
			fprintf(stderr, "vnetlab: %s is not a text file\n", argv[2]);
			free(text);
			return 1;
		}
	}
	if (enter_lab(argv[1])) { /* a rootless lab: its namespaces (the file is read already) */
		free(text);
		return 1;
	}
	rc = vl_ops_netpol(argv[1], cluster, del ? NULL : argv[2], text, del ? argv[2] : NULL, &lab, &err);
	free(text);
	if (rc) {
		print_error(&err);
		return 1;
	}
	if (del)
		printf("deleted network policy %s (live: every node of the cluster, one transaction each)\n",
		       argv[2]);
	else
		printf(
		    "applied %s (live: every node of the cluster, one transaction each); the policies now:\n",
		    argv[2]);
	if (!del)
		list_table(lab);
	vl_lab_free(lab);
	return 0;
}

int cmd_netpol(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return np_list(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "apply"))
		return np_edit(argc - 1, argv + 1, false);
	if (argc >= 2 && !strcmp(argv[1], "delete"))
		return np_edit(argc - 1, argv + 1, true);
	return usage("netpol");
}
