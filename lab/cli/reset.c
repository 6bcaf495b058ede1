// SPDX-License-Identifier: MIT
/* reset: a running lab back to its file (its live edits undone), without rebuilding it. */
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "vnetlab/ops.h"
#include "vnetlab/state.h"

int cmd_reset(int argc, char **argv)
{
	struct vl_error err = {0};
	struct timespec t0, t1;
	size_t undone = 0;
	int lock, rc;

	if (argc != 2 || argv[1][0] == '-')
		return usage("reset");
	if (need_root("reset"))
		return EXIT_USAGE;
	if (!lab_arg_ok(argv[1]))
		return EXIT_USAGE;
	if (enter_lab(argv[1]))
		return 1;
	rc = vl_state_lock(argv[1], &lock, &err);
	if (rc) {
		print_error(&err);
		return 1;
	}
	if (!vl_state_exists(argv[1])) {
		fprintf(stderr, "vnetlab: lab '%s' is not up\n", argv[1]);
		vl_state_unlock(argv[1], lock);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = vl_ops_reset(argv[1], &undone, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vl_state_unlock(argv[1], lock);
	if (rc) {
		print_error(&err);
		return 1;
	}
	printf("lab %s is back to its file: %zu live edit%s undone in %.1f ms\n", argv[1], undone,
	       undone == 1 ? "" : "s",
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	return 0;
}
