// SPDX-License-Identifier: MIT
/*
 * `up --dry-run` prints each namespace's nftables ruleset in `nft -f` syntax (DESIGN.md's CLI
 * contract): it must be the table `up` builds. For each topology the lab is brought up, each
 * ruleset of the dry run is loaded by `nft -f` into a scratch namespace (`unshare --net`, gone when
 * the command ends), and `nft list table` of the two must be the same once counters, the order of
 * a set's elements and the contents of dynamic sets (the log limits' buckets) are set aside.
 * Every namespace of the lab with a table must have its ruleset in the dry run. Rootless too.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"

TestSuite(dryrun, .fini = th_lab_down, .timeout = 240);

struct buf {
	char *s;
	size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		cr_assert_not_null(b->s);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "elements = { a, b,\n c }" (body: what is between the braces) with its elements sorted. */
static void put_sorted_elements(struct buf *o, const char *indent, size_t ilen, char *body)
{
	char **el = NULL;
	size_t n = 0;
	int depth = 0;
	char *start = body;

	for (char *p = body;; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}')
			depth--;
		if (*p == '\0' || (*p == ',' && depth == 0)) {
			char *e = start, *end = p;

			while (*e == ' ' || *e == '\t' || *e == '\n')
				e++;
			while (end > e && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
				end--;
			if (end > e) {
				el = realloc(el, (n + 1) * sizeof(*el));
				el[n++] = strndup(e, (size_t)(end - e));
			}
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	qsort(el, n, sizeof(*el), cmp_str);
	put(o, indent, ilen);
	put(o, "elements = { ", 13);
	for (size_t i = 0; i < n; i++) {
		if (i)
			put(o, ", ", 2);
		put(o, el[i], strlen(el[i]));
		free(el[i]);
	}
	put(o, " }\n", 3);
	free(el);
}

/*
 * A listing as the comparison sees it: no handles, no counter values, each set's elements in
 * one sorted list, and a dynamic set's elements (what traffic put there) left out.
 */
static char *normalise(const char *listing)
{
	struct buf o = {0};
	bool dynamic = false;
	const char *p = listing;

	put(&o, "", 0);
	while (*p) {
		const char *nl = strchr(p, '\n'), *t;
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, len), *h;

		p += len + (nl ? 1 : 0);
		if ((h = strstr(line, " # handle ")))
			*h = '\0';
		for (char *c; (c = strstr(line, "counter packets "));) {
			char *e = strstr(c, " bytes ");

			cr_assert_not_null(e, "%s", line);
			e += 7;
			e += strspn(e, "0123456789");
			memmove(c + 7, e, strlen(e) + 1);
		}
		t = line + strspn(line, "\t ");
		if (!strncmp(t, "set ", 4) || !strncmp(t, "map ", 4))
			dynamic = false;
		if (!strncmp(t, "flags ", 6) && strstr(t, "dynamic"))
			dynamic = true;
		if (!strncmp(t, "elements = { ", 13)) {
			struct buf body = {0};
			size_t ilen = (size_t)(t - line);
			int depth = 1;
			const char *q = t + 13;

			put(&body, "", 0);
			/* up to the brace that closes the list, over as many lines as it takes */
			for (;;) {
				for (; *q; q++) {
					depth += *q == '{';
					depth -= *q == '}';
					if (!depth)
						break;
					put(&body, q, 1);
				}
				if (!depth || !*p)
					break;
				nl = strchr(p, '\n');
				len = nl ? (size_t)(nl - p) : strlen(p);
				free(line);
				line = strndup(p, len);
				p += len + (nl ? 1 : 0);
				put(&body, " ", 1);
				q = line;
			}
			if (dynamic)
				put(&o, "\t\t(elements of a dynamic set)\n", 30);
			else
				put_sorted_elements(&o, "\t\t", ilen ? 2 : 0, body.s);
			free(body.s);
		} else {
			put(&o, line, strlen(line));
			put(&o, "\n", 1);
		}
		free(line);
	}
	return o.s;
}

/* The first line where a and b differ, with its neighbours, for the failure's message. */
static char *first_difference(const char *a, const char *b)
{
	char *msg = NULL;
	int line = 1;
	size_t i = 0, from;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n')
			line++;
		i++;
	}
	from = i;
	for (int k = 0; k < 3 && from > 0; from--)
		if (a[from - 1] == '\n' && ++k == 3)
			break;
	cr_assert(asprintf(&msg,
			   "line %d:\n--- kernel (what up built)\n%.400s\n--- nft -f of the dry run\n%.400s",
			   line, a + from, b + from) > 0);
	return msg;
}

/* `nft list table ip vnetlab` of namespace ns; NULL when it has none. */
static char *list_table(const char *ns)
{
	int st;
	char *out = th_run(&st, "ip netns exec %s nft list table ip vnetlab 2>&1", ns);

	if (st) {
		free(out);
		return NULL;
	}
	return out;
}

/* One ruleset of the dry run against its namespace; the number of differences (0 or 1). The
 * text is loaded in a network namespace of its own that ends with the command (a user namespace
 * too when not root): nothing is left behind, whatever happens. */
static int compare_one(const char *ns, const char *text, struct buf *report)
{
	char *path = th_write_temp(text), *kernel, *printed, *a, *b;
	int st, bad = 0;

	printed = th_run(&st, "%s sh -c 'nft -f %s && nft list table ip vnetlab' 2>&1",
			 geteuid() ? "unshare --user --map-root-user --net" : "unshare --net", path);
	unlink(path);
	free(path);
	kernel = list_table(ns);
	if (st || !kernel) {
		char *m;

		cr_assert(asprintf(&m, "%s: %s\n%s\n", ns,
				   st ? "nft -f refused the dry run's ruleset" : "no table in the lab",
				   printed) > 0);
		put(report, m, strlen(m));
		free(m);
		free(printed);
		free(kernel);
		return 1;
	}
	a = normalise(kernel);
	b = normalise(printed);
	if (strcmp(a, b)) {
		char *d = first_difference(a, b);

		put(report, ns, strlen(ns));
		put(report, ": ", 2);
		put(report, d, strlen(d));
		put(report, "\n", 1);
		free(d);
		bad = 1;
	}
	free(a);
	free(b);
	free(kernel);
	free(printed);
	return bad;
}

/* Is namespace ns one the dry run has a ruleset for ("\n# <ns>: ")? */
static bool printed_for(const char *dry, const char *ns)
{
	char pat[128];

	snprintf(pat, sizeof(pat), "\n# %s: ", ns);
	return strstr(dry, pat) != NULL;
}

/*
 * Bring up th_lab's file (written by th_lab_write), and compare every ruleset of its dry run;
 * `want` rulesets at least. Fails on any difference. The dry run's text (the caller frees it).
 */
static char *up_and_compare(size_t want)
{
	struct buf report = {0};
	char *dry, *out, *nss, *line, *save = NULL;
	size_t n = 0, bad = 0;
	int st;

	dry = th_run(&st, "%s up --dry-run %s 2>&1", th_vnetlab(), th_lab.file);
	cr_assert_eq(st, 0, "up --dry-run: %s", dry);
	out = th_run(&st, "%s up %s 2>&1", th_vnetlab(), th_lab.file);
	cr_assert_eq(st, 0, "up: %s", out);
	free(out);
	put(&report, "", 0);
	/* "\n# <ns>: <kind> ruleset\n<text>" up to the next such line */
	for (char *h = strstr(dry, "\n# "); h; h = strstr(h, "\n# ")) {
		char ns[96], *colon, *eol, *next, *text;

		h += 3;
		colon = strstr(h, ": ");
		eol = strchr(h, '\n');
		if (!colon || !eol || colon > eol || strncmp(eol - 8, " ruleset", 8))
			continue;
		snprintf(ns, sizeof(ns), "%.*s", (int)(colon - h), h);
		next = strstr(eol, "\n# ");
		text = strndup(eol + 1, next ? (size_t)(next - eol) : strlen(eol + 1));
		bad += (size_t)compare_one(ns, text, &report);
		free(text);
		n++;
	}
	cr_assert_geq(n, want, "the dry run has %zu rulesets:\n%s", n, dry);
	/* and no namespace of the lab has a table the dry run left out */
	/* (a rootless lab's namespaces are its own: the plan's list of them, "netns  <name>", then) */
	if (th_rootless()) {
		struct buf l = {0};

		put(&l, "", 0);
		for (const char *q = dry; (q = strstr(q, "\nnetns "));) {
			q += 7;
			q += strspn(q, " ");
			put(&l, q, strcspn(q, " \n"));
			put(&l, "\n", 1);
		}
		nss = l.s;
	} else {
		nss = th_run(&st, "ip netns list | awk '{print $1}' | grep '^vl-%s-'", th_lab.name);
	}
	for (line = strtok_r(nss, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = list_table(line);

		if (t && !printed_for(dry, line)) {
			put(&report, line, strlen(line));
			put(&report, ": has a table, the dry run prints none\n", 39);
			bad++;
		}
		free(t);
	}
	free(nss);
	cr_assert_eq(bad, 0, "%zu of %zu rulesets differ from the kernel's:\n%s", bad, n, report.s);
	free(report.s);
	return dry;
}

/* A topology file of tests/data/good, its `name:` line dropped and its imports made absolute. */
static char *data_file(const char *file)
{
	char cwd[512], path[600], *text, *out, *body;
	size_t cap, n = 0;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "tests/data/good/%s", file);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: run from the repository root", path);
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	cap = (size_t)len * 2 + 4096;
	out = calloc(1, cap);
	body = strstr(text, "\nname: ");
	body = !strncmp(text, "name: ", 6) ? strchr(text, '\n') + 1
	       : body			   ? strchr(body + 1, '\n') + 1
					   : text;
	for (const char *p = body; *p;) {
		const char *hit = strstr(p, "../azure/");

		if (!hit) {
			n += (size_t)snprintf(out + n, cap - n, "%s", p);
			break;
		}
		n += (size_t)snprintf(out + n, cap - n, "%.*s%s/tests/data/azure/", (int)(hit - p), p, cwd);
		p = hit + strlen("../azure/");
	}
	free(text);
	return out;
}

/* A VNet with an instance public IP, a NAT gateway and a NIC NSG: the edge's DNAT and SNAT maps. */
Test(dryrun, public_ip_and_nat_gateway)
{
	th_lab_write(
	    "dra",
	    "vnets:\n"
	    "  - name: v\n"
	    "    addressSpace: [10.72.0.0/16]\n"
	    "    subnets:\n"
	    "      - {name: pip, addressPrefix: 10.72.1.0/24}\n"
	    "      - name: nat\n"
	    "        addressPrefix: 10.72.2.0/24\n"
	    "        natGateway: {name: ngw, publicIpAddresses: [198.51.100.121]}\n"
	    "networkSecurityGroups:\n"
	    "  - name: vmnsg\n"
	    "    securityRules:\n"
	    "      - {name: echo, priority: 100, direction: Inbound, access: Allow, protocol: Tcp,\n"
	    "         sourceAddressPrefix: Internet, sourcePortRange: '*',\n"
	    "         destinationAddressPrefix: 10.72.1.10, destinationPortRange: '7'}\n"
	    "vms:\n"
	    "  - {name: vm, subnet: pip, privateIpAddress: 10.72.1.10, publicIpAddress: 198.51.100.120,\n"
	    "     networkSecurityGroup: vmnsg, app: echo, ports: [7]}\n"
	    "  - {name: vm2, subnet: pip, publicIpAddress: 198.51.100.122}\n"
	    "  - {name: natvm, subnet: nat}\n"
	    "internet:\n"
	    "  hosts: [{name: srv, address: 203.0.113.51, app: echo, ports: [7]}]\n");
	free(up_and_compare(1));
}

/* LoadBalancer Services on an Azure CNI cluster: the frontends' backend marks (a hash of two
 * backends, and one), the cluster's outbound IP, and kube-proxy's chains on each node. */
Test(dryrun, load_balancer_on_aks)
{
	th_lab_write("drb",
		     "vnets:\n"
		     "  - name: v\n"
		     "    addressSpace: [10.73.0.0/16]\n"
		     "    subnets:\n"
		     "      - {name: aks, addressPrefix: 10.73.0.0/24}\n"
		     "aksClusters:\n"
		     "  - name: k\n"
		     "    subnet: aks\n"
		     "    networkPlugin: azure\n"
		     "    nodeCount: 2\n"
		     "    outboundIp: 198.51.100.132\n"
		     "    pods:\n"
		     "      - {name: a, replicas: 2, app: hello, ports: [8080]}\n"
		     "      - {name: l, node: 1, app: hello, ports: [8080]}\n"
		     "    services:\n"
		     "      - {name: web, type: LoadBalancer, selector: a, port: 80, targetPort: 8080,\n"
		     "         loadBalancerIP: 198.51.100.130}\n"
		     "      - {name: loc, type: LoadBalancer, selector: l, port: 81, targetPort: 8080,\n"
		     "         loadBalancerIP: 198.51.100.131, externalTrafficPolicy: Local}\n"
		     "      - {name: dns, type: LoadBalancer, selector: a, port: 53, targetPort: 8053,\n"
		     "         protocol: UDP, loadBalancerIP: 198.51.100.133}\n"
		     "      - {name: inner, selector: a, port: 90, targetPort: 8080}\n"
		     "internet:\n"
		     "  hosts: [{name: client, address: 203.0.113.61}]\n");
	free(up_and_compare(3));
}

/* kubenet with Calico network policy (a peer set, one address, ports) and a Service of the
 * policy's pod (kube-proxy's hairpin beside the policy chains). */
Test(dryrun, kubenet_with_network_policy)
{
	th_lab_write(
	    "drc",
	    "vnets:\n"
	    "  - name: v\n"
	    "    addressSpace: [10.74.0.0/16]\n"
	    "    subnets:\n"
	    "      - {name: aks, addressPrefix: 10.74.0.0/24}\n"
	    "      - {name: jump, addressPrefix: 10.74.1.0/24}\n"
	    "vms:\n"
	    "  - {name: jump, subnet: jump, privateIpAddress: 10.74.1.4, app: echo, ports: [7]}\n"
	    "aksClusters:\n"
	    "  - name: c\n"
	    "    subnet: aks\n"
	    "    networkPlugin: kubenet\n"
	    "    networkPolicy: calico\n"
	    "    nodeCount: 2\n"
	    "    namespaces: [{name: myproj, labels: {project: myproject}}]\n"
	    "    pods:\n"
	    "      - {name: db, labels: {role: db}, app: hello, ports: [6379], node: 0}\n"
	    "      - {name: fe, labels: {role: frontend}, app: hello, ports: [80], node: 1}\n"
	    "      - {name: mp, namespace: myproj, labels: {role: any}, app: hello, ports: [80], node: 1}\n"
	    "    services:\n"
	    "      - {name: dbs, selector: {role: db}, port: 6379, targetPort: 6379}\n"
	    "    networkPolicies:\n"
	    "      - apiVersion: networking.k8s.io/v1\n"
	    "        kind: NetworkPolicy\n"
	    "        metadata: {name: db, namespace: default}\n"
	    "        spec:\n"
	    "          podSelector: {matchLabels: {role: db}}\n"
	    "          policyTypes: [Ingress, Egress]\n"
	    "          ingress:\n"
	    "            - from:\n"
	    "                - ipBlock: {cidr: 10.74.1.0/24, except: [10.74.1.5/32]}\n"
	    "                - namespaceSelector: {matchLabels: {project: myproject}}\n"
	    "              ports: [{protocol: TCP, port: 6379}]\n"
	    "            - from: [{podSelector: {matchLabels: {role: frontend}}}]\n"
	    "          egress:\n"
	    "            - to: [{ipBlock: {cidr: 10.74.1.4/32}}]\n"
	    "              ports: [{protocol: UDP, port: 7000, endPort: 7010}]\n"
	    "            - to: [{ipBlock: {cidr: 10.74.1.0/24}}]\n");
	free(up_and_compare(3));
}

/* The topologies of tests/data: a subnet NSG; ASGs, service tags and a peered VNet; the whole
 * schema (hub and spoke, imported NSGs, two clusters); peerings without forwarded traffic and
 * appliances (routing); a kubenet cluster. */
Test(dryrun, nsg_topologies_of_tests_data)
{
	static const char *const files[] = {"nsg.yaml", "asg.yaml", "full.yaml", "routing.yaml", "kubenet.yaml"};
	static const size_t want[] = {1, 2, 5, 3, 3};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *body = data_file(files[i]);

		th_lab_write("drd", body);
		free(body);
		free(up_and_compare(want[i]));
		th_lab_down();
	}
}

/* An NSG past 32 rules each way (its chains cut into chunks, plain and keyed), with list sets and
 * a platform rule. */
Test(dryrun, long_nsg_in_chunks)
{
	struct buf y = {0};
	char *dry;

	put(&y, "", 0);
	{
		static const char head[] =
		    "vnets:\n"
		    "  - name: v\n"
		    "    addressSpace: [10.75.0.0/16]\n"
		    "    subnets:\n"
		    "      - {name: a, addressPrefix: 10.75.1.0/24, networkSecurityGroup: big}\n"
		    "vms:\n"
		    "  - {name: vm1, subnet: a, publicIpAddress: 203.0.113.78}\n"
		    "  - {name: vm2, subnet: a}\n"
		    "networkSecurityGroups:\n"
		    "  - name: big\n"
		    "    securityRules:\n";

		put(&y, head, strlen(head));
	}
	for (int i = 0; i < 90; i++) {
		char r[640], ports1[32], portsn[64];
		int n;

		snprintf(ports1, sizeof(ports1), ": '%d'", 1000 + i);
		snprintf(portsn, sizeof(portsn), "s: ['%d', '%d-%d', '%d']", 1000 + i, 2000 + i, 2010 + i,
			 3000 + i);

		n = snprintf(r, sizeof(r),
			     "      - {name: r%d, priority: %d, direction: %s, access: %s, protocol: %s,\n"
			     "         %s, sourcePortRange: '*', destinationAddressPrefix: '*',\n"
			     "         destinationPortRange%s}\n",
			     i, 100 + i, i % 2 ? "Inbound" : "Outbound", i % 3 ? "Allow" : "Deny",
			     i % 4 ? "Tcp" : "'*'",
			     i % 7 ? "sourceAddressPrefix: '*'"
				   : "sourceAddressPrefixes: [10.76.0.0/28, 10.76.0.64/28, 192.168.9.0/24]",
			     i % 5 ? ports1 : portsn);
		put(&y, r, (size_t)n);
	}
	/* a run of rules that each match one protocol, address and port: keyed chunks (a map each) */
	for (int i = 0; i < 45; i++) {
		char r[320];
		int n = snprintf(r, sizeof(r),
				 "      - {name: k%d, priority: %d, direction: Inbound, access: %s, protocol: Tcp,\n"
				 "         sourceAddressPrefix: '*', sourcePortRange: '*',\n"
				 "         destinationAddressPrefix: 10.75.1.%d, destinationPortRange: '%d'}\n",
				 i, 2000 + i, i % 3 ? "Allow" : "Deny", 4 + i % 3, 5000 + i);

		put(&y, r, (size_t)n);
	}
	{
		static const char dns[] = "      - {name: nodns, priority: 4000, direction: Outbound, "
					  "access: Deny, protocol: '*',\n"
					  "         sourceAddressPrefix: '*', sourcePortRange: '*', "
					  "destinationAddressPrefix: AzurePlatformDNS,\n"
					  "         destinationPortRange: '*'}\n";

		put(&y, dns, strlen(dns));
	}
	th_lab_write("dre", y.s);
	free(y.s);
	dry = up_and_compare(1);
	cr_assert(strstr(dry, "\tchain in-big/c") && strstr(dry, "\tmap in-big/k") && strstr(dry, "\tchain plat-big {"),
		  "no plain chunk, keyed chunk or platform chain:\n%s", dry);
	free(dry);
}
