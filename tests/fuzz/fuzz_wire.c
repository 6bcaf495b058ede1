// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the agent's wire formats: a drop line on agent.sock (vl_drop_parse,
 * which formats back and parses to the same drop), a watch message of such lines (vl_drop_each), an NFLOG message (vl_nflog_parse), a
 * packet NFLOG copied (vl_drop_from_packet), an app's reply (vl_app_parse_seen) and a flow
 * record line (vl_flow_parse, which formats back and parses to the same flow).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lab/agent/nflog.h"
#include "vnetlab/agent.h"
#include "vnetlab/flowlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_drop(const struct vl_drop *d, void *arg)
{
	char line[512];

	(void)arg;
	if (vl_drop_format(line, sizeof(line), d) < 0)
		abort();
}

/* Every record vl_drop_each hands out formats back (it parsed); it counts them. */
static bool each_drop(const struct vl_drop *d, void *arg)
{
	char line[512];

	if (vl_drop_format(line, sizeof(line), d) < 0)
		abort();
	++*(size_t *)arg;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_drop d, back;
	struct vl_flow f, fb;
	char *text, line[512], ip[64];

	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if (!vl_drop_parse(text, &d)) {
		if (vl_drop_format(line, sizeof(line), &d) < 0 || vl_drop_parse(line, &back))
			abort();
		if (back.proto != d.proto || back.src != d.src || back.sport != d.sport || back.dst != d.dst ||
		    back.dport != d.dport || strcmp(back.nsg, d.nsg) || strcmp(back.rule, d.rule))
			abort();
	}
	if (!vl_flow_parse(text, &f)) {
		if (vl_flow_format(line, sizeof(line), &f) < 0 || vl_flow_parse(line, &fb))
			abort();
		if (fb.ms != f.ms || fb.allowed != f.allowed || fb.src != f.src || fb.dport != f.dport ||
		    fb.dir != f.dir || fb.id != f.id || strcmp(fb.nsg, f.nsg) || strcmp(fb.rule, f.rule))
			abort();
	}
	if (!vl_app_parse_seen(text, ip, sizeof(ip)) && !memchr(ip, '\0', sizeof(ip)))
		abort();
	memcpy(text, data, size); /* vl_drop_each writes its NULs into the message */
	{
		size_t records = 0, lines = 1;

		vl_drop_each(text, size, each_drop, &records);
		for (size_t i = 0; i < size; i++)
			lines += data[i] == '\n';
		if (records > lines)
			abort();
	}
	free(text);
	memset(&d, 0, sizeof(d));
	vl_drop_from_packet(data, size, &d);
	vl_nflog_parse(data, size, on_drop, NULL);
	return 0;
}
