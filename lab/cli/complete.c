// SPDX-License-Identifier: MIT
/*
 * complete: the words bash completion offers (docs/vnetlab.bash), one per line:
 * labs that are up, and a lab's (or a file's) endpoints, NSGs and an NSG's rules.
 * Quiet on every error: a completion that fails offers nothing.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vnetlab/loader.h"
#include "vnetlab/state.h"

static struct vl_lab *quiet_load(const char *arg)
{
	struct vl_error err = {0};
	struct vl_lab *lab = NULL;

	if (is_file(arg))
		vl_load_file(arg, &lab, &err);
	else if (vl_lab_name_ok(arg) && vl_state_exists(arg))
		vl_state_load_lab(arg, &lab, &err);
	return lab;
}

int cmd_complete(int argc, char **argv)
{
	struct vl_lab *lab;
	int nsg;

	if (argc == 2 && !strcmp(argv[1], "labs")) {
		struct vl_strv labs = {0};

		vl_state_list_labs(&labs);
		for (size_t i = 0; i < labs.n; i++)
			printf("%s\n", labs.v[i]);
		vl_strv_free(&labs);
		return 0;
	}
	if (argc < 3 || argc > 4)
		return usage("complete");
	lab = quiet_load(argv[2]);
	if (!lab)
		return 0;
	if (!strcmp(argv[1], "endpoints") && argc == 3) {
		for (size_t i = 0; i < lab->n_eps; i++)
			printf("%s\n", lab->eps[i].name);
	} else if (!strcmp(argv[1], "nsgs") && argc == 3) {
		for (size_t i = 0; i < lab->n_nsgs; i++)
			printf("%s\n", lab->nsgs[i].name);
	} else if (!strcmp(argv[1], "rules") && argc == 4 &&
		   (nsg = vl_lab_find_nsg(lab, argv[3])) != VL_NONE) {
		for (size_t i = 0; i < lab->nsgs[nsg].n_rules; i++)
			printf("%s\n", lab->nsgs[nsg].rules[i].name);
	} else if (!strcmp(argv[1], "checks") && argc == 3) {
		for (size_t i = 0; i < lab->n_checks; i++)
			if (lab->checks[i].name)
				printf("%s\n", lab->checks[i].name);
	}
	vl_lab_free(lab);
	return 0;
}
