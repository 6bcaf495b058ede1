// SPDX-License-Identifier: MIT
/* `vnetlab netpol list|apply|delete`: a cluster's network policies, changed live. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vnetlab/effective.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"
#include "vnetlab/state.h"

static void list_json(const struct vl_lab *lab)
{
	bool first = true;

	printf("[");
	for (size_t c = 0; c < lab->n_aks; c++)
		for (size_t i = 0; i < lab->aks[c].n_policies; i++) {
			const struct vl_netpol *p = &lab->aks[c].policies[i];
			bool f2 = true;

			printf("%s{\"cluster\":", first ? "" : ",");
			first = false;
			json_str(stdout, lab->aks[c].name);
			printf(",\"engine\":\"%s\",\"namespace\":",
			       vl_netpol_engine_name(lab->aks[c].netpol));
			json_str(stdout, p->ns);
			printf(",\"name\":");
			json_str(stdout, p->name);
			printf(
			    ",\"policyTypes\":[%s%s%s],\"ingressRules\":%zu,\"egressRules\":%zu,\"pods\":[",
			    p->ingress ? "\"Ingress\"" : "", p->ingress && p->egress ? "," : "",
			    p->egress ? "\"Egress\"" : "", p->n_in, p->n_out);
			for (size_t e = 0; e < lab->n_eps; e++) {
				const struct vl_np_pod *np =
				    lab->eff && e < lab->eff->n_np ? &lab->eff->np[e] : NULL;

				for (size_t k = 0; np && k < np->n_policies; k++)
					if (np->policies[k] == (int)i && lab->eps[e].owner == (int)c) {
						printf("%s", f2 ? "" : ",");
						f2 = false;
						json_str(stdout, lab->eps[e].name);
					}
			}
			printf("]}");
		}
	printf("]\n");
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
	bool json = false, running;
	struct vl_lab *lab;

	if (argc < 2)
		return usage("netpol");
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			if (parse_output(argv[++i], &json))
				return usage("netpol");
		} else {
			return usage("netpol");
		}
	}
	lab = load_lab_or_file(argv[1], &running);
	if (!lab)
		return 1;
	if (json)
		list_json(lab);
	else
		list_table(lab);
	vl_lab_free(lab);
	return 0;
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
