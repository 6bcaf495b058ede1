// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the lab's state files as vnetlab reads them back: the imports store
 * (vl_imports_parse, which must format back to the same bytes), agent.pid, and namespace
 * names (only vl-<lab>-* names of safe characters are ever deleted).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/agent.h"
#include "vnetlab/loader.h"
#include "vnetlab/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_imports imp;
	unsigned long long start;
	char *text, *out;
	size_t len;
	pid_t pid;

	if (!vl_imports_parse((const char *)data, size, &imp)) {
		if (vl_imports_format(&imp, &out, &len) || len != size || memcmp(out, data, size))
			abort();
		free(out);
		vl_imports_free(&imp);
	} else if (imp.n || imp.v) {
		abort();
	}
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if (!vl_agent_parse_pidfile(text, &pid, &start) && pid <= 1)
		abort();
	if (vl_state_ns_ours("lab", text) &&
	    (strncmp(text, "vl-lab-", 7) || strchr(text, '/') || strlen(text) <= 7 || !isalnum((unsigned char)text[7])))
		abort();
	free(text);
	return 0;
}
