// SPDX-License-Identifier: MIT
/* libFuzzer target: one DNS message → the agent's UDP and TCP answers and the probe's reply parser. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vl_subnet subnets[] = {{.name = "s0", .vnet = 0}, {.name = "s1", .vnet = 1}};
static struct vl_endpoint eps[] = {
    {.name = "web1", .subnet = 0, .ip = 0x0a010104u},
    {.name = "x", .subnet = 1, .ip = 0x0a020104u},
    {.name = "inet", .subnet = VL_NONE, .ip = 0xc000020au},
};
static struct vl_vnet vnets[] = {{.name = "v0"}, {.name = "v1"}};
static const struct vl_lab lab = {
    .name = "f", .vnets = vnets, .n_vnets = 2, .subnets = subnets, .n_subnets = 2, .eps = eps, .n_eps = 3};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[1024];
	struct vl_dns_query q;
	struct vl_dns_reply r;
	int n;

	n = vl_dns_answer(&lab, 0, data, size, out, sizeof(out));
	if (n >= 0) {
		/* what we answer must parse back, with the query's id */
		if (n < 12 || vl_dns_reply_parse(out, (size_t)n, &r) < 0 || r.id != (data[0] << 8 | data[1]))
			abort();
		if (vl_dns_query_parse(data, size, &q) == 0 && strlen(q.name) >= VL_DNS_NAME_MAX)
			abort();
	} else if (n != -EINVAL) {
		abort();
	}
	n = vl_dns_answer_tcp(&lab, 1, data, size, out, sizeof(out));
	if (n > 0 && (n < 14 || (out[0] << 8 | out[1]) + 2 != n))
		abort();
	if (vl_dns_reply_parse(data, size, &r) == 0 && strlen(r.name) >= VL_DNS_NAME_MAX)
		abort();
	return 0;
}
