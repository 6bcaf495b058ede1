// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: topology YAML → vl_load_buffer, the same with every error collected
 * (vl_load_buffer_all: the items after a bad one are read too, and must agree on success), and the
 * same bytes as a checks file over a fixed lab (vl_load_checks_buffer). Every failure must say
 * where and why.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_lab *lab = NULL;
	struct vl_error err = {0};
	/* a directory that does not exist: relative `import:` paths cannot reach real files */
	int r = vl_load_buffer("/nonexistent-vnetlab-fuzz/fuzz.yaml", (const char *)data, size, &lab, &err);

	if (r && (lab || !err.msg[0]))
		abort();
	if (!r && !lab)
		abort();
	vl_lab_free(lab);

	static struct vl_errors errs;
	int all = vl_load_buffer_all("/nonexistent-vnetlab-fuzz/fuzz.yaml", (const char *)data, size, &lab, &errs);

	if (!all != !r || (all && (lab || !errs.n || !errs.v[0].msg[0])) || (!all && (!lab || errs.n)))
		abort();
	/* the error the first-error loader stops at is among those collected (in file order) */
	bool found = errs.more;

	for (size_t i = 0; all && i < errs.n; i++)
		found |= errs.v[i].line == err.line && errs.v[i].col == err.col && !strcmp(errs.v[i].msg, err.msg);
	if (all && !found)
		abort();
	vl_lab_free(lab);

	static const char base_text[] = "name: base\n"
					"vnets:\n  - {name: v, addressSpace: [10.1.0.0/16],\n"
					"     subnets: [{name: s, addressPrefix: 10.1.1.0/24, networkSecurityGroup: n}]}\n"
					"networkSecurityGroups:\n  - {name: n, securityRules: []}\n"
					"vms:\n  - {name: a, subnet: s}\n  - {name: b, subnet: s}\n";
	static struct vl_lab *base;

	if (!base && vl_load_buffer("base.yaml", base_text, sizeof(base_text) - 1, &base, &err))
		abort();
	memset(&err, 0, sizeof(err));
	r = vl_load_checks_buffer("/nonexistent-vnetlab-fuzz/checks.yaml", (const char *)data, size, base, &err);
	if (r && (base->n_checks || base->n_steps || !err.msg[0]))
		abort();
	return 0;
}
