// SPDX-License-Identifier: MIT
/*
 * Kubernetes manifests of a cluster (loader/manifest.c, loader/podspec.c): files with several
 * documents, a List, inline documents, located errors, the article's manifest, the state copy,
 * and Services selecting their pods by label (effective/services.c).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"
#include "vnetlab/effective.h"
#include "vnetlab/eval.h"
#include "vnetlab/loader.h"
#include "vnetlab/model.h"

#define HEAD                                                                                                 \
	"name: t\n"                                                                                          \
	"vnets: [{name: v, addressSpace: [10.1.0.0/16], subnets: [{name: s, addressPrefix: 10.1.1.0/24}]}]\n" \
	"aksClusters:\n"                                                                                     \
	"  - name: k\n"                                                                                      \
	"    subnet: s\n"                                                                                    \
	"    networkPlugin: azure\n"                                                                         \
	"    serviceCidr: 10.2.0.0/16\n"                                                                     \
	"    nodeCount: 2\n"
/* line 9 onwards */
#define MANIFESTS "    manifests:\n"

static const struct vl_pod_spec *pod_spec(const struct vl_lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->aks[0].n_pods; i++)
		if (!strcmp(lab->aks[0].pods[i].name, name))
			return &lab->aks[0].pods[i];
	cr_assert_fail("no pod spec %s", name);
	return NULL;
}

static const struct vl_endpoint *ep(const struct vl_lab *lab, const char *name)
{
	int i = vl_lab_find_endpoint(lab, name);

	cr_assert_neq(i, VL_NONE, "no endpoint %s", name);
	return &lab->eps[i];
}

/* A topology next to its manifest in a new directory; returns the topology's path. */
static char *write_pair(const char *topology, const char *manifest, char *dir, size_t len)
{
	char *path;
	FILE *f;

	snprintf(dir, len, "/tmp/vnetlab-manifest-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert(asprintf(&path, "%s/m.yaml", dir) > 0);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(manifest, f);
	fclose(f);
	free(path);
	cr_assert(asprintf(&path, "%s/t.yaml", dir) > 0);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(topology, f);
	fclose(f);
	return path;
}

static void remove_pair(const char *dir)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/m.yaml", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/t.yaml", dir);
	unlink(p);
	rmdir(dir);
}

static const char multi_doc[] = "apiVersion: v1\n"
				"kind: Namespace\n"
				"metadata: {name: shop, labels: {team: a}}\n"
				"---\n"
				"apiVersion: apps/v1\n"
				"kind: ReplicaSet\n"
				"metadata: {name: web, namespace: shop}\n"
				"spec:\n"
				"  replicas: 2\n"
				"  selector: {matchExpressions: [{key: tier, operator: In, values: [front]}]}\n"
				"  template:\n"
				"    metadata:\n"
				"      labels: {app: web, tier: front}\n"
				"      annotations: {vnetlab.io/app: echo}\n"
				"    spec:\n"
				"      containers:\n"
				"      - name: web\n"
				"        image: nginx\n"
				"        env: [{name: A, value: b}]\n"
				"        livenessProbe: {httpGet: {path: /, port: 80}}\n"
				"        ports: [{containerPort: 80, name: http}, {containerPort: 9090}]\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: Service\n"
				"metadata: {name: web, namespace: shop}\n"
				"spec:\n"
				"  selector: {app: web}\n"
				"  ports: [{port: 8080, targetPort: http}]\n"
				"---\n";

Test(manifest, file_with_several_documents)
{
	char dir[64], *path = write_pair(HEAD MANIFESTS "      - m.yaml\n", multi_doc, dir, sizeof(dir));
	struct vl_error err = {0};
	struct vl_lab *lab;
	const struct vl_pod_spec *p;
	const struct vl_k8s_ns *ns;

	cr_assert_eq(vl_load_file(path, &lab, &err), 0, "%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
	p = pod_spec(lab, "web");
	cr_assert_str_eq(p->ns, "shop");
	cr_assert_str_eq(p->kind, "ReplicaSet");
	cr_assert_eq(p->replicas, 2);
	cr_assert_str_eq(vl_labels_get(&p->labels, "tier"), "front");
	cr_assert_eq(p->app, VL_APP_ECHO, "the annotation chooses the app");
	cr_assert_eq(p->n_ports, 2);
	cr_assert_eq(p->ports[0], 80);
	cr_assert_str_eq(p->port_names[0], "http");
	cr_assert_null(p->port_names[1]);
	ns = vl_aks_find_ns(&lab->aks[0], "shop");
	cr_assert_not_null(ns);
	cr_assert_str_eq(vl_labels_get(&ns->labels, "team"), "a");
	ep(lab, "web-0");
	ep(lab, "web-1");
	cr_assert_eq(vl_lab_find_endpoint(lab, "web"), VL_NONE, "replicas are NAME-0, NAME-1");
	cr_assert_eq(vl_eff_service_pods(lab, 0, 0)->n, 2);
	cr_assert_eq(lab->aks[0].services[0].ports[0].target_port, 80, "a named targetPort: the pods' port http");
	vl_lab_free(lab);
	free(path);
	remove_pair(dir);
}

Test(manifest, list_as_kubectl_prints_it_and_inline_documents)
{
	struct vl_lab *lab = th_load(HEAD MANIFESTS
				     "      - apiVersion: v1\n"
				     "        kind: List\n"
				     "        items:\n"
				     "        - {apiVersion: v1, kind: Pod, metadata: {name: solo, labels: {app: s}},\n"
				     "           spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}}\n"
				     "        - apiVersion: apps/v1\n"
				     "          kind: Deployment\n"
				     "          metadata: {name: d, uid: 1}\n"
				     "          spec:\n"
				     "            selector: {matchLabels: {app: d}}\n"
				     "            template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c}]}}\n"
				     "        - apiVersion: apps/v1\n"
				     "          kind: ReplicaSet\n"
				     "          metadata: {name: d-5d9f, ownerReferences: [{kind: Deployment, name: d}]}\n"
				     "          spec:\n"
				     "            selector: {matchLabels: {app: d}}\n"
				     "            template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c}]}}\n"
				     "      - {apiVersion: v1, kind: Service, metadata: {name: s}, spec: {selector: {app: s}, "
				     "ports: [{port: 80, targetPort: 8080}]}}\n");

	cr_assert_eq(ep(lab, "solo")->app, VL_APP_HELLO, "every containerPort is served by hello");
	ep(lab, "d-0");
	cr_assert_eq(vl_lab_find_endpoint(lab, "d-1"), VL_NONE, "replicas default to 1");
	cr_assert_eq(vl_lab_find_endpoint(lab, "d-5d9f-0"), VL_NONE,
		     "a ReplicaSet owned by a Deployment of the same set is made by it");
	cr_assert_eq(lab->aks[0].n_services, 1);
	cr_assert_eq(vl_eff_service_pods(lab, 0, 0)->n, 1);
	vl_lab_free(lab);
}

struct bad {
	const char *yaml;
	const char *err; /* "line:col: message part" */
};

static const struct bad bads[] = {
    {HEAD MANIFESTS "      - {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n",
     "10:32: unknown kind 'ConfigMap'; manifests hold Namespace, Pod, Deployment"},
    {HEAD MANIFESTS "      - {apiVersion: v1, kind: Service, metadata: {name: s}, spec: {selector: app, ports: [{port: 80}]}}\n",
     "10:79: expected a map of labels for selector of service 's', got a string"},
    {HEAD MANIFESTS
     "      - apiVersion: apps/v1\n"
     "        kind: Deployment\n"
     "        metadata: {name: d}\n"
     "        spec:\n"
     "          selector: app\n"
     "          template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c}]}}\n",
     "14:21: expected a mapping for selector, got a string"},
    {HEAD MANIFESTS
     "      - apiVersion: apps/v1\n"
     "        kind: Deployment\n"
     "        metadata: {name: d}\n"
     "        spec:\n"
     "          selector: {matchLabels: {app: e}}\n"
     "          template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c}]}}\n",
     "14:21: Deployment 'd': selector does not match template labels"},
    {HEAD MANIFESTS
     "      - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, ports: "
     "[{containerPort: http}]}]}}\n",
     "10:112: expected a number for containerPort"},
    {HEAD MANIFESTS
     "      - {apiVersion: apps/v1, kind: StatefulSet, metadata: {name: p}, spec: {replicas: two}}\n",
     "10:88: expected a number for replicas"},
    {HEAD MANIFESTS "      - {apiVersion: v1, kind: Pod, metadata: {name: p}}\n", "10:9: missing 'spec' in Pod"},
    {HEAD MANIFESTS "      - {kind: Pod, metadata: {name: p}, spec: {containers: []}}\n", "10:9: missing 'apiVersion' in Pod"},
    {HEAD MANIFESTS "      - {apiVersion: v1, kind: List, items: [{apiVersion: v1, kind: List, items: []}]}\n",
     "10:69: a List inside a List"},
    {HEAD MANIFESTS "      - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {hostNetwork: true, "
		    "containers: []}}\n",
     "10:78: hostNetwork pods are not emulated"},
    {HEAD MANIFESTS
     "      - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [], tolerations: [{key: a, "
     "operator: Exists, value: b}]}}\n",
     "a toleration with operator Exists takes no value"},
    {HEAD "    pods: [{name: p-0}]\n" MANIFESTS
     "      - {apiVersion: apps/v1, kind: Deployment, metadata: {name: p}, spec: {selector: {matchLabels: {a: "
     "b}}, template: {metadata: {labels: {a: b}}, spec: {containers: []}}}}\n",
     "11:66: endpoint name 'p-0' is already used"},
    {HEAD MANIFESTS "      - does-not-exist.yaml\n", "10:9: cannot read manifest"},
    {HEAD "    pods: [{name: p, ports: [80]}]\n" MANIFESTS
     "      - {apiVersion: v1, kind: Service, metadata: {name: s}, spec: {selector: {app: p}, ports: [{port: 80, "
     "targetPort: web}]}}\n",
     "11:120: targetPort 'web' of service 's' names no containerPort of the pods it selects"},
};

Test(manifest, located_errors)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const char *e = th_load_error(bads[i].yaml);

		cr_expect(strstr(e, bads[i].err) != NULL, "row %zu: got %s", i, e);
	}
}

/* An error inside a manifest file is located in that file, and its values are not quoted. */
Test(manifest, errors_are_located_in_the_manifest_file)
{
	char dir[64], want[128],
	    *path = write_pair(HEAD MANIFESTS "      - m.yaml\n",
			       "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n---\n"
			       "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
			       dir, sizeof(dir));
	struct vl_error err = {0};
	struct vl_lab *lab;

	cr_assert_eq(vl_load_file(path, &lab, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s/m.yaml", dir);
	cr_expect_str_eq(err.file, want);
	cr_expect_eq(err.line, 7);
	cr_expect_eq(err.col, 7);
	cr_expect(strstr(err.msg, "unknown kind '(not shown)'"), "%s", err.msg);
	free(path);
	remove_pair(dir);
}

/* `up` copies the manifest into the state; a replay never reads the disk again. */
Test(manifest, copied_into_the_state_and_replayed)
{
	char dir[64], *path = write_pair(HEAD MANIFESTS "      - m.yaml\n", multi_doc, dir, sizeof(dir));
	struct vl_imports rec = {0}, again = {0};
	struct vl_error err = {0};
	struct vl_lab *lab;
	char *top, *store;
	size_t len, slen;
	FILE *f;

	cr_assert_not_null(f = fopen(path, "r"));
	top = calloc(1, 8192);
	len = fread(top, 1, 8191, f);
	fclose(f);
	cr_assert_eq(vl_load_buffer_imports(path, top, len, &rec, &lab, &err), 0, "%s", err.msg);
	vl_lab_free(lab);
	cr_assert_eq(rec.n, 1);
	cr_assert_str_eq(rec.v[0].ref, "m.yaml");
	cr_assert_eq(vl_imports_format(&rec, &store, &slen), 0);
	remove_pair(dir); /* gone from the disk */
	cr_assert_eq(vl_imports_parse(store, slen, &again), 0);
	cr_assert_eq(vl_load_buffer_imports(path, top, len, &again, &lab, &err), 0, "%s", err.msg);
	ep(lab, "web-1");
	vl_lab_free(lab);
	vl_imports_free(&rec);
	vl_imports_free(&again);
	free(store);
	free(top);
	free(path);
}

/* The article's Deployment and Service, as topologies/aks-virtual-node.yaml applies them. */
Test(manifest, the_articles_manifest)
{
	struct vl_error err = {0};
	struct vl_lab *lab;
	const struct vl_pod_spec *p;
	const struct vl_aks *a;
	int svc;

	cr_assert_eq(vl_load_file("topologies/aks-virtual-node.yaml", &lab, &err), 0, "%s:%d:%d: %s", err.file,
		     err.line, err.col, err.msg);
	a = &lab->aks[0];
	p = pod_spec(lab, "kuard-vnode");
	cr_assert_str_eq(p->kind, "Deployment");
	cr_assert_str_eq(p->ns, "default");
	cr_assert_eq(p->replicas, 2);
	cr_assert_eq(p->labels.n, 1);
	cr_assert_str_eq(vl_labels_get(&p->labels, "app"), "kuard-vnode");
	cr_assert_eq(p->n_ports, 1);
	cr_assert_eq(p->ports[0], 8080);
	cr_assert_eq(p->app, VL_APP_HELLO);
	cr_assert_eq(p->sched.n_tols, 2);
	cr_assert_str_eq(p->sched.tols[0].key, "virtual-kubelet.io/provider");
	cr_assert(p->sched.tols[0].exists);
	cr_assert_str_eq(p->sched.tols[1].key, "azure.com/aci");
	cr_assert_eq(p->sched.tols[1].effect, VL_EFFECT_NO_SCHEDULE);
	cr_assert_eq(p->sched.n_preferred, 1);
	cr_assert_eq(p->sched.preferred[0].weight, 1);
	cr_assert_eq(p->sched.preferred[0].term.exprs[0].op, VL_SEL_NOT_IN);
	/* the preferred affinity keeps both replicas on the VM node; the docs' sample goes virtual */
	cr_assert_not(ep(lab, "kuard-vnode-0")->virtual_node);
	cr_assert_not(ep(lab, "kuard-vnode-1")->virtual_node);
	cr_assert_str_eq(vl_pod_node_name(lab, ep(lab, "kuard-vnode-1")), "azurecnicluster-node-0");
	cr_assert(ep(lab, "aci-helloworld-0")->virtual_node);
	cr_assert_str_eq(vl_pod_node_name(lab, ep(lab, "aci-helloworld-0")), "virtual-node-aci-linux");
	cr_assert_str_eq(pod_spec(lab, "aci-helloworld")->port_names[0], "http");
	/* the virtual-node pod: its own address in the ACI subnet, no NIC NSG, no node */
	cr_assert_eq(ep(lab, "aci-helloworld-0")->subnet, vl_lab_find_subnet(lab, "aci"));
	cr_assert_eq(ep(lab, "aci-helloworld-0")->nic_nsg, VL_NONE);
	cr_assert_eq(ep(lab, "aci-helloworld-0")->node, VL_NONE);
	svc = vl_aks_find_service(a, "kuard-vnode");
	cr_assert_neq(svc, VL_NONE);
	cr_assert_eq(a->services[svc].type, VL_SVC_LB);
	cr_assert_str_eq(a->services[svc].uid, "094204ca-555d-11e9-b161-9a6af7601360");
	cr_assert_eq(a->services[svc].ports[0].node_port, 30610);
	cr_assert_eq(vl_eff_service_pods(lab, 0, svc)->n, 2);
	vl_lab_free(lab);
}

/* Services pick pods by label in their own namespace; the virtual node is never an LB backend. */
Test(manifest, service_backends_by_label)
{
	struct vl_lab *lab = th_load(
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
	    "    nodeCount: 1\n"
	    "    virtualNode: {subnet: aci}\n"
	    "    pods:\n"
	    "      - {name: a, labels: {app: web, tier: front}, ports: [80]}\n"
	    "      - {name: b, labels: {app: web, tier: back}, ports: [80]}\n"
	    "      - {name: c, namespace: other, labels: {app: web, tier: front}, ports: [80]}\n"
	    "      - {name: d, ports: [80]}\n"
	    "    manifests:\n"
	    "      - apiVersion: v1\n"
	    "        kind: Pod\n"
	    "        metadata: {name: v, labels: {app: web, tier: front}}\n"
	    "        spec:\n"
	    "          nodeSelector: {type: virtual-kubelet}\n"
	    "          tolerations: [{operator: Exists}]\n"
	    "          containers: [{name: c, ports: [{containerPort: 80}]}]\n"
	    "    services:\n"
	    "      - {name: web, selector: {app: web}, port: 80}\n"
	    "      - {name: front, type: LoadBalancer, selector: {app: web, tier: front}, port: 80}\n"
	    "      - {name: legacy, selector: d, port: 80}\n"
	    "      - {name: other, namespace: other, selector: {app: web}, port: 80}\n");
	const struct vl_svc_pods *l;
	const struct vl_frontend *fe = &lab->eff->frontends[0];

	cr_assert_eq(vl_eff_service_pods(lab, 0, 0)->n, 3, "a, b and the virtual-node pod v");
	l = vl_eff_service_pods(lab, 0, 1);
	cr_assert_eq(l->n, 2);
	cr_assert_eq(l->pods[0], vl_lab_find_endpoint(lab, "a"));
	cr_assert_eq(l->pods[1], vl_lab_find_endpoint(lab, "v"));
	l = vl_eff_service_pods(lab, 0, 2);
	cr_assert_eq(l->n, 1, "selector: NAME is app=NAME");
	cr_assert_eq(l->pods[0], vl_lab_find_endpoint(lab, "d"));
	l = vl_eff_service_pods(lab, 0, 3);
	cr_assert_eq(l->n, 1);
	cr_assert_eq(l->pods[0], vl_lab_find_endpoint(lab, "c"));
	/* the frontend: one backend (the VM node), both pods behind it */
	cr_assert_eq(fe->n_backends, 1);
	cr_assert_eq(fe->backends[0].node, vl_lab_find_endpoint(lab, "k-node-0"));
	cr_assert_eq(fe->n_pods, 2);
	cr_assert_eq(fe->backends[0].local_pods, 1, "the virtual-node pod is local to no backend");
	vl_lab_free(lab);
}

Test(manifest, virtual_node_needs_azure_cni_and_a_delegated_subnet)
{
	const char *e = th_load_error(
	    "name: t\n"
	    "vnets: [{name: v, addressSpace: [10.1.0.0/16], subnets: [{name: s, addressPrefix: 10.1.1.0/24},\n"
	    "  {name: aci, addressPrefix: 10.1.2.0/24, delegation: Microsoft.ContainerInstance/containerGroups}]}]\n"
	    "aksClusters:\n"
	    "  - {name: k, subnet: s, serviceCidr: 10.2.0.0/16, virtualNode: {subnet: aci}}\n");

	cr_expect(strstr(e, "5:65: virtualNode needs networkPlugin azure"), "%s", e);
	e = th_load_error("name: t\n"
			  "vnets: [{name: v, addressSpace: [10.1.0.0/16], subnets: [{name: s, addressPrefix: "
			  "10.1.1.0/24}, {name: x, addressPrefix: 10.1.2.0/24}]}]\n"
			  "aksClusters:\n"
			  "  - {name: k, subnet: s, networkPlugin: azure, serviceCidr: 10.2.0.0/16, virtualNode: "
			  "{subnet: x}}\n");
	cr_expect(strstr(e, "needs a subnet delegated to Microsoft.ContainerInstance/containerGroups"), "%s", e);
}

/* A policy selecting a virtual-node pod is not enforced there: one warning per such policy. */
Test(manifest, policy_selecting_a_virtual_node_pod_warns)
{
	struct vl_lab *lab = th_load(
	    "name: t\n"
	    "vnets: [{name: v, addressSpace: [10.1.0.0/16], subnets: [{name: s, addressPrefix: 10.1.1.0/24},\n"
	    "  {name: aci, addressPrefix: 10.1.2.0/24, delegation: Microsoft.ContainerInstance/containerGroups}]}]\n"
	    "aksClusters:\n"
	    "  - name: k\n"
	    "    subnet: s\n"
	    "    networkPlugin: azure\n"
	    "    networkPolicy: azure\n"
	    "    serviceCidr: 10.2.0.0/16\n"
	    "    nodeCount: 1\n"
	    "    virtualNode: {subnet: aci}\n"
	    "    manifests:\n"
	    "      - {apiVersion: v1, kind: Pod, metadata: {name: v, labels: {app: x}},\n"
	    "         spec: {nodeName: virtual-node-aci-linux, containers: [{name: c}]}}\n"
	    "      - {apiVersion: v1, kind: Pod, metadata: {name: w, labels: {app: x}}, spec: {containers: [{name: c}]}}\n"
	    "      - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: all},\n"
	    "         spec: {podSelector: {}, policyTypes: [Ingress]}}\n"
	    "      - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: other},\n"
	    "         spec: {podSelector: {matchLabels: {app: y}}}}\n");
	struct vl_strv w = {0};

	struct vl_np_verdict nv;

	cr_assert_eq(vl_np_decide(lab, vl_lab_find_endpoint(lab, "v"), VL_DIR_IN, 0x0a0101c8u, VL_PROTO_TCP, 80, &nv), 0);
	cr_assert_eq(nv.result, VL_NP_UNENFORCED, "no policy is enforced on a virtual-node pod");
	cr_assert_eq(vl_np_decide(lab, vl_lab_find_endpoint(lab, "w"), VL_DIR_IN, 0x0a0101c8u, VL_PROTO_TCP, 80, &nv), 0);
	cr_assert_eq(nv.result, VL_NP_DENY, "the VM-node pod is isolated by the same policy");
	cr_assert_eq(vl_eff_vnode_warnings(lab, &w), 0);
	cr_assert_eq(w.n, 1, "only the policy that selects v");
	cr_assert(strstr(w.v[0], "NetworkPolicy default/all of cluster 'k' selects pod v on the virtual node"), "%s",
		  w.v[0]);
	vl_strv_free(&w);
	vl_lab_free(lab);
}

/* The evaluator: toward a virtual-node pod only the ACI subnet's NSG is crossed, never the node's;
 * from a VM-node pod through its ClusterIP, the node NIC NSG out and the ACI subnet NSG in. */
Test(manifest, virtual_node_pod_crosses_only_its_subnet_nsg)
{
	struct vl_error err = {0};
	struct vl_lab *lab;
	struct vl_verdict v;
	int aci, node_nsg, from, to;

	cr_assert_eq(vl_load_file("topologies/aks-virtual-node.yaml", &lab, &err), 0, "%s", err.msg);
	aci = vl_lab_find_nsg(lab, "aci-nsg");
	node_nsg = vl_lab_find_nsg(lab, "aks-agentpool-nsg");
	from = vl_lab_find_endpoint(lab, "jumpbox");
	to = vl_lab_find_endpoint(lab, "aci-helloworld-0");
	cr_assert_eq(vl_eval_path(lab, from, lab->eps[to].ip, VL_PROTO_TCP, 0, 80, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED);
	for (size_t i = 0; i < v.n_hops; i++)
		if (v.hops[i].type == VL_HT_NSG) {
			cr_assert_eq(v.hops[i].nsg, aci, "hop %zu: NSG %s", i, lab->nsgs[v.hops[i].nsg].name);
			cr_assert_eq(v.hops[i].level, VL_HOP_SUBNET);
		}
	cr_assert_eq(v.nsg, aci);
	from = vl_lab_find_endpoint(lab, "kuard-vnode-0");
	cr_assert_eq(vl_eval_path(lab, from, lab->aks[0].services[vl_aks_find_service(&lab->aks[0], "aci-helloworld")].cluster_ip,
				  VL_PROTO_TCP, 0, 80, &v),
		     0);
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED);
	cr_assert_eq(v.dst_ep, to);
	{
		bool out_node = false, in_aci = false;

		for (size_t i = 0; i < v.n_hops; i++) {
			out_node |= v.hops[i].type == VL_HT_NSG && v.hops[i].nsg == node_nsg && v.hops[i].dir == VL_DIR_OUT;
			in_aci |= v.hops[i].type == VL_HT_NSG && v.hops[i].nsg == aci && v.hops[i].dir == VL_DIR_IN;
			cr_assert(!(v.hops[i].type == VL_HT_NSG && v.hops[i].nsg == node_nsg && v.hops[i].dir == VL_DIR_IN));
		}
		cr_assert(out_node && in_aci);
	}
	vl_lab_free(lab);
}
