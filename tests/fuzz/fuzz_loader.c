// SPDX-License-Identifier: MIT
/* libFuzzer target: topology YAML → vl_load_buffer. Every failure must say where and why. */
#include <stdint.h>
#include <stdlib.h>

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
	return 0;
}
