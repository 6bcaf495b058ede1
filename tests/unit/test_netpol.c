// SPDX-License-Identifier: MIT
/*
 * NetworkPolicy semantics (effective/netpol.c) against the flow cases of spec 16.5 and the
 * examples of the Kubernetes documentation, one row each; the loader's located errors.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/helpers.h"
#include "vnetlab/effective.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"
#include "vnetlab/nft.h"

/* Pods of every setup: namespace default (db, frontend, backend), myproj (project=myproject),
 * alice and bob (user=alice / none), development and production (AKS docs' backend-policy). */
#define NP_LAB                                                                                               \
	"name: np\n"                                                                                         \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.20.0.0/16]\n"                                                                 \
	"    subnets: [{name: aks, addressPrefix: 10.20.0.0/24}]\n"                                          \
	"aksClusters:\n"                                                                                     \
	"  - name: c\n"                                                                                      \
	"    subnet: aks\n"                                                                                  \
	"    networkPlugin: azure\n"                                                                         \
	"    networkPolicy: %s\n"                                                                            \
	"    serviceCidr: 10.96.0.0/16\n"                                                                    \
	"    nodeCount: 2\n"                                                                                 \
	"    %s\n"                                                                                           \
	"    namespaces:\n"                                                                                  \
	"      - {name: myproj, labels: {project: myproject}}\n"                                             \
	"      - {name: alice, labels: {user: alice}}\n"                                                     \
	"      - {name: bob}\n"                                                                              \
	"      - {name: development, labels: {purpose: development}}\n"                                      \
	"      - {name: production, labels: {purpose: production}}\n"                                        \
	"    pods:\n"                                                                                        \
	"      - {name: db, labels: {role: db}, app: hello, ports: [6379, 6380], node: 0}\n"                 \
	"      - {name: frontend, labels: {role: frontend}, node: 1}\n"                                      \
	"      - {name: backend, labels: {role: backend}, node: 1}\n"                                        \
	"      - {name: mp, namespace: myproj, labels: {role: any}}\n"                                       \
	"      - {name: aclient, namespace: alice, labels: {role: client}}\n"                                \
	"      - {name: aother, namespace: alice, labels: {role: other}}\n"                                  \
	"      - {name: bclient, namespace: bob, labels: {role: client}}\n"                                  \
	"      - {name: target, namespace: bob, labels: {role: target}, app: hello, ports: [80]}\n"          \
	"      - {name: dback, namespace: development, labels: {app: webapp, role: backend}, app: hello, "   \
	"ports: [80]}\n"                                                                                     \
	"      - {name: dfront, namespace: development, labels: {app: webapp, role: frontend}}\n"            \
	"      - {name: dplain, namespace: development, labels: {}}\n"                                       \
	"      - {name: pfront, namespace: production, labels: {app: webapp, role: frontend}}\n"             \
	"    networkPolicies:\n"                                                                             \
	"%s"

/* P1: the Kubernetes docs' test-network-policy (spec 16.5). */
static const char p1[] = "      - apiVersion: networking.k8s.io/v1\n"
			 "        kind: NetworkPolicy\n"
			 "        metadata: {name: test-network-policy, namespace: default}\n"
			 "        spec:\n"
			 "          podSelector: {matchLabels: {role: db}}\n"
			 "          policyTypes: [Ingress, Egress]\n"
			 "          ingress:\n"
			 "            - from:\n"
			 "                - ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}\n"
			 "                - namespaceSelector: {matchLabels: {project: myproject}}\n"
			 "                - podSelector: {matchLabels: {role: frontend}}\n"
			 "              ports: [{protocol: TCP, port: 6379}]\n"
			 "          egress:\n"
			 "            - to: [{ipBlock: {cidr: 10.0.0.0/24}}]\n"
			 "              ports: [{protocol: TCP, port: 5978}]\n";

static const char one_peer[] = "      - kind: NetworkPolicy\n"
			       "        metadata: {name: and, namespace: bob}\n"
			       "        spec:\n"
			       "          podSelector: {matchLabels: {role: target}}\n"
			       "          ingress:\n"
			       "            - from:\n"
			       "                - namespaceSelector: {matchLabels: {user: alice}}\n"
			       "                  podSelector: {matchLabels: {role: client}}\n";

static const char two_peers[] = "      - kind: NetworkPolicy\n"
				"        metadata: {name: or, namespace: bob}\n"
				"        spec:\n"
				"          podSelector: {matchLabels: {role: target}}\n"
				"          ingress:\n"
				"            - from:\n"
				"                - namespaceSelector: {matchLabels: {user: alice}}\n"
				"                - podSelector: {matchLabels: {role: client}}\n";

static const char deny_ingress[] = "      - kind: NetworkPolicy\n"
				   "        metadata: {name: default-deny-ingress}\n"
				   "        spec: {podSelector: {}, policyTypes: [Ingress]}\n";

static const char allow_all_ingress[] =
    "      - kind: NetworkPolicy\n"
    "        metadata: {name: default-deny-ingress}\n"
    "        spec: {podSelector: {}, policyTypes: [Ingress]}\n"
    "      - kind: NetworkPolicy\n"
    "        metadata: {name: allow-all-ingress}\n"
    "        spec: {podSelector: {}, ingress: [{}], policyTypes: [Ingress]}\n";

static const char deny_egress[] = "      - kind: NetworkPolicy\n"
				  "        metadata: {name: default-deny-egress}\n"
				  "        spec: {podSelector: {}, policyTypes: [Egress]}\n";

static const char allow_all_egress[] =
    "      - kind: NetworkPolicy\n"
    "        metadata: {name: allow-all-egress}\n"
    "        spec: {podSelector: {}, egress: [{}], policyTypes: [Egress]}\n";

static const char deny_all[] = "      - kind: NetworkPolicy\n"
			       "        metadata: {name: default-deny-all}\n"
			       "        spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n";

static const char multi_port[] = "      - kind: NetworkPolicy\n"
				 "        metadata: {name: multi-port-egress}\n"
				 "        spec:\n"
				 "          podSelector: {matchLabels: {role: db}}\n"
				 "          policyTypes: [Egress]\n"
				 "          egress:\n"
				 "            - to: [{ipBlock: {cidr: 10.0.0.0/24}}]\n"
				 "              ports: [{protocol: TCP, port: 32000, endPort: 32768}]\n";

static const char backend_empty[] = "      - kind: NetworkPolicy\n"
				    "        metadata: {name: backend-policy, namespace: development}\n"
				    "        spec:\n"
				    "          podSelector: {matchLabels: {app: webapp, role: backend}}\n"
				    "          ingress: []\n";

static const char backend_front[] =
    "      - kind: NetworkPolicy\n"
    "        metadata: {name: backend-policy, namespace: development}\n"
    "        spec:\n"
    "          podSelector: {matchLabels: {app: webapp, role: backend}}\n"
    "          ingress:\n"
    "            - from:\n"
    "                - namespaceSelector: {}\n"
    "                  podSelector: {matchLabels: {app: webapp, role: frontend}}\n";

static const char by_name[] = "      - kind: NetworkPolicy\n"
			      "        metadata: {name: from-alice-by-name, namespace: bob}\n"
			      "        spec:\n"
			      "          podSelector: {matchLabels: {role: target}}\n"
			      "          ingress:\n"
			      "            - from: [{namespaceSelector: {matchLabels: "
			      "{kubernetes.io/metadata.name: alice}}}]\n";

static const char expressions[] =
    "      - kind: NetworkPolicy\n"
    "        metadata: {name: not-other, namespace: bob}\n"
    "        spec:\n"
    "          podSelector: {matchLabels: {role: target}}\n"
    "          ingress:\n"
    "            - from:\n"
    "                - namespaceSelector: {}\n"
    "                  podSelector: {matchExpressions: [{key: role, operator: NotIn, "
    "values: [other]}]}\n";

static const char udp_only[] = "      - kind: NetworkPolicy\n"
			       "        metadata: {name: udp-only, namespace: bob}\n"
			       "        spec:\n"
			       "          podSelector: {matchLabels: {role: target}}\n"
			       "          ingress: [{ports: [{protocol: UDP}]}]\n";

static struct vl_lab *np_load(const char *engine, const char *extra, const char *policies)
{
	size_t len = sizeof(NP_LAB) + strlen(engine) + strlen(extra) + strlen(policies) + 16;
	char *y = malloc(len);
	struct vl_lab *lab;

	cr_assert_not_null(y);
	snprintf(y, len, NP_LAB, engine, extra, policies);
	lab = th_load(y);
	free(y);
	return lab;
}

static uint32_t addr_of(const struct vl_lab *lab, const char *who)
{
	uint32_t ip;
	int ep;

	if (!vl_ip_parse(who, &ip))
		return ip;
	ep = vl_lab_find_endpoint(lab, who);
	cr_assert_neq(ep, VL_NONE, "no endpoint %s", who);
	return lab->eps[ep].ip;
}

/* Source egress, then destination ingress (spec 16.1.3); the first deny decides. */
static bool np_flow(const struct vl_lab *lab, const char *from, const char *to, enum vl_proto proto,
		    uint16_t port, char *policy, size_t plen)
{
	int src = vl_lab_find_endpoint(lab, from), dst = vl_lab_find_endpoint(lab, to);
	struct vl_np_verdict v;

	snprintf(policy, plen, "-");
	if (src != VL_NONE && lab->eps[src].kind == VL_EP_POD) {
		cr_assert_eq(vl_np_decide(lab, src, VL_DIR_OUT, addr_of(lab, to), proto, port, &v), 0);
		if (v.policy != VL_NONE)
			snprintf(policy, plen, "%s", lab->aks[v.cluster].policies[v.policy].name);
		if (v.result == VL_NP_DENY)
			return false;
	}
	if (dst != VL_NONE && lab->eps[dst].kind == VL_EP_POD) {
		cr_assert_eq(vl_np_decide(lab, dst, VL_DIR_IN, addr_of(lab, from), proto, port, &v), 0);
		if (v.policy != VL_NONE)
			snprintf(policy, plen, "%s", lab->aks[v.cluster].policies[v.policy].name);
		if (v.result == VL_NP_DENY)
			return false;
	}
	return true;
}

struct np_case {
	const char *what;
	const char *engine;
	const char *extra;
	const char *policies;
	const char *from, *to;
	enum vl_proto proto;
	uint16_t port;
	bool allow;
	const char *policy; /* the deciding policy, "-" for none */
};

static const struct np_case cases[] = {
    {"16.5#1 frontend to db 6379", "azure", "", p1, "frontend", "db", VL_PROTO_TCP, 6379, true,
     "test-network-policy"},
    {"16.5#2 frontend to db 6380 (port)", "azure", "", p1, "frontend", "db", VL_PROTO_TCP, 6380, false,
     "test-network-policy"},
    {"16.5#3 namespace project=myproject", "azure", "", p1, "mp", "db", VL_PROTO_TCP, 6379, true,
     "test-network-policy"},
    {"16.5#4 backend to db", "azure", "", p1, "backend", "db", VL_PROTO_TCP, 6379, false,
     "test-network-policy"},
    {"16.5#5 172.17.0.9 to db", "azure", "", p1, "172.17.0.9", "db", VL_PROTO_TCP, 6379, true,
     "test-network-policy"},
    {"16.5#6 172.17.1.9 to db (except)", "azure", "", p1, "172.17.1.9", "db", VL_PROTO_TCP, 6379, false,
     "test-network-policy"},
    {"16.5#7 db to 10.0.0.20:5978", "azure", "", p1, "db", "10.0.0.20", VL_PROTO_TCP, 5978, true,
     "test-network-policy"},
    {"16.5#8 db to 10.0.0.20:443", "azure", "", p1, "db", "10.0.0.20", VL_PROTO_TCP, 443, false,
     "test-network-policy"},
    {"16.5#8 db to a pod on UDP 53", "azure", "", p1, "db", "frontend", VL_PROTO_UDP, 53, false,
     "test-network-policy"},
    {"16.5#10 one peer: client in alice", "azure", "", one_peer, "aclient", "target", VL_PROTO_TCP, 80, true,
     "and"},
    {"16.5#10 one peer: other in alice", "azure", "", one_peer, "aother", "target", VL_PROTO_TCP, 80, false,
     "and"},
    {"16.5#10 one peer: client in bob", "azure", "", one_peer, "bclient", "target", VL_PROTO_TCP, 80, false,
     "and"},
    {"16.5#11 two peers: client in alice", "azure", "", two_peers, "aclient", "target", VL_PROTO_TCP, 80,
     true, "or"},
    {"16.5#11 two peers: other in alice", "azure", "", two_peers, "aother", "target", VL_PROTO_TCP, 80, true,
     "or"},
    {"16.5#11 two peers: client in bob", "azure", "", two_peers, "bclient", "target", VL_PROTO_TCP, 80, true,
     "or"},
    {"16.5#12 default-deny-ingress: into the ns", "azure", "", deny_ingress, "mp", "db", VL_PROTO_TCP, 6379,
     false, "default-deny-ingress"},
    {"16.5#12 default-deny-ingress: out of the ns", "azure", "", deny_ingress, "db", "mp", VL_PROTO_TCP, 80,
     true, "-"},
    {"16.5#13 multi-port-egress 32500", "azure", "", multi_port, "db", "10.0.0.5", VL_PROTO_TCP, 32500, true,
     "multi-port-egress"},
    {"16.5#13 multi-port-egress 32769", "azure", "", multi_port, "db", "10.0.0.5", VL_PROTO_TCP, 32769, false,
     "multi-port-egress"},
    {"16.5#13 legacy NPM ignores endPort", "azure", "npmCompat: legacy", multi_port, "db", "10.0.0.5",
     VL_PROTO_TCP, 32500, false, "multi-port-egress"},
    {"16.5#13 legacy NPM still opens port", "azure", "npmCompat: legacy", multi_port, "db", "10.0.0.5",
     VL_PROTO_TCP, 32000, true, "multi-port-egress"},
    {"16.5#13 calico honours endPort", "calico", "npmCompat: legacy", multi_port, "db", "10.0.0.5",
     VL_PROTO_TCP, 32500, true, "multi-port-egress"},
    {"16.5#14 kubelet from the pod's own node", "azure", "", deny_all, "c-node-0", "db", VL_PROTO_TCP, 6379,
     true, "-"},
    {"16.5#14 another node is not exempt", "azure", "", deny_all, "c-node-1", "db", VL_PROTO_TCP, 6379, false,
     "default-deny-all"},
    {"16.5#15 backend-policy ingress: []", "azure", "", backend_empty, "dfront", "dback", VL_PROTO_TCP, 80,
     false, "backend-policy"},
    {"16.5#16 development/frontend", "azure", "", backend_front, "dfront", "dback", VL_PROTO_TCP, 80, true,
     "backend-policy"},
    {"16.5#16 production/frontend", "azure", "", backend_front, "pfront", "dback", VL_PROTO_TCP, 80, true,
     "backend-policy"},
    {"16.5#16 development/unlabelled", "azure", "", backend_front, "dplain", "dback", VL_PROTO_TCP, 80, false,
     "backend-policy"},
    {"k8s docs: allow-all-ingress beside default deny", "azure", "", allow_all_ingress, "mp", "db",
     VL_PROTO_TCP, 6379, true, "allow-all-ingress"},
    {"k8s docs: default-deny-egress", "azure", "", deny_egress, "db", "mp", VL_PROTO_TCP, 80, false,
     "default-deny-egress"},
    {"k8s docs: default-deny-egress, other namespace free", "azure", "", deny_egress, "mp", "db",
     VL_PROTO_TCP, 6379, true, "-"},
    {"k8s docs: allow-all-egress", "azure", "", allow_all_egress, "db", "203.0.113.9", VL_PROTO_TCP, 443,
     true, "allow-all-egress"},
    {"k8s docs: default-deny-all, egress", "azure", "", deny_all, "db", "frontend", VL_PROTO_TCP, 80, false,
     "default-deny-all"},
    {"k8s docs: default-deny-all, ICMP too", "azure", "", deny_all, "frontend", "db", VL_PROTO_ICMP, 0, false,
     "default-deny-all"},
    {"k8s docs: namespace by name label", "azure", "", by_name, "aother", "target", VL_PROTO_TCP, 80, true,
     "from-alice-by-name"},
    {"k8s docs: namespace by name label, other ns", "azure", "", by_name, "bclient", "target", VL_PROTO_TCP,
     80, false, "from-alice-by-name"},
    {"matchExpressions NotIn", "azure", "", expressions, "aother", "target", VL_PROTO_TCP, 80, false,
     "not-other"},
    {"matchExpressions NotIn, others", "azure", "", expressions, "aclient", "target", VL_PROTO_TCP, 80, true,
     "not-other"},
    {"protocol: a UDP rule does not open TCP", "azure", "", udp_only, "aclient", "target", VL_PROTO_TCP, 80,
     false, "udp-only"},
    {"protocol: a UDP rule opens every UDP port", "azure", "", udp_only, "aclient", "target", VL_PROTO_UDP,
     5353, true, "udp-only"},
    {"protocol: ports exclude ICMP", "azure", "", udp_only, "aclient", "target", VL_PROTO_ICMP, 0, false,
     "udp-only"},
    {"networkPolicy none enforces nothing", "none", "", deny_all, "frontend", "db", VL_PROTO_TCP, 6379, true,
     "-"},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))
/* Criterion may run each case in a new process image: pass indexes, not pointers. */
static int case_ids[N_CASES];

ParameterizedTestParameters(netpol, flow_cases)
{
	for (size_t i = 0; i < N_CASES; i++)
		case_ids[i] = (int)i;
	return cr_make_param_array(int, case_ids, N_CASES);
}

ParameterizedTest(int *id, netpol, flow_cases)
{
	const struct np_case *c = &cases[*id];
	struct vl_lab *lab = np_load(c->engine, c->extra, c->policies);
	char policy[128];
	bool got = np_flow(lab, c->from, c->to, c->proto, c->port, policy, sizeof(policy));

	cr_expect_eq(got, c->allow, "%s: %s -> %s: got %s", c->what, c->from, c->to, got ? "allow" : "deny");
	cr_expect_str_eq(policy, c->policy, "%s: decided by %s", c->what, policy);
	vl_lab_free(lab);
}

Test(netpol, isolation_per_direction_and_selection)
{
	struct vl_lab *lab = np_load("azure", "", p1);
	int db = vl_lab_find_endpoint(lab, "db"), fe = vl_lab_find_endpoint(lab, "frontend");
	const struct vl_np_pod *np = &lab->eff->np[db];

	cr_assert(np->enforced);
	cr_assert(np->isolated[VL_DIR_IN] && np->isolated[VL_DIR_OUT]);
	cr_assert_eq(np->n_policies, 1);
	cr_assert(!lab->eff->np[fe].isolated[VL_DIR_IN] && !lab->eff->np[fe].isolated[VL_DIR_OUT]);
	/* 172.17.0.0/16 minus 172.17.1.0/24 as prefixes, the namespace's pod and the frontend: one entry */
	cr_assert_eq(np->n_allow[VL_DIR_IN], 1);
	cr_assert_eq(np->allow[VL_DIR_IN][0].lo, 6379);
	cr_assert_eq(np->allow[VL_DIR_IN][0].n_peers, 8 + 2);
	vl_lab_free(lab);
}

/* ---- loader: located errors ---- */

#define ERR_LAB(PLUGIN, ENGINE, POLICY)                                                                      \
	"name: npe\n"                                                                                        \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.20.0.0/16]\n"                                                                 \
	"    subnets: [{name: aks, addressPrefix: 10.20.0.0/24}]\n"                                          \
	"aksClusters:\n"                                                                                     \
	"  - name: c\n"                                                                                      \
	"    subnet: aks\n"                                                                                  \
	"    networkPlugin: " PLUGIN "\n"                                                                    \
	"    networkPolicy: " ENGINE "\n"                                                                    \
	"    serviceCidr: 10.96.0.0/16\n"                                                                    \
	"    networkPolicies:\n"                                                                             \
	"      - kind: NetworkPolicy\n"                                                                      \
	"        metadata: {name: p}\n"                                                                      \
	"        spec:\n" POLICY

struct err_case {
	const char *what;
	const char *yaml;
	const char *want; /* "line:col: start of the message" */
};

static const struct err_case errs[] = {
    {"azure with kubenet", ERR_LAB("kubenet", "azure", "          podSelector: {}\n"),
     "10:20: (NetworkPolicyAzureNotSupportedForKubenet) NetworkPolicy azure is not supported for network "
     "plugin kubenet"},
    {"unknown engine", ERR_LAB("azure", "cilium", "          podSelector: {}\n"),
     "10:20: invalid networkPolicy"},
    {"a selector of the wrong type", ERR_LAB("azure", "azure", "          podSelector: [role]\n"),
     "16:24: expected a mapping for podSelector"},
    {"missing podSelector", ERR_LAB("azure", "azure", "          policyTypes: [Ingress]\n"),
     "16:11: missing 'podSelector'"},
    {"SCTP",
     ERR_LAB("azure", "azure",
	     "          podSelector: {}\n          ingress: [{ports: [{protocol: SCTP}]}]\n"),
     "17:41: protocol SCTP is not supported"},
    {"endPort without port",
     ERR_LAB("azure", "azure", "          podSelector: {}\n          ingress: [{ports: [{endPort: 90}]}]\n"),
     "17:40: endPort needs a port"},
    {"named port with endPort",
     ERR_LAB("azure", "azure",
	     "          podSelector: {}\n          ingress: [{ports: [{port: http, endPort: 90}]}]\n"),
     "17:52: endPort needs a numeric port"},
    {"endPort below port",
     ERR_LAB("azure", "azure",
	     "          podSelector: {}\n          ingress: [{ports: [{port: 100, endPort: 90}]}]\n"),
     "17:51: endPort 90 is below port 100"},
    {"except outside the cidr",
     ERR_LAB("azure", "azure",
	     "          podSelector: {}\n          ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: "
	     "[10.1.0.0/24]}}]}]\n"),
     "17:68: except 10.1.0.0/24 must be strictly within the cidr 10.0.0.0/16"},
    {"ipBlock with a selector",
     ERR_LAB("azure", "azure",
	     "          podSelector: {}\n          ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16}, "
	     "podSelector: {}}]}]\n"),
     "17:39: ipBlock cannot be combined"},
    {"an empty peer",
     ERR_LAB("azure", "azure", "          podSelector: {}\n          ingress: [{from: [{}]}]\n"),
     "17:29: from entry needs a podSelector"},
    {"bad policyTypes",
     ERR_LAB("azure", "azure", "          podSelector: {}\n          policyTypes: [Inbound]\n"),
     "17:25: invalid policyTypes entry 'Inbound'"},
    {"unknown key in spec", ERR_LAB("azure", "azure", "          podSelector: {}\n          ingres: []\n"),
     "17:11: unknown key 'ingres' in spec"},
    {"bad operator",
     ERR_LAB("azure", "azure", "          podSelector: {matchExpressions: [{key: a, operator: Is}]}\n"),
     "16:63: invalid operator"},
};

#define N_ERRS (sizeof(errs) / sizeof(errs[0]))
static int err_ids[N_ERRS];

ParameterizedTestParameters(netpol, loader_errors)
{
	for (size_t i = 0; i < N_ERRS; i++)
		err_ids[i] = (int)i;
	return cr_make_param_array(int, err_ids, N_ERRS);
}

ParameterizedTest(int *id, netpol, loader_errors)
{
	const struct err_case *c = &errs[*id];
	const char *got = th_load_error(c->yaml);

	cr_expect(!strncmp(got, c->want, strlen(c->want)), "%s: got %s", c->what, got);
}

Test(netpol, wrong_kind_in_networkpolicies)
{
	const char *got = th_load_error(ERR_LAB("azure", "azure", "          podSelector: {}\n"));

	cr_assert_str_eq(got, "(loaded without error)");
	got = th_load_error("name: npe\nvnets:\n  - name: v\n    addressSpace: [10.20.0.0/16]\n"
			    "    subnets: [{name: aks, addressPrefix: 10.20.0.0/24}]\n"
			    "aksClusters:\n  - name: c\n    subnet: aks\n    networkPlugin: azure\n"
			    "    networkPolicies:\n      - kind: Service\n        metadata: {name: p}\n");
	cr_assert(strstr(got, "11:15: expected kind NetworkPolicy"), "%s", got);
}

Test(netpol, live_apply_replaces_and_rolls_back)
{
	struct vl_lab *lab = np_load("azure", "", p1);
	struct vl_error err = {0};
	static const char good[] = "kind: NetworkPolicy\nmetadata: {name: test-network-policy}\n"
				   "spec: {podSelector: {matchLabels: {role: db}}, ingress: [{}]}\n"
				   "---\n"
				   "kind: NetworkPolicy\nmetadata: {name: second}\nspec: {podSelector: {}}\n";
	static const char bad[] = "kind: NetworkPolicy\nmetadata: {name: third}\nspec: {podSelector: {}}\n"
				  "---\n"
				  "kind: NetworkPolicy\nmetadata: {name: fourth}\nspec: {podSelector: 3}\n";
	char policy[64];

	cr_assert_eq(vl_netpol_load_buffer("live.yaml", good, strlen(good), lab, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(lab->aks[0].n_policies, 2);
	cr_assert_eq(vl_eff_netpol_build(lab), 0);
	/* replaced: ingress from anyone on any port now */
	cr_assert(np_flow(lab, "backend", "db", VL_PROTO_TCP, 6380, policy, sizeof(policy)));
	cr_assert_neq(vl_netpol_load_buffer("bad.yaml", bad, strlen(bad), lab, 0, &err), 0);
	cr_assert_eq(err.line, 7, "%d:%d %s", err.line, err.col, err.msg);
	cr_assert_eq(lab->aks[0].n_policies, 2, "a failed apply keeps the policies as they were");
	cr_assert_eq(vl_netpol_delete(lab, 0, "default", "second"), 0);
	cr_assert_eq(vl_netpol_delete(lab, 0, "default", "second"), -ENOENT);
	vl_lab_free(lab);
}

/* ---- the evaluator: hop order (spec 16.2) and addresses after NAT (16.5#17) ---- */

#define LB_LAB(ETP)                                                                                          \
	"name: nplb\n"                                                                                       \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.20.0.0/16]\n"                                                                 \
	"    subnets: [{name: aks, addressPrefix: 10.20.0.0/24}]\n"                                          \
	"internet: {hosts: [{name: client, address: 203.0.113.9}]}\n"                                        \
	"aksClusters:\n"                                                                                     \
	"  - name: c\n"                                                                                      \
	"    subnet: aks\n"                                                                                  \
	"    networkPlugin: azure\n"                                                                         \
	"    networkPolicy: azure\n"                                                                         \
	"    serviceCidr: 10.96.0.0/16\n"                                                                    \
	"    nodeCount: 2\n"                                                                                 \
	"    pods:\n"                                                                                        \
	"      - {name: db, labels: {app: db, role: db}, app: hello, ports: [6379], node: 1}\n"              \
	"      - {name: fe, labels: {role: frontend}, node: 0}\n"                                            \
	"    services:\n"                                                                                    \
	"      - {name: db, type: LoadBalancer, selector: {app: db}, externalTrafficPolicy: " ETP ",\n"      \
	"         ports: [{port: 6379, targetPort: 6379}]}\n"                                                \
	"    networkPolicies:\n"                                                                             \
	"      - kind: NetworkPolicy\n"                                                                      \
	"        metadata: {name: clients}\n"                                                                \
	"        spec:\n"                                                                                    \
	"          podSelector: {matchLabels: {role: db}}\n"                                                 \
	"          ingress:\n"                                                                               \
	"            - from: [{ipBlock: {cidr: 203.0.113.0/24}}, {podSelector: {matchLabels: {role: "        \
	"frontend}}}]\n"                                                                                     \
	"      - kind: NetworkPolicy\n"                                                                      \
	"        metadata: {name: fe-out}\n"                                                                 \
	"        spec: {podSelector: {matchLabels: {role: frontend}}, egress: [{}]}\n"

static uint32_t frontend_ip(const struct vl_lab *lab)
{
	cr_assert_eq(lab->eff->n_frontends, 1);
	return lab->eff->frontends[0].ip;
}

Test(netpol_eval, hops_in_order_egress_nsgs_ingress)
{
	struct vl_lab *lab = th_load(LB_LAB("Cluster"));
	int fe = vl_lab_find_endpoint(lab, "fe"), db = vl_lab_find_endpoint(lab, "db");
	struct vl_verdict v;

	cr_assert_eq(vl_eval_path(lab, fe, lab->eps[db].ip, VL_PROTO_TCP, 0, 6379, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED);
	cr_assert_geq(v.n_hops, 4);
	cr_assert_eq(v.hops[0].type, VL_HT_POLICY);
	cr_assert_eq(v.hops[0].dir, VL_DIR_OUT);
	cr_assert_eq(v.hops[0].np, VL_NP_ALLOW);
	cr_assert_str_eq(lab->aks[0].policies[v.hops[0].policy].name, "fe-out");
	cr_assert_eq(v.hops[v.n_hops - 1].type, VL_HT_POLICY);
	cr_assert_eq(v.hops[v.n_hops - 1].dir, VL_DIR_IN);
	cr_assert_str_eq(lab->aks[0].policies[v.hops[v.n_hops - 1].policy].name, "clients");
	for (size_t i = 1; i + 1 < v.n_hops; i++)
		cr_assert_neq(v.hops[i].type, VL_HT_POLICY, "hop %zu", i);
	cr_assert_str_eq(lab->aks[0].policies[v.policy].name, "clients");
	vl_lab_free(lab);
}

Test(netpol_eval, case17_cluster_masquerade_hides_the_client)
{
	struct vl_lab *lab = th_load(LB_LAB("Cluster"));
	int client = vl_lab_find_endpoint(lab, "client");
	struct vl_verdict v;

	cr_assert_eq(vl_eval_path(lab, client, frontend_ip(lab), VL_PROTO_TCP, 0, 6379, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DENIED, "%s", v.why);
	cr_assert_eq(v.nsg, VL_NONE);
	cr_assert_str_eq(lab->aks[0].policies[v.policy].name, "clients");
	cr_assert_eq(v.hops[v.n_hops - 1].flow.src, lab->eps[vl_lab_find_endpoint(lab, "c-node-0")].ip,
		     "the policy sees the node that masqueraded");
	vl_lab_free(lab);
}

Test(netpol_eval, case17_local_keeps_the_client)
{
	struct vl_lab *lab = th_load(LB_LAB("Local"));
	int client = vl_lab_find_endpoint(lab, "client");
	struct vl_verdict v;

	cr_assert_eq(vl_eval_path(lab, client, frontend_ip(lab), VL_PROTO_TCP, 0, 6379, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED, "%s", v.why);
	cr_assert_eq(v.hops[v.n_hops - 1].type, VL_HT_POLICY);
	cr_assert_eq(v.hops[v.n_hops - 1].np, VL_NP_ALLOW);
	cr_assert_eq(v.hops[v.n_hops - 1].flow.src, 0xcb007109u /* 203.0.113.9 */);
	vl_lab_free(lab);
}

Test(netpol_eval, egress_deny_ends_the_path_at_the_source)
{
	struct vl_lab *lab = np_load("azure", "", p1);
	int db = vl_lab_find_endpoint(lab, "db");
	struct vl_verdict v;

	cr_assert_eq(vl_eval_path(lab, db, 0xcb007109u, VL_PROTO_TCP, 0, 443, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DENIED);
	cr_assert_eq(v.access, VL_DENY);
	cr_assert_eq(v.n_hops, 1);
	cr_assert_eq(v.hops[0].type, VL_HT_POLICY);
	cr_assert_eq(v.hops[0].dir, VL_DIR_OUT);
	cr_assert_eq(v.hops[0].np, VL_NP_DENY);
	vl_lab_free(lab);
}

Test(netpol_eval, engine_none_adds_no_hop)
{
	struct vl_lab *lab = np_load("none", "", p1);
	int fe = vl_lab_find_endpoint(lab, "backend"), db = vl_lab_find_endpoint(lab, "db");
	struct vl_verdict v;

	cr_assert_eq(vl_eval_path(lab, fe, lab->eps[db].ip, VL_PROTO_TCP, 0, 6379, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED);
	for (size_t i = 0; i < v.n_hops; i++)
		cr_assert_neq(v.hops[i].type, VL_HT_POLICY);
	vl_lab_free(lab);
}

/* ---- the node ruleset (pure: the serialised transaction) ---- */

static bool batch_has(const struct vl_lab *lab, const char *node, const char *what)
{
	void *buf = NULL;
	size_t len = 0;
	char why[256] = "";
	bool has;

	cr_assert_eq(vl_nft_masq_batch(lab, vl_lab_find_endpoint(lab, node), &buf, &len, why, sizeof(why)), 0, "%s",
		     why);
	has = memmem(buf, len, what, strlen(what)) != NULL;
	free(buf);
	return has;
}

Test(netpol_nft, chains_on_the_nodes_of_isolated_pods_only)
{
	struct vl_lab *lab = np_load("azure", "", p1), *none = np_load("none", "", p1);

	/* db runs on node 0 */
	cr_assert(batch_has(lab, "c-node-0", "np-forward"));
	cr_assert(batch_has(lab, "c-node-0", "np-in/db"));
	cr_assert(batch_has(lab, "c-node-0", "np-out/db"));
	cr_assert(batch_has(lab, "c-node-0", "np:in/db"));
	cr_assert_not(batch_has(lab, "c-node-1", "np-forward"));
	cr_assert_not(batch_has(none, "c-node-0", "np-forward"));
	vl_lab_free(lab);
	vl_lab_free(none);
}
