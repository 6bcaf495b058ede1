// SPDX-License-Identifier: MIT
/*
 * Evaluator throughput: flows per second through vl_eval_path() when the
 * destination subnet carries a 1,000-rule NSG (the Azure maximum) that
 * almost never matches, so every flow scans the whole NSG, then the defaults.
 *   cc -Iinclude bench/eval_bench.c build/libvnetlab.a $(libs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnetlab/eval.h"
#include "vnetlab/ip.h"
#include "vnetlab/model.h"

#define RULES 1000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define fmt(...)                                                                                             \
	({                                                                                                   \
		char _b[64];                                                                                 \
		snprintf(_b, sizeof(_b), __VA_ARGS__);                                                       \
		strdup(_b);                                                                                  \
	})

static struct vl_lab *build(void)
{
	struct vl_lab *lab = vl_lab_new();
	struct vl_error err;
	struct vl_nsg *g;

	lab->name = strdup("bench");
	lab->file = strdup("bench");
	lab->vnets = calloc(1, sizeof(*lab->vnets));
	lab->n_vnets = 1;
	lab->vnets[0].name = strdup("vnet");
	lab->vnets[0].spaces = malloc(sizeof(struct vl_prefix));
	vl_prefix_parse("10.1.0.0/16", true, &lab->vnets[0].spaces[0]);
	lab->vnets[0].n_spaces = 1;
	lab->subnets = calloc(2, sizeof(*lab->subnets));
	lab->n_subnets = 2;
	for (int i = 0; i < 2; i++) {
		lab->subnets[i].name = fmt("s%d", i);
		lab->subnets[i].prefix = (struct vl_prefix){0x0a010000u | (uint32_t)(i + 1) << 8, 24};
		lab->subnets[i].vnet = 0;
		lab->subnets[i].nsg = i == 1 ? 0 : VL_NONE;
		lab->subnets[i].route_table = VL_NONE;
	}
	lab->nsgs = calloc(1, sizeof(*lab->nsgs));
	lab->n_nsgs = 1;
	g = &lab->nsgs[0];
	g->name = strdup("big-nsg");
	g->rules = calloc(RULES, sizeof(*g->rules));
	g->n_rules = RULES;
	for (int i = 0; i < RULES; i++) {
		struct vl_rule *r = &g->rules[i];

		r->name = fmt("rule-%d", i);
		r->priority = 100 + i;
		r->dir = i % 10 ? VL_DIR_IN : VL_DIR_OUT;
		r->access = i % 2 ? VL_ALLOW : VL_DENY;
		r->proto = i % 3 ? VL_PROTO_TCP : VL_PROTO_ANY;
		r->src_prefix = i % 7 ? fmt("172.%d.%d.0/24", 16 + i / 250, i % 250) : strdup("Internet");
		r->dst_prefix = strdup(i % 5 ? "*" : "VirtualNetwork");
		r->src_port = strdup("*");
		r->dst_port = fmt("%d-%d", 20000 + i * 10, 20000 + i * 10 + 5);
	}
	lab->vms = calloc(2, sizeof(*lab->vms));
	lab->n_vms = 2;
	for (int i = 0; i < 2; i++) {
		lab->vms[i].name = fmt("vm%d", i);
		lab->vms[i].subnet = i;
		lab->vms[i].nsg = VL_NONE;
		lab->vms[i].loc = (struct vl_loc){i + 1, 1};
	}
	if (vl_lab_resolve(lab, &err) || vl_nsg_validate(g, lab->file, &err)) {
		fprintf(stderr, "eval_bench: %s\n", err.msg);
		exit(1);
	}
	return lab;
}

int main(void)
{
	struct vl_lab *lab = build();
	uint32_t dst = lab->eps[1].ip;
	struct vl_verdict v;
	unsigned long flows = 0, allowed = 0;
	double t0 = now(), t;

	do {
		for (int i = 0; i < 1000; i++, flows++) {
			uint16_t port = (uint16_t)(1 + (flows * 7919) % 65535);

			vl_eval_path(lab, 0, dst, VL_PROTO_TCP, 0, port, &v);
			allowed += v.access == VL_ALLOW;
		}
		t = now() - t0;
	} while (t < 1.0);
	printf("eval: %.0f flows/s\n", (double)flows / t);
	fprintf(stderr, "eval_bench: %lu flows, %lu allowed, %d-rule NSG, %.2f s\n", flows, allowed, RULES,
		t);
	vl_lab_free(lab);
	return 0;
}
