// SPDX-License-Identifier: MIT
/* The plan of `verify`: which flows a lab has, their source ports, verdicts, and the comparison; pure. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/helpers.h"
#include "common/verify_lab.h"
#include "vnetlab/verify.h"

static const char lab_yaml[] = "name: vt\n" VERIFY_LAB;

TestSuite(verify);

static int ep(const struct vl_lab *lab, const char *name)
{
	int i = vl_lab_find_endpoint(lab, name);

	cr_assert_neq(i, VL_NONE, "%s", name);
	return i;
}

static const struct vl_verify_flow *find(const struct vl_verify *v, const struct vl_lab *lab, const char *from,
					 const char *to, enum vl_proto proto, uint16_t port)
{
	int f = ep(lab, from), t = ep(lab, to);

	for (size_t i = 0; i < v->n_flows; i++)
		if (v->flows[i].from == f && v->flows[i].to == t && v->flows[i].proto == proto &&
		    v->flows[i].dport == port)
			return &v->flows[i];
	cr_assert_fail("no flow %s -> %s:%u", from, to, port);
	return NULL;
}

Test(verify, every_pair_and_app_port)
{
	struct vl_lab *lab = th_load(lab_yaml);
	struct vl_verify v;
	size_t tcp = 0, udp = 0;

	cr_assert_eq(vl_verify_plan(lab, NULL, NULL, 20000, &v), 0);
	/* 12 endpoints; per target: hello 1 flow a port, echo 2 (tcp, udp): 19 target flows, 11 sources each */
	cr_assert_eq(lab->n_eps, 12);
	cr_assert_eq(v.n_flows, 209);
	for (size_t i = 0; i < v.n_flows; i++) {
		cr_assert_neq(v.flows[i].from, v.flows[i].to);
		v.flows[i].proto == VL_PROTO_TCP ? tcp++ : udp++;
	}
	cr_assert_eq(tcp, 121);
	cr_assert_eq(udp, 88);
	vl_verify_free(&v);
	vl_lab_free(lab);
}

Test(verify, from_and_to_restrict)
{
	struct vl_lab *lab = th_load(lab_yaml);
	struct vl_verify v;

	cr_assert_eq(vl_verify_plan(lab, "web1", NULL, 20000, &v), 0);
	cr_assert_eq(v.n_flows, 18); /* 19 target flows but its own */
	vl_verify_free(&v);
	cr_assert_eq(vl_verify_plan(lab, NULL, "app1", 20000, &v), 0);
	cr_assert_eq(v.n_flows, 44); /* 2 ports x tcp, udp x 11 sources */
	vl_verify_free(&v);
	cr_assert_eq(vl_verify_plan(lab, "web1", "app1", 20000, &v), 0);
	cr_assert_eq(v.n_flows, 4);
	vl_verify_free(&v);
	cr_assert_eq(vl_verify_plan(lab, "10.30.1.4", "site", 20000, &v), 0); /* web1 by address */
	cr_assert_eq(v.n_flows, 1);
	cr_assert_eq(v.flows[0].from, ep(lab, "web1"));
	vl_verify_free(&v);
	cr_assert_eq(vl_verify_plan(lab, "nobody", NULL, 20000, &v), -ENOENT);
	cr_assert_eq(vl_verify_plan(lab, NULL, "nobody", 20000, &v), -ENOENT);
	vl_lab_free(lab);
}

Test(verify, verdicts)
{
	struct vl_lab *lab = th_load(lab_yaml);
	struct vl_verify v;
	const struct vl_verify_flow *f;

	cr_assert_eq(vl_verify_plan(lab, NULL, NULL, 20000, &v), 0);
	f = find(&v, lab, "web1", "app1", VL_PROTO_TCP, 7);
	cr_assert_eq(f->outcome, VL_OUT_DENIED);
	cr_assert_str_eq(lab->nsgs[f->nsg].name, "app-nsg");
	cr_assert_str_eq(f->rule->name, "deny-web");
	f = find(&v, lab, "app1", "web2", VL_PROTO_UDP, 7);
	cr_assert_eq(f->outcome, VL_OUT_DENIED);
	cr_assert_str_eq(f->rule->name, "deny-echo-udp");
	cr_assert_eq(find(&v, lab, "app1", "web2", VL_PROTO_TCP, 7)->outcome, VL_OUT_DELIVERED); /* AllowVnetInBound */
	cr_assert_eq(find(&v, lab, "web1", "b1", VL_PROTO_TCP, 80)->outcome, VL_OUT_DELIVERED); /* peered */
	cr_assert_eq(find(&v, lab, "c1", "b1", VL_PROTO_TCP, 80)->outcome, VL_OUT_UNREACHABLE);
	cr_assert_eq(find(&v, lab, "site", "web1", VL_PROTO_TCP, 80)->outcome, VL_OUT_NO_HOST);
	cr_assert_eq(find(&v, lab, "p-0", "site", VL_PROTO_TCP, 80)->outcome, VL_OUT_DELIVERED);
	cr_assert_eq(find(&v, lab, "app1", "site", VL_PROTO_TCP, 80)->outcome, VL_OUT_DENIED);
	vl_verify_free(&v);
	vl_lab_free(lab);
}

/* A drop record names one flow: ports never repeat among the flows one NIC address sends. */
Test(verify, source_ports_unique_per_nic_address)
{
	struct vl_lab *lab = th_load(lab_yaml);
	struct vl_verify v;

	cr_assert_eq(vl_verify_plan(lab, NULL, NULL, 59990, &v), 0); /* wraps past the top */
	for (size_t i = 0; i < v.n_flows; i++) {
		const struct vl_verify_flow *a = &v.flows[i];
		uint32_t na = lab->eps[lab->eps[a->from].nic].ip;

		cr_assert(a->sport >= VL_VERIFY_PORT_LO && a->sport < VL_VERIFY_PORT_LO + VL_VERIFY_PORT_SPAN);
		for (size_t j = i + 1; j < v.n_flows; j++) {
			const struct vl_verify_flow *b = &v.flows[j];

			if (lab->eps[lab->eps[b->from].nic].ip == na)
				cr_assert_neq(a->sport, b->sport, "flows %zu and %zu", i, j);
		}
	}
	vl_verify_free(&v);
	vl_lab_free(lab);
}

/* Overlapping VNets that nothing joins: an address means the endpoint of the source's own VNet. */
Test(verify, overlapping_addresses)
{
	struct vl_lab *lab = th_load("name: ov\n"
				     "vnets:\n"
				     "  - {name: a, addressSpace: [10.9.0.0/16], subnets: [{name: s, addressPrefix: 10.9.1.0/24}]}\n"
				     "  - {name: b, addressSpace: [10.9.0.0/16], subnets: [{name: s, addressPrefix: 10.9.1.0/24}]}\n"
				     "vms:\n"
				     "  - {name: a1, subnet: a/s, app: hello, ports: [80]}\n"
				     "  - {name: a2, subnet: a/s, app: hello, ports: [80]}\n"
				     "  - {name: b1, subnet: b/s, app: hello, ports: [80]}\n");
	struct vl_verify v;

	cr_assert_eq(vl_verify_plan(lab, NULL, NULL, 20000, &v), 0);
	/* a1 and b1 share 10.9.1.4: a2 -> b1 would reach a1; b1 -> a1 would reach itself */
	cr_assert_eq(v.n_flows, 3, "%zu", v.n_flows); /* a1 -> a2, a2 -> a1, b1 -> a2 */
	vl_verify_free(&v);
	vl_lab_free(lab);
}

Test(verify, agreement)
{
	struct vl_lab *lab = th_load(lab_yaml);
	struct vl_verify v;
	struct vl_verify_flow f;

	cr_assert_eq(vl_verify_plan(lab, "web1", "app1", 20000, &v), 0);
	f = *find(&v, lab, "web1", "app1", VL_PROTO_TCP, 7); /* denied by app-nsg/deny-web */
	f.probed = true;
	f.status = VL_PROBE_DROPPED;
	f.drop = "app-nsg/deny-web";
	cr_assert(vl_verify_agrees(lab, NULL, &f));
	f.drop = "app-nsg/DenyAllInBound";
	cr_assert_not(vl_verify_agrees(lab, NULL, &f));
	f.status = VL_PROBE_CONNECTED;
	cr_assert_not(vl_verify_agrees(lab, NULL, &f));
	cr_assert(vl_verify_allowed(&f));
	f.outcome = VL_OUT_DELIVERED;
	cr_assert(vl_verify_agrees(lab, NULL, &f));
	f.status = VL_PROBE_REFUSED;
	cr_assert(vl_verify_agrees(lab, NULL, &f));
	f.status = VL_PROBE_TIMEOUT;
	cr_assert_not(vl_verify_agrees(lab, NULL, &f));
	f.outcome = VL_OUT_NO_HOST;
	cr_assert(vl_verify_agrees(lab, NULL, &f));
	f.status = VL_PROBE_UNREACHABLE;
	cr_assert_not(vl_verify_agrees(lab, NULL, &f));
	f.outcome = VL_OUT_UNREACHABLE;
	cr_assert(vl_verify_agrees(lab, NULL, &f));
	f.err = -EMFILE;
	cr_assert_not(vl_verify_agrees(lab, NULL, &f));
	f.err = 0;
	f.probed = false;
	cr_assert_not(vl_verify_agrees(lab, NULL, &f));
	vl_verify_free(&v);
	vl_lab_free(lab);
}
