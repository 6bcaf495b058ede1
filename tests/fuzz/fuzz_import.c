// SPDX-License-Identifier: MIT
/* libFuzzer target: az / REST NSG JSON → vl_nsg_import_buffer. */
#include <stdint.h>
#include <stdlib.h>

#include "vnetlab/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_nsg nsg;
	struct vl_error err = {0};
	int r = vl_nsg_import_buffer("fuzz.json", (const char *)data, size, "hint", &nsg, &err);

	if (r) {
		if (nsg.rules || nsg.name || nsg.n_rules || !err.msg[0])
			abort();
		return 0;
	}
	for (size_t i = 0; i < nsg.n_rules; i++)
		vl_rule_clear(&nsg.rules[i]);
	free(nsg.rules);
	free(nsg.name);
	return 0;
}
