// SPDX-License-Identifier: MIT
/* verify's flows to Services (pure): which ones, their backends, and how a probe is compared with the
 * backend the kernel reached, or with every backend when that is not known. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/backends_lab.h"
#include "common/helpers.h"
#include "vnetlab/verify.h"

static const char lab_yaml[] = "name: lbcv\n" BACKENDS_LAB;

static int ep(const struct vl_lab *lab, const char *name)
{
	int i = vl_lab_find_endpoint(lab, name);

	cr_assert_neq(i, VL_NONE, "%s", name);
	return i;
}

/* The flow from `from` to service `svc` (its clusterIP, or its frontend when frontend). */
static struct vl_verify_flow *to_service(struct vl_verify *v, const struct vl_lab *lab, const char *from,
					 const char *svc, bool frontend)
{
	for (size_t i = 0; i < v->n_flows; i++) {
		struct vl_verify_flow *f = &v->flows[i];
		const struct vl_service *sv;

		if (f->to != VL_NONE || f->from != ep(lab, from))
			continue;
		sv = &lab->aks[f->svc_cluster].services[f->svc];
		if (!strcmp(sv->name, svc) && f->dst == (frontend ? sv->frontend_ip : sv->cluster_ip))
			return f;
	}
	cr_assert_fail("no flow %s -> service %s", from, svc);
	return NULL;
}

Test(verify_backends, every_service_port_from_its_sources_with_every_backend)
{
	struct vl_lab *lab = th_load(lab_yaml);
	struct vl_verify v;
	size_t svc = 0;

	cr_assert_eq(vl_verify_plan(lab, NULL, NULL, 20000, &v), 0);
	for (size_t i = 0; i < v.n_flows; i++)
		if (v.flows[i].to == VL_NONE) {
			svc++;
			cr_assert(v.flows[i].mixed, "every flow here depends on the pod");
			cr_assert_eq(v.flows[i].n_backends,
				     v.flows[i].dst == lab->aks[0].services[1].frontend_ip ? 6 : 3);
		}
	cr_assert_eq(svc, 13, "4 pods and 2 nodes to 2 clusterIPs, the Internet host to the frontend");
	cr_assert_eq(to_service(&v, lab, "surfer", "front", true)->n_backends, 6, "2 nodes x 3 pods");
	vl_verify_free(&v);
	/* --to a Service: its flows only */
	cr_assert_eq(vl_verify_plan(lab, NULL, "web", 20000, &v), 0);
	cr_assert_eq(v.n_flows, 6);
	vl_verify_free(&v);
	cr_assert_eq(vl_verify_plan(lab, "client", "web", 20000, &v), 0);
	cr_assert_eq(v.n_flows, 1);
	vl_verify_free(&v);
	vl_lab_free(lab);
}

Test(verify_backends, a_probe_is_compared_with_the_backend_it_reached)
{
	struct vl_lab *lab = th_load(lab_yaml);
	int a = ep(lab, "web-a"), b = ep(lab, "web-b"), c = ep(lab, "web-c"), n0 = ep(lab, "k-node-0");
	struct vl_verify v;
	struct vl_verify_flow *f;

	cr_assert_eq(vl_verify_plan(lab, "client", "web", 20000, &v), 0);
	f = to_service(&v, lab, "client", "web", false);
	f->probed = true;
	/* known: that backend's outcome, and only that one */
	f->status = VL_PROBE_CONNECTED;
	f->reached_pod = a;
	f->reached_node = n0;
	cr_assert(vl_verify_agrees(lab, &v, f));
	cr_assert_eq(vl_verify_reached(&v, f)->pod, a);
	f->status = VL_PROBE_REFUSED;
	cr_assert_not(vl_verify_agrees(lab, &v, f), "web-a listens: a refusal is a real disagreement");
	f->reached_pod = b;
	f->status = VL_PROBE_CONNECTED;
	cr_assert_not(vl_verify_agrees(lab, &v, f), "web-b is isolated: connected is a real disagreement");
	f->status = VL_PROBE_DROPPED;
	f->drop = "np:in/web-b";
	cr_assert(vl_verify_agrees(lab, &v, f));
	f->drop = "np:in/web-a";
	cr_assert_not(vl_verify_agrees(lab, &v, f));
	f->reached_pod = c;
	f->reached_node = VL_NONE; /* known from a drop record: the pod, not the node */
	f->status = VL_PROBE_REFUSED;
	cr_assert(vl_verify_agrees(lab, &v, f), "web-c runs no app");
	f->status = VL_PROBE_CONNECTED;
	cr_assert_not(vl_verify_agrees(lab, &v, f));
	/* unknown: agrees when some backend ends that way */
	f->reached_pod = f->reached_node = VL_NONE;
	cr_assert_null(vl_verify_reached(&v, f));
	cr_assert(vl_verify_agrees(lab, &v, f));
	f->status = VL_PROBE_REFUSED;
	cr_assert(vl_verify_agrees(lab, &v, f));
	f->status = VL_PROBE_DROPPED;
	f->drop = "np:in/web-b";
	cr_assert(vl_verify_agrees(lab, &v, f));
	f->status = VL_PROBE_TIMEOUT;
	cr_assert_not(vl_verify_agrees(lab, &v, f), "no backend is silent");
	f->status = VL_PROBE_UNREACHABLE;
	cr_assert_not(vl_verify_agrees(lab, &v, f));
	vl_verify_free(&v);
	vl_lab_free(lab);
}
