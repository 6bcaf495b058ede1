// SPDX-License-Identifier: MIT
/* libFuzzer target: `netpol apply` documents → vl_netpol_load_buffer over a small lab, then the
 * policy semantics of every pod (vl_eff_netpol_build). A failed apply leaves the policies as
 * they were. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/effective.h"
#include "vnetlab/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base[] = "name: fz\n"
			   "vnets: [{name: v, addressSpace: [10.20.0.0/16], subnets: [{name: aks, addressPrefix: "
			   "10.20.0.0/24}]}]\n"
			   "aksClusters:\n"
			   "  - {name: c, subnet: aks, networkPlugin: azure, networkPolicy: azure, serviceCidr: "
			   "10.96.0.0/16, nodeCount: 2,\n"
			   "     pods: [{name: a, labels: {role: db}, ports: [80]}, {name: b, namespace: x}],\n"
			   "     networkPolicies: [{kind: NetworkPolicy, metadata: {name: p}, spec: {podSelector: {}}}]}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_error err = {0};
	struct vl_lab *lab = NULL;
	char *text;
	size_t before;

	if (vl_load_buffer("base.yaml", base, strlen(base), &lab, &err))
		abort();
	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	before = lab->aks[0].n_policies;
	if (vl_netpol_load_buffer("fuzz.yaml", text, strlen(text), lab, 0, &err)) {
		if (!err.msg[0] || lab->aks[0].n_policies != before)
			abort();
	} else if (vl_eff_netpol_build(lab)) {
		abort();
	}
	free(text);
	vl_lab_free(lab);
	return 0;
}
