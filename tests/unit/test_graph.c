// SPDX-License-Identifier: MIT
/*
 * vnetlab graph: the graph description of every shipped topology (VNet boxes holding their
 * subnets, NSGs on subnets and NICs, peerings with their state, gateways and connections,
 * route tables, clusters with nodes and pods, load balancer frontends and backends), and its
 * writers: dot read back by libcgraph, mermaid's subgraphs and ids, SVG parsed by libxml2,
 * names that would break a format or a terminal. No root needed.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <graphviz/cgraph.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/helpers.h"
#include "vnetlab/effective.h"
#include "vnetlab/graph.h"
#include "vnetlab/loader.h"

struct topo {
	struct vl_lab *lab;
	struct vl_graph *g;
};

static struct topo load(const char *path)
{
	struct vl_error err = {0};
	struct topo t = {0};

	cr_assert_eq(vl_load_file(path, &t.lab, &err), 0, "%s: %s:%d: %s", path, err.file, err.line, err.msg);
	cr_assert_eq(vl_graph_build(t.lab, &t.g), 0, "%s: graph", path);
	return t;
}

static void topo_free(struct topo *t)
{
	vl_graph_free(t->g);
	vl_lab_free(t->lab);
}

/* The shipped topologies (checks-only files under teacher/ are not topologies). */
static glob_t shipped(void)
{
	glob_t gl;

	cr_assert_eq(glob("topologies/*.yaml", 0, NULL, &gl), 0,
		     "no topologies/*.yaml (run from the source tree)");
	cr_assert_eq(glob("topologies/workshop/*.yaml", GLOB_APPEND, NULL, &gl), 0);
	cr_assert_geq(gl.gl_pathc, 6, "%zu topologies", gl.gl_pathc);
	return gl;
}

static char *text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *text(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&s, fmt, ap), 0);
	va_end(ap);
	return s;
}

/* The node "<kind>NAME", the box "<kind>A" or "<kind>A/B". */
static int node_of(const struct vl_graph *g, const char *kind, const char *name)
{
	char *id = text("%s%s", kind, name);
	int n = vl_graph_find_node(g, id);

	free(id);
	return n;
}

static int cluster_of(const struct vl_graph *g, const char *kind, const char *a, const char *b)
{
	char *id = b ? text("%s%s/%s", kind, a, b) : text("%s%s", kind, a);
	int c = vl_graph_find_cluster(g, id);

	free(id);
	return c;
}

static bool has_edge(const struct vl_graph *g, enum vl_gedge_kind k, struct vl_gend a, struct vl_gend b,
		     const struct vl_gedge **found)
{
	for (size_t i = 0; i < g->n_edges; i++) {
		const struct vl_gedge *e = &g->edges[i];

		if (e->kind == k && e->a.cluster == a.cluster && e->a.index == a.index &&
		    e->b.cluster == b.cluster && e->b.index == b.index) {
			if (found)
				*found = e;
			return true;
		}
	}
	return false;
}

/* The description of one topology against its model and effective model. */
static void check_structure(const char *path, const struct vl_lab *lab, const struct vl_graph *g)
{
	int *vnet_c = calloc(lab->n_vnets + 1, sizeof(int));

	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t j = i + 1; j < g->n_nodes; j++)
			cr_assert_str_neq(g->nodes[i].id, g->nodes[j].id, "%s: two nodes %s", path,
					  g->nodes[i].id);
	for (size_t i = 0; i < g->n_clusters; i++)
		for (size_t j = i + 1; j < g->n_clusters; j++)
			cr_assert_str_neq(g->clusters[i].id, g->clusters[j].id, "%s: two boxes %s", path,
					  g->clusters[i].id);
	for (size_t c = 0; c < g->n_clusters; c++) {
		bool any = false;

		for (size_t i = 0; i < g->n_nodes; i++)
			any |= vl_graph_cluster_within(g, g->nodes[i].cluster, (int)c);
		cr_expect(any, "%s: box %s is empty (dot would not draw it)", path, g->clusters[c].id);
	}
	for (size_t v = 0; v < lab->n_vnets; v++) {
		vnet_c[v] = cluster_of(g, "vnet:", lab->vnets[v].name, NULL);
		cr_assert_neq(vnet_c[v], VL_NONE, "%s: no box for VNet %s", path, lab->vnets[v].name);
		cr_expect_eq(g->clusters[vnet_c[v]].kind, VL_GC_VNET);
		cr_expect_eq(g->clusters[vnet_c[v]].parent, VL_NONE, "%s: VNet %s is nested", path,
			     lab->vnets[v].name);
		cr_expect(has_edge(g, VL_GE_OUTBOUND, (struct vl_gend){true, vnet_c[v]},
				   (struct vl_gend){false, vl_graph_find_node(g, "internet")}, NULL),
			  "%s: VNet %s has no way to the Internet drawn", path, lab->vnets[v].name);
	}
	for (size_t s = 0; s < lab->n_subnets; s++) {
		const struct vl_subnet *sn = &lab->subnets[s];
		int sc = cluster_of(g, "subnet:", lab->vnets[sn->vnet].name, sn->name);

		cr_assert_neq(sc, VL_NONE, "%s: no box for subnet %s", path, sn->name);
		cr_expect_eq(g->clusters[sc].parent, vnet_c[sn->vnet],
			     "%s: subnet %s is not in its VNet's box", path, sn->name);
		cr_expect_eq(g->clusters[sc].ref, (int)s);
		if (sn->nsg != VL_NONE) {
			char *id = text("nsg:%s@%s/%s", lab->nsgs[sn->nsg].name, lab->vnets[sn->vnet].name,
					sn->name);
			int n = vl_graph_find_node(g, id);

			cr_assert_neq(n, VL_NONE, "%s: no NSG %s on subnet %s", path, lab->nsgs[sn->nsg].name,
				      sn->name);
			cr_expect_eq(g->nodes[n].kind, VL_GN_NSG);
			cr_expect_eq(g->nodes[n].ref, sn->nsg);
			cr_expect_eq(g->nodes[n].cluster, sc, "%s: %s is not in its subnet's box", path, id);
			free(id);
		}
		if (sn->route_table != VL_NONE) {
			bool found = false;

			for (size_t i = 0; i < g->n_nodes; i++)
				found |= g->nodes[i].kind == VL_GN_ROUTE_TABLE && g->nodes[i].cluster == sc &&
					 g->nodes[i].ref == sn->route_table;
			cr_expect(found, "%s: route table of subnet %s not drawn in it", path, sn->name);
		}
	}
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];
		int n = node_of(g, "ep:", e->name), want;

		cr_assert_neq(n, VL_NONE, "%s: endpoint %s not drawn", path, e->name);
		cr_expect_eq(g->nodes[n].ref, (int)i);
		if (e->kind == VL_EP_INTERNET)
			want = vl_graph_find_cluster(g, "internet");
		else if (e->kind == VL_EP_ONPREM)
			want = cluster_of(g, "onprem:", lab->local_gateways[e->owner].name, NULL);
		else
			want = cluster_of(g, "subnet:", lab->vnets[lab->subnets[e->subnet].vnet].name,
					  lab->subnets[e->subnet].name);
		cr_expect(vl_graph_cluster_within(g, g->nodes[n].cluster, want), "%s: %s is outside its box",
			  path, e->name);
		if (e->kind == VL_EP_POD) {
			/* a virtual-node pod is a container group of the virtual node's subnet: its own box */
			int k = cluster_of(g, e->virtual_node ? "vnode:" : "aks:", lab->aks[e->owner].name, NULL);

			cr_expect_eq(g->nodes[n].cluster, k, "%s: pod %s is not in its cluster's box", path,
				     e->name);
			cr_expect(has_edge(g, VL_GE_POD, (struct vl_gend){false, n},
					   (struct vl_gend){false, e->virtual_node
									? node_of(g, "vk:", lab->aks[e->owner].name)
									: node_of(g, "ep:", lab->eps[e->node].name)},
					   NULL),
				  "%s: pod %s is not tied to its node", path, e->name);
		}
		if (e->nic_nsg != VL_NONE && e->nic == (int)i) {
			bool found = false;

			for (size_t k = 0; k < g->n_edges; k++) {
				const struct vl_gedge *ed = &g->edges[k];

				if (ed->kind != VL_GE_NIC_NSG || ed->b.index != n)
					continue;
				found = g->nodes[ed->a.index].kind == VL_GN_NSG &&
					g->nodes[ed->a.index].ref == e->nic_nsg &&
					g->nodes[ed->a.index].cluster == want;
			}
			cr_expect(found, "%s: NIC NSG %s of %s not drawn on it", path,
				  lab->nsgs[e->nic_nsg].name, e->name);
		}
	}
	for (size_t v = 0; v < lab->n_vnets; v++)
		for (size_t p = 0; p < lab->vnets[v].n_peerings; p++) {
			int r = lab->vnets[v].peerings[p].remote;
			const struct vl_gedge *e = NULL;
			struct vl_gend a = {true, vnet_c[v]}, b = {true, vnet_c[r]};

			if (vl_eff_peered(lab, (int)v, r)) {
				cr_expect(has_edge(g, VL_GE_PEERING, a, b, &e) ||
					      has_edge(g, VL_GE_PEERING, b, a, &e),
					  "%s: peering %s not drawn", path, lab->vnets[v].peerings[p].name);
				if (e) {
					cr_expect(!e->directed);
					cr_expect(strstr(e->label, "Connected"), "%s: %s", path, e->label);
				}
			} else {
				cr_expect(has_edge(g, VL_GE_PEERING, a, b, &e),
					  "%s: one-sided peering not drawn", path);
				if (e)
					cr_expect(e->directed && e->weak && strstr(e->label, "Initiated"),
						  "%s", e->label);
			}
		}
	for (size_t c = 0; c < lab->n_connections; c++) {
		int gw = node_of(g, "gw:", lab->gateways[lab->connections[c].gateway].name);
		int lg = node_of(g, "lgw:", lab->local_gateways[lab->connections[c].local_gateway].name);

		cr_assert(gw != VL_NONE && lg != VL_NONE, "%s: gateways of connection not drawn", path);
		cr_expect_eq(g->clusters[g->nodes[gw].cluster].kind, VL_GC_SUBNET);
		cr_expect(has_edge(g, VL_GE_CONNECTION, (struct vl_gend){false, gw},
				   (struct vl_gend){false, lg}, NULL),
			  "%s: connection %s not drawn", path, lab->connections[c].name);
	}
	for (size_t f = 0; f < lab->eff->n_frontends; f++) {
		const struct vl_frontend *fe = &lab->eff->frontends[f];
		int n = VL_NONE;

		for (size_t i = 0; i < g->n_nodes; i++)
			if (g->nodes[i].kind == VL_GN_FRONTEND && g->nodes[i].ref == (int)f)
				n = (int)i;
		cr_assert_neq(n, VL_NONE, "%s: frontend not drawn", path);
		for (size_t b = 0; b < fe->n_backends; b++) {
			const struct vl_gedge *e = NULL;

			cr_expect(has_edge(g, VL_GE_BACKEND, (struct vl_gend){false, n},
					   (struct vl_gend){
					       false, node_of(g, "ep:", lab->eps[fe->backends[b].node].name)},
					   &e),
				  "%s: backend not drawn", path);
			if (e)
				cr_expect_eq(e->weak, !fe->backends[b].healthy);
		}
	}
	free(vnet_c);
}

Test(graph, every_shipped_topology_is_drawn_as_its_model_says)
{
	glob_t gl = shipped();

	for (size_t i = 0; i < gl.gl_pathc; i++) {
		struct topo t = load(gl.gl_pathv[i]);

		check_structure(gl.gl_pathv[i], t.lab, t.g);
		topo_free(&t);
	}
	globfree(&gl);
}

/* What the shipped files hold, by name: a test of the checks above as much as of the graph. */
Test(graph, the_shipped_files_hold_what_they_should)
{
	struct topo t = load("topologies/kubenet-hybrid.yaml");
	const struct vl_graph *g = t.g;
	int hub = vl_graph_find_cluster(g, "vnet:hub"), spoke = vl_graph_find_cluster(g, "vnet:spoke");
	const struct vl_gedge *e = NULL;
	int gws = vl_graph_find_cluster(g, "subnet:hub/GatewaySubnet");

	cr_assert(hub != VL_NONE && spoke != VL_NONE && gws != VL_NONE);
	cr_assert(has_edge(g, VL_GE_PEERING, (struct vl_gend){true, hub}, (struct vl_gend){true, spoke}, &e));
	cr_expect_str_eq(e->label, "peering Connected\ngateway transit");
	cr_expect_eq(g->nodes[vl_graph_find_node(g, "gw:hub-vpn")].cluster, gws);
	cr_expect_eq(g->nodes[vl_graph_find_node(g, "ep:observer")].cluster,
		     vl_graph_find_cluster(g, "aks:aks"));
	cr_expect_neq(vl_graph_find_node(g, "rt:aks:aks@spoke/aks"), VL_NONE, "the kubenet route table");
	cr_expect(strstr(g->nodes[vl_graph_find_node(g, "rt:aks:aks@spoke/aks")].label,
			 "10.244.1.0/24 → aks-node-1"));
	topo_free(&t);

	t = load("topologies/azure-cni-nsg.yaml");
	g = t.g;
	{
		int nsg = vl_graph_find_node(g, "nicnsg:aks-agentpool-nsg@aks-vnet/aks");
		int node = vl_graph_find_node(g, "ep:akscni-node-0");
		int fe = vl_graph_find_node(g, "fe:akscni/kuard");
		int svc = vl_graph_find_node(g, "svc:akscni/kuard");

		cr_assert(nsg != VL_NONE && node != VL_NONE && fe != VL_NONE && svc != VL_NONE);
		cr_expect(has_edge(g, VL_GE_NIC_NSG, (struct vl_gend){false, nsg},
				   (struct vl_gend){false, node}, NULL));
		cr_expect(has_edge(g, VL_GE_BACKEND, (struct vl_gend){false, fe},
				   (struct vl_gend){false, node}, &e));
		cr_expect(!e->weak, "the probe passes in the shipped file");
		cr_expect(has_edge(g, VL_GE_SELECTS, (struct vl_gend){false, svc},
				   (struct vl_gend){false, vl_graph_find_node(g, "ep:kuard-1")}, NULL));
		cr_expect_eq(g->nodes[fe].cluster, vl_graph_find_cluster(g, "internet"));
		cr_expect(strstr(g->nodes[nsg].label, "1 rule"), "cloud-provider-azure's rule: %s",
			  g->nodes[nsg].label);
	}
	topo_free(&t);
}

static const char one_sided[] =
    "name: gr1\n"
    "vnets:\n"
    "  - name: a\n"
    "    addressSpace: [10.1.0.0/16]\n"
    "    subnets:\n"
    "      - {name: s, addressPrefix: 10.1.1.0/24, routeTable: rt}\n"
    "      - {name: nva, addressPrefix: 10.1.2.0/24}\n"
    "      - {name: empty, addressPrefix: 10.1.3.0/24}\n"
    "      - name: out\n"
    "        addressPrefix: 10.1.4.0/24\n"
    "        natGateway: {name: ngw, publicIpAddresses: [203.0.113.200]}\n"
    "    virtualNetworkPeerings:\n"
    "      - {name: a-to-b, remoteVirtualNetwork: b}\n"
    "  - name: b\n"
    "    addressSpace: [10.2.0.0/16]\n"
    "    subnets:\n"
    "      - {name: s, addressPrefix: 10.2.1.0/24}\n"
    "routeTables:\n"
    "  - name: rt\n"
    "    routes:\n"
    "      - {name: all, addressPrefix: 0.0.0.0/0, nextHopType: VirtualAppliance, "
    "nextHopIpAddress: 10.1.2.4}\n"
    "vms:\n"
    "  - {name: vm1, subnet: a/s, publicIpAddress: true}\n"
    "  - {name: fw, subnet: nva, enableIpForwarding: true}\n"
    "  - {name: vm2, subnet: b/s}\n"
    "  - {name: vm3, subnet: out}\n";

Test(graph, one_sided_peering_route_table_appliance_public_ip_empty_subnet)
{
	struct vl_lab *lab = th_load(one_sided);
	struct vl_graph *g;
	const struct vl_gedge *e = NULL;
	int rt, fw, pip, vm1, empty;

	cr_assert_eq(vl_graph_build(lab, &g), 0);
	check_structure("one_sided", lab, g);
	cr_assert(has_edge(g, VL_GE_PEERING, (struct vl_gend){true, vl_graph_find_cluster(g, "vnet:a")},
			   (struct vl_gend){true, vl_graph_find_cluster(g, "vnet:b")}, &e));
	cr_expect(e->directed && e->weak);
	cr_expect_str_eq(e->label, "peering a-to-b\nInitiated");
	rt = vl_graph_find_node(g, "rt:rt@a/s");
	fw = vl_graph_find_node(g, "ep:fw");
	cr_assert(rt != VL_NONE && fw != VL_NONE);
	cr_expect(strstr(g->nodes[rt].label, "0.0.0.0/0 → VirtualAppliance 10.1.2.4"), "%s",
		  g->nodes[rt].label);
	cr_expect(has_edge(g, VL_GE_NEXT_HOP, (struct vl_gend){false, rt}, (struct vl_gend){false, fw}, NULL),
		  "the route table points at the appliance");
	cr_expect(strstr(g->nodes[fw].label, "IP forwarding"));
	pip = vl_graph_find_node(g, "pip:vm1");
	vm1 = vl_graph_find_node(g, "ep:vm1");
	cr_assert(pip != VL_NONE);
	cr_expect(
	    has_edge(g, VL_GE_PUBLIC_IP, (struct vl_gend){false, pip}, (struct vl_gend){false, vm1}, NULL));
	{
		int ngw = vl_graph_find_node(g, "natgw:ngw@a/out");

		cr_assert_neq(ngw, VL_NONE, "the NAT gateway");
		cr_expect_eq(g->nodes[ngw].cluster, vl_graph_find_cluster(g, "subnet:a/out"));
		cr_expect_str_eq(g->nodes[ngw].label, "NAT gateway ngw\n203.0.113.200");
		cr_expect(has_edge(g, VL_GE_OUTBOUND, (struct vl_gend){false, ngw},
				   (struct vl_gend){false, vl_graph_find_node(g, "internet")}, NULL));
	}
	empty = vl_graph_find_node(g, "empty:a/empty");
	cr_assert_neq(empty, VL_NONE, "an empty subnet still gets a box");
	cr_expect_eq(g->nodes[empty].cluster, vl_graph_find_cluster(g, "subnet:a/empty"));
	vl_graph_free(g);
	vl_lab_free(lab);
}

/* A LoadBalancer whose health probe a node NSG rule denies: the backend is out (spec 15.4). */
static const char probe_denied[] =
    "name: gr2\n"
    "vnets:\n"
    "  - name: v\n"
    "    addressSpace: [10.13.0.0/16]\n"
    "    subnets:\n"
    "      - {name: aks, addressPrefix: 10.13.0.0/24}\n"
    "networkSecurityGroups:\n"
    "  - name: nodes\n"
    "    securityRules:\n"
    "      - {name: deny-probe, priority: 400, direction: Inbound, access: Deny, protocol: \"*\", "
    "sourceAddressPrefix: AzureLoadBalancer, destinationAddressPrefix: \"*\", sourcePortRange: \"*\", "
    "destinationPortRange: \"*\"}\n"
    "aksClusters:\n"
    "  - name: k\n"
    "    subnet: aks\n"
    "    networkPlugin: azure\n"
    "    nodeCount: 2\n"
    "    nodeNetworkSecurityGroup: nodes\n"
    "    pods:\n"
    "      - {name: web, replicas: 2, app: hello, ports: [80]}\n"
    "    services:\n"
    "      - {name: web, type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: 80}]}\n";

Test(graph, a_backend_whose_probe_is_denied_is_drawn_out)
{
	struct vl_lab *lab = th_load(probe_denied);
	struct vl_graph *g;
	int fe;

	cr_assert_eq(lab->eff->n_frontends, 1);
	cr_assert_eq(vl_graph_build(lab, &g), 0);
	check_structure("probe_denied", lab, g);
	fe = vl_graph_find_node(g, "fe:k/web");
	cr_assert_neq(fe, VL_NONE);
	for (size_t b = 0; b < lab->eff->frontends[0].n_backends; b++) {
		const struct vl_gedge *e = NULL;

		cr_expect(!lab->eff->frontends[0].backends[b].healthy, "the rule denies the probe");
		cr_assert(has_edge(
		    g, VL_GE_BACKEND, (struct vl_gend){false, fe},
		    (struct vl_gend){
			false, node_of(g, "ep:", lab->eps[lab->eff->frontends[0].backends[b].node].name)},
		    &e));
		cr_expect(e->weak, "an unhealthy backend is drawn dashed");
		cr_expect_str_eq(e->label, "probe fails");
	}
	vl_graph_free(g);
	vl_lab_free(lab);
}

static char *render(const struct vl_graph *g, int which)
{
	char *buf = NULL, why[320] = "";
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	cr_assert_not_null(f);
	rc = which == 0	  ? vl_graph_write_dot(g, f)
	     : which == 1 ? vl_graph_write_mermaid(g, f)
			  : vl_graph_write_svg(g, f, why, sizeof(why));
	cr_assert_eq(rc, 0, "writer %d: %s", which, why);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

static size_t count_subgraphs(Agraph_t *sg)
{
	size_t n = 0;

	for (Agraph_t *s = agfstsubg(sg); s; s = agnxtsubg(s))
		n += (strncmp(agnameof(s), "cluster", 7) == 0) + count_subgraphs(s);
	return n;
}

static bool plain_id(const char *id)
{
	for (; *id; id++)
		if (*id < 0x20 || *id >= 0x7f || strchr("\"\\%", *id))
			return false;
	return true;
}

static void check_dot(const char *what, const struct vl_graph *g, const char *dot)
{
	Agraph_t *ag = agmemread(dot);
	size_t mids = 0;

	cr_assert_not_null(ag, "%s: libcgraph cannot read the dot output:\n%s", what, dot);
	for (size_t i = 0; i < g->n_edges; i++)
		mids += g->edges[i].kind == VL_GE_PEERING && g->edges[i].label;
	cr_expect_eq((size_t)agnnodes(ag), g->n_nodes + mids, "%s: nodes", what);
	cr_expect_eq(count_subgraphs(ag), g->n_clusters, "%s: boxes", what);
	cr_expect_eq((size_t)agnedges(ag), g->n_edges + mids, "%s: edges", what);
	for (size_t i = 0; i < g->n_nodes; i++)
		if (plain_id(g->nodes[i].id))
			cr_expect_not_null(agnode(ag, g->nodes[i].id, 0), "%s: node %s lost", what,
					   g->nodes[i].id);
	agclose(ag);
}

/* Balanced subgraph/end, and every id an edge or class line uses is declared. */
static void check_mermaid(const char *what, const struct vl_graph *g, const char *m)
{
	char *copy = strdup(m), *save = NULL;
	bool *node_seen = calloc(g->n_nodes + 1, 1), *cl_seen = calloc(g->n_clusters + 1, 1);
	int depth = 0;
	size_t nodes = 0, subgraphs = 0, edges = 0;

	cr_assert(!strncmp(m, "%% vnetlab lab ", 15), "%s", m);
	cr_assert(strstr(m, "\nflowchart TB\n"));
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = line + strspn(line, " ");
		unsigned a, b;
		char ka, kb;

		if (!strncmp(l, "subgraph c", 10)) {
			cr_assert_eq(sscanf(l, "subgraph c%u[", &a), 1, "%s", l);
			cr_assert_lt(a, g->n_clusters);
			cl_seen[a] = true;
			depth++;
			subgraphs++;
		} else if (!strcmp(l, "end")) {
			depth--;
			cr_assert_geq(depth, 0, "%s: 'end' without a subgraph", what);
		} else if (sscanf(l, "n%u%c", &a, &ka) == 2 && strchr("[({>", ka)) {
			cr_assert_lt(a, g->n_nodes);
			cr_expect(!node_seen[a], "%s: n%u declared twice", what, a);
			node_seen[a] = true;
			nodes++;
		} else if (sscanf(l, "%c%u", &ka, &a) == 2 && strchr("nc", ka) && strstr(l, " -")) {
			const char *last = strrchr(l, ' ') + 1;

			cr_assert_eq(sscanf(last, "%c%u", &kb, &b), 2, "%s", l);
			cr_expect(ka == 'n' ? node_seen[a] : cl_seen[a], "%s: edge from undeclared %c%u",
				  what, ka, a);
			cr_expect(kb == 'n' ? node_seen[b] : cl_seen[b], "%s: edge to undeclared %c%u", what,
				  kb, b);
			edges++;
		}
		/* a label never carries a raw quote inside: exactly the opening and closing one */
		if (strchr(l, '"') && strncmp(l, "class", 5) && strncmp(l, "style", 5)) {
			size_t q = 0;

			for (const char *p = l; *p; p++)
				q += *p == '"';
			cr_expect_eq(q, 2, "%s: quotes in %s", what, l);
		}
	}
	cr_expect_eq(depth, 0, "%s: unbalanced subgraphs", what);
	cr_expect_eq(nodes, g->n_nodes, "%s", what);
	cr_expect_eq(subgraphs, g->n_clusters, "%s", what);
	cr_expect_eq(edges, g->n_edges, "%s", what);
	free(copy);
	free(node_seen);
	free(cl_seen);
}

/* Well-formed XML with an <svg> root, and each VNet's name in its text. */
static void check_svg(const char *what, const struct vl_lab *lab, const char *svg)
{
	xmlDocPtr doc =
	    xmlReadMemory(svg, (int)strlen(svg), "graph.svg", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr texts;

	cr_assert_not_null(doc, "%s: the SVG is not well-formed XML", what);
	cr_assert_str_eq((const char *)xmlDocGetRootElement(doc)->name, "svg");
	ctx = xmlXPathNewContext(doc);
	xmlXPathRegisterNs(ctx, BAD_CAST "s", BAD_CAST "http://www.w3.org/2000/svg");
	texts = xmlXPathEvalExpression(BAD_CAST "//s:text", ctx);
	cr_assert(texts && texts->nodesetval && texts->nodesetval->nodeNr > 0, "%s: no text in the SVG",
		  what);
	for (size_t v = 0; v < lab->n_vnets; v++) {
		char *want = text("VNet %s", lab->vnets[v].name);
		bool found = false;

		for (int i = 0; i < texts->nodesetval->nodeNr && !found; i++) {
			xmlChar *c = xmlNodeGetContent(texts->nodesetval->nodeTab[i]);

			found = c && !strcmp((const char *)c, want);
			xmlFree(c);
		}
		cr_expect(found, "%s: no text '%s' in the SVG", what, want);
		free(want);
	}
	xmlXPathFreeObject(texts);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
}

Test(graph, every_format_of_every_shipped_topology_parses)
{
	glob_t gl = shipped();

	for (size_t i = 0; i < gl.gl_pathc; i++) {
		struct topo t = load(gl.gl_pathv[i]);
		char *dot = render(t.g, 0), *again = render(t.g, 0), *m = render(t.g, 1),
		     *svg = render(t.g, 2);

		cr_expect_str_eq(dot, again, "%s: the same lab, another dot text", gl.gl_pathv[i]);
		check_dot(gl.gl_pathv[i], t.g, dot);
		check_mermaid(gl.gl_pathv[i], t.g, m);
		check_svg(gl.gl_pathv[i], t.lab, svg);
		free(dot);
		free(again);
		free(m);
		free(svg);
		topo_free(&t);
	}
	globfree(&gl);
}

/* No byte of a control character, a C1 control or a bidi override reaches the output raw. */
static void assert_no_raw_controls(const char *what, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		cr_assert(*p >= 0x20 || *p == '\n', "%s: raw 0x%02x at %td", what, *p, (const char *)p - s);
		cr_assert(*p != 0x7f, "%s: raw DEL", what);
		cr_assert(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f), "%s: raw C1 control", what);
		cr_assert(!(p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xae), "%s: raw U+202E", what);
	}
}

/* Names the loader would refuse, put straight into the model: the writers must hold anyway. */
Test(graph, names_that_break_formats_or_terminals_are_escaped)
{
	static const char evil[] = "q\"b\\n\x1b]0;owned\x07<b>&lt;|x|]}\xc2\x9b\xe2\x80\xae\xff\nend";
	struct vl_lab *lab = th_load(one_sided);
	struct vl_graph *g;
	char *dot, *m, *svg;
	Agraph_t *ag;

	free(lab->vnets[0].name);
	lab->vnets[0].name = strdup(evil);
	free(lab->name);
	lab->name = strdup(evil);
	cr_assert_eq(vl_graph_build(lab, &g), 0);
	dot = render(g, 0);
	m = render(g, 1);
	svg = render(g, 2);
	assert_no_raw_controls("dot", dot);
	assert_no_raw_controls("mermaid", m);
	assert_no_raw_controls("svg", svg);
	check_dot("evil", g, dot);
	check_mermaid("evil", g, m);
	ag = agmemread(dot);
	cr_assert_not_null(ag);
	/* an odd id reads back as its %XX form, whole */
	cr_expect_not_null(
	    agnode(ag, "rt:rt@q%22b%5Cn%1B]0;owned%07<b>&lt;|x|]}%C2%9B%E2%80%AE%FF%0Aend/s", 0),
	    "the route table's id did not read back");
	agclose(ag);
	/* SVG shows the text as written: "&lt;" stays four characters, the control as \x1b */
	{
		xmlDocPtr doc =
		    xmlReadMemory(svg, (int)strlen(svg), "e.svg", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
		xmlChar *all;

		cr_assert_not_null(doc, "evil SVG is not well-formed:\n%s", svg);
		all = xmlNodeGetContent(xmlDocGetRootElement(doc));
		cr_expect(strstr((const char *)all,
				 "VNet q\"b\\n\\x1b]0;owned\\x07<b>&lt;|x|]}\\u009b\\u202e\\xff"),
			  "the VNet's name as text: %s", all);
		xmlFree(all);
		xmlFreeDoc(doc);
	}
	free(dot);
	free(m);
	free(svg);
	vl_graph_free(g);
	vl_lab_free(lab);
}

/* docs/diagrams holds a picture of every shipped topology (`make diagrams`), of that topology. */
Test(graph, docs_have_a_diagram_of_every_shipped_topology)
{
	glob_t gl = shipped();

	for (size_t i = 0; i < gl.gl_pathc; i++) {
		char *name = text("docs/diagrams/%s", gl.gl_pathv[i] + strlen("topologies/")), *svg, *p;
		struct topo t = load(gl.gl_pathv[i]);
		int st;

		for (p = name + strlen("docs/diagrams/"); *p; p++)
			if (*p == '/')
				*p = '-';
		strcpy(name + strlen(name) - strlen(".yaml"), ".svg");
		svg = th_run(&st, "cat '%s' 2>&1", name);
		cr_assert_eq(st, 0, "%s: no %s (make diagrams): %s", gl.gl_pathv[i], name, svg);
		check_svg(name, t.lab, svg);
		cr_expect(strstr(svg, t.lab->name), "%s: not a picture of lab %s", name, t.lab->name);
		free(svg);
		free(name);
		topo_free(&t);
	}
	globfree(&gl);
}
