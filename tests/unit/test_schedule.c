// SPDX-License-Identifier: MIT
/*
 * Pod scheduling (model/schedule.c) through the loader: nodeSelector, taints and tolerations,
 * required and preferred node affinity, nodeName, maxPods, and the deterministic tie-break, with
 * AKS's node labels and the virtual node's taint (spec 17). One row per behaviour.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/helpers.h"
#include "vnetlab/loader.h"
#include "vnetlab/model.h"

#define TOL_PROVIDER "              tolerations: [{key: virtual-kubelet.io/provider, operator: Exists}]\n"
#define PREFER_VM                                                                                            \
	"              affinity:\n"                                                                         \
	"                nodeAffinity:\n"                                                                   \
	"                  preferredDuringSchedulingIgnoredDuringExecution:\n"                              \
	"                  - weight: 1\n"                                                                   \
	"                    preference:\n"                                                                 \
	"                      matchExpressions: [{key: type, operator: NotIn, values: [virtual-kubelet]}]\n"
#define REQUIRED(exprs)                                                                                      \
	"              affinity:\n"                                                                         \
	"                nodeAffinity:\n"                                                                   \
	"                  requiredDuringSchedulingIgnoredDuringExecution:\n"                               \
	"                    nodeSelectorTerms:\n" exprs
#define VK_SELECTOR "              nodeSelector: {type: virtual-kubelet}\n"

struct row {
	const char *id;
	int nodes;
	int max_pods;
	bool vnode;
	int replicas;
	const char *spec; /* more lines of the pod template's spec */
	const char *want; /* placement per replica ("0,1,V"), or NULL */
	const char *err;  /* or an error message part */
};

static const struct row rows[] = {
    {"taint-keeps-off-vnode", 2, 30, true, 4, "", "0,1,0,1", NULL},
    {"toleration-admits-vnode", 1, 30, true, 2, TOL_PROVIDER, "0,V", NULL},
    {"article-prefers-vm-node", 1, 30, true, 2, TOL_PROVIDER PREFER_VM, "0,0", NULL},
    {"article-bursts-when-full", 1, 2, true, 4, TOL_PROVIDER PREFER_VM, "0,0,V,V", NULL},
    {"node-selector-vnode", 2, 30, true, 2, VK_SELECTOR TOL_PROVIDER, "V,V", NULL},
    {"node-selector-untolerated", 1, 30, true, 1, VK_SELECTOR, NULL,
     "pod 'w-0' of cluster 'k' cannot be scheduled (FailedScheduling): 0/2 nodes are available: 1 node(s) "
     "didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint "
     "{virtual-kubelet.io/provider: azure}."},
    {"node-selector-aks-labels", 2, 30, false, 2, "              nodeSelector: {kubernetes.io/os: linux, agentpool: nodepool1}\n",
     "0,1", NULL},
    {"node-selector-no-match", 2, 30, false, 1, "              nodeSelector: {agentpool: gpu}\n", NULL,
     "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."},
    {"required-in-hostname", 3, 30, false, 2,
     REQUIRED("                    - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [k-node-1]}]\n"),
     "1,1", NULL},
    {"required-terms-or", 3, 30, false, 2,
     REQUIRED("                    - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [k-node-2]}]\n"
	      "                    - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [k-node-0]}]\n"),
     "0,2", NULL},
    {"required-expressions-and", 3, 30, false, 2,
     REQUIRED("                    - matchExpressions:\n"
	      "                      - {key: kubernetes.io/hostname, operator: In, values: [k-node-0, k-node-1]}\n"
	      "                      - {key: kubernetes.io/hostname, operator: NotIn, values: [k-node-0]}\n"),
     "1,1", NULL},
    {"required-does-not-exist", 1, 30, true, 2,
     TOL_PROVIDER REQUIRED("                    - matchExpressions: [{key: type, operator: DoesNotExist}]\n"), "0,0",
     NULL},
    {"required-exists", 1, 30, true, 2,
     TOL_PROVIDER REQUIRED("                    - matchExpressions: [{key: type, operator: Exists}]\n"), "V,V",
     NULL},
    {"required-match-fields", 2, 30, false, 1,
     REQUIRED("                    - matchFields: [{key: metadata.name, operator: In, values: [k-node-1]}]\n"), "1",
     NULL},
    {"required-gt-not-a-number", 1, 30, false, 1,
     REQUIRED("                    - matchExpressions: [{key: agentpool, operator: Gt, values: ['3']}]\n"), NULL,
     "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."},
    {"toleration-wrong-value", 1, 30, true, 1,
     VK_SELECTOR "              tolerations: [{key: virtual-kubelet.io/provider, operator: Equal, value: aws}]\n",
     NULL, "had untolerated taint {virtual-kubelet.io/provider: azure}"},
    {"toleration-equal-value-effect", 1, 30, true, 1,
     VK_SELECTOR "              tolerations: [{key: virtual-kubelet.io/provider, value: azure, effect: NoSchedule}]\n",
     "V", NULL},
    {"toleration-other-effect", 1, 30, true, 1,
     VK_SELECTOR "              tolerations: [{key: virtual-kubelet.io/provider, operator: Exists, effect: NoExecute}]\n",
     NULL, "had untolerated taint"},
    {"toleration-only-old-key", 1, 30, true, 1,
     VK_SELECTOR "              tolerations: [{key: azure.com/aci, effect: NoSchedule}]\n", NULL,
     "had untolerated taint {virtual-kubelet.io/provider: azure}"},
    {"toleration-exists-everything", 1, 30, true, 1, VK_SELECTOR "              tolerations: [{operator: Exists}]\n",
     "V", NULL},
    {"preferred-weights-add", 3, 30, false, 3,
     "              affinity:\n"
     "                nodeAffinity:\n"
     "                  preferredDuringSchedulingIgnoredDuringExecution:\n"
     "                  - {weight: 10, preference: {matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [k-node-1]}]}}\n"
     "                  - {weight: 5, preference: {matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [k-node-0]}]}}\n"
     "                  - {weight: 7, preference: {matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [k-node-0]}]}}\n",
     "0,0,0", NULL},
    {"max-pods", 2, 2, true, 5, "", NULL,
     "pod 'w-4' of cluster 'k' cannot be scheduled (FailedScheduling): 0/3 nodes are available: 1 node(s) had "
     "untolerated taint {virtual-kubelet.io/provider: azure}, 2 Too many pods (maxPods 2)."},
    {"node-name-vnode", 2, 30, true, 2, "              nodeName: virtual-node-aci-linux\n", "V,V", NULL},
    {"node-name-unknown", 2, 30, false, 1, "              nodeName: aks-nodepool1-0\n", NULL,
     "nodeName 'aks-nodepool1-0' is no node of cluster 'k'"},
};

static char *topology(const struct row *r)
{
	char *s;

	cr_assert(asprintf(&s,
			   "name: t\n"
			   "vnets:\n"
			   "  - name: v\n"
			   "    addressSpace: [10.1.0.0/16]\n"
			   "    subnets:\n"
			   "      - {name: s, addressPrefix: 10.1.1.0/24}\n"
			   "      - {name: aci, addressPrefix: 10.1.2.0/24, delegation: Microsoft.ContainerInstance/containerGroups}\n"
			   "aksClusters:\n"
			   "  - name: k\n"
			   "    subnet: s\n"
			   "    networkPlugin: azure\n"
			   "    serviceCidr: 10.2.0.0/16\n"
			   "    nodeCount: %d\n"
			   "    maxPods: %d\n"
			   "%s"
			   "    manifests:\n"
			   "      - apiVersion: apps/v1\n"
			   "        kind: Deployment\n"
			   "        metadata: {name: w}\n"
			   "        spec:\n"
			   "          replicas: %d\n"
			   "          selector: {matchLabels: {app: w}}\n"
			   "          template:\n"
			   "            metadata: {labels: {app: w}}\n"
			   "            spec:\n"
			   "              containers: [{name: c, ports: [{containerPort: 80}]}]\n"
			   "%s",
			   r->nodes, r->max_pods, r->vnode ? "    virtualNode: {subnet: aci}\n" : "", r->replicas,
			   r->spec) > 0);
	return s;
}

/* "0,1,V": the node of each replica w-0, w-1… */
static void placement(const struct vl_lab *lab, char *out, size_t len)
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->kind != VL_EP_POD)
			continue;
		if (e->virtual_node)
			at += (size_t)snprintf(out + at, len - at, "%sV", at ? "," : "");
		else
			at += (size_t)snprintf(out + at, len - at, "%s%d", at ? "," : "", lab->eps[e->node].node);
	}
}

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

/* Rows are passed by index: a worker process has its own addresses for the strings (PIE). */
ParameterizedTestParameters(schedule, table)
{
	static int idx[N_ROWS];

	for (size_t i = 0; i < N_ROWS; i++)
		idx[i] = (int)i;
	return cr_make_param_array(int, idx, N_ROWS);
}

ParameterizedTest(int *i, schedule, table)
{
	const struct row *r = &rows[*i];
	char *yaml = topology(r), got[256];

	if (r->want) {
		struct vl_lab *lab = th_load(yaml);

		placement(lab, got, sizeof(got));
		cr_expect_str_eq(got, r->want, "%s", r->id);
		vl_lab_free(lab);
	} else {
		const char *e = th_load_error(yaml);

		cr_expect(strstr(e, r->err) != NULL, "%s: got %s", r->id, e);
	}
	free(yaml);
}

/* Ties go round-robin over the tied nodes, counted across workloads: the same file, the same lab. */
Test(schedule, ties_are_round_robin_and_deterministic)
{
	static const char *const yaml =
	    "name: t\n"
	    "vnets: [{name: v, addressSpace: [10.1.0.0/16], subnets: [{name: s, addressPrefix: 10.1.1.0/24}]}]\n"
	    "aksClusters:\n"
	    "  - name: k\n"
	    "    subnet: s\n"
	    "    networkPlugin: azure\n"
	    "    serviceCidr: 10.2.0.0/16\n"
	    "    nodeCount: 3\n"
	    "    pods: [{name: pinned, node: 0}]\n"
	    "    manifests:\n"
	    "      - {apiVersion: v1, kind: Pod, metadata: {name: solo}, spec: {containers: [{name: c}]}}\n"
	    "      - apiVersion: apps/v1\n"
	    "        kind: StatefulSet\n"
	    "        metadata: {name: db}\n"
	    "        spec:\n"
	    "          replicas: 3\n"
	    "          selector: {matchLabels: {app: db}}\n"
	    "          template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c}]}}\n";
	struct vl_lab *a = th_load(yaml), *b = th_load(yaml);
	char pa[64], pb[64];

	placement(a, pa, sizeof(pa));
	placement(b, pb, sizeof(pb));
	/* pinned (node: 0, no scheduler), solo (1st scheduled: node 0), db-0..2 (nodes 1, 2, 0) */
	cr_assert_str_eq(pa, "0,0,1,2,0");
	cr_assert_str_eq(pa, pb);
	vl_lab_free(a);
	vl_lab_free(b);
}

/* The model's own entry point, on a cluster made by hand (no loader): AKS's labels and taints. */
Test(schedule, node_labels_and_taints)
{
	struct vl_aks a = {.name = "k", .node_count = 2, .max_pods = 30, .has_vnode = true};
	struct vl_labels l = {0};
	size_t n;
	const struct vl_taint *t;
	char name[64];

	cr_assert_eq(vl_aks_node_labels(&a, 1, &l), 0);
	cr_assert_str_eq(vl_labels_get(&l, "kubernetes.io/hostname"), "k-node-1");
	cr_assert_str_eq(vl_labels_get(&l, "kubernetes.io/os"), "linux");
	cr_assert_str_eq(vl_labels_get(&l, "agentpool"), "nodepool1");
	cr_assert_null(vl_labels_get(&l, "type"));
	vl_labels_free(&l);
	cr_assert_eq(vl_aks_node_labels(&a, 2, &l), 0);
	cr_assert_str_eq(vl_labels_get(&l, "type"), "virtual-kubelet");
	cr_assert_str_eq(vl_labels_get(&l, "kubernetes.io/role"), "agent");
	cr_assert_str_eq(vl_labels_get(&l, "node.kubernetes.io/exclude-from-external-load-balancers"), "true");
	vl_labels_free(&l);
	cr_assert_null(vl_aks_node_taints(&a, 0, &n));
	cr_assert_eq(n, 0);
	t = vl_aks_node_taints(&a, 2, &n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(t[0].key, "virtual-kubelet.io/provider");
	cr_assert_str_eq(t[0].value, "azure");
	cr_assert_eq(t[0].effect, VL_EFFECT_NO_SCHEDULE);
	cr_assert_str_eq(vl_aks_node_name(&a, 2, name, sizeof(name)), "virtual-node-aci-linux");
	cr_assert_eq(vl_aks_node_capacity(&a, 2), VL_VNODE_PODS);
}

Test(schedule, gt_lt_compare_integers)
{
	struct vl_sel_expr e = {.key = "k", .op = VL_SEL_GT};

	cr_assert_eq(vl_strv_push(&e.values, "3"), 0);
	cr_assert(vl_sel_expr_matches(&e, "4"));
	cr_assert_not(vl_sel_expr_matches(&e, "3"));
	cr_assert_not(vl_sel_expr_matches(&e, "x"));
	cr_assert_not(vl_sel_expr_matches(&e, NULL));
	e.op = VL_SEL_LT;
	cr_assert(vl_sel_expr_matches(&e, "-1"));
	cr_assert_not(vl_sel_expr_matches(&e, "10"));
	vl_strv_free(&e.values);
}
