// SPDX-License-Identifier: MIT
/*
 * Lab tests of lab/nft: commit into a namespace of our own and read the
 * result back with `nft -j list ruleset` (an independent witness). Root only;
 * the namespaces are deleted in fini whatever happened.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"
#include "vnetlab/netns.h"
#include "vnetlab/nft.h"

static const char *topo =
	"name: nftl\n"
	"vnets:\n"
	"  - name: v1\n"
	"    addressSpace: [10.1.0.0/16]\n"
	"    subnets:\n"
	"      - {name: web, addressPrefix: 10.1.0.0/24, networkSecurityGroup: web-nsg}\n"
	"      - {name: aks, addressPrefix: 10.1.2.0/24}\n"
	"networkSecurityGroups:\n"
	"  - name: web-nsg\n"
	"    securityRules:\n"
	"      - {name: allow-http, priority: 100, direction: Inbound, access: Allow, protocol: Tcp,\n"
	"         sourceAddressPrefix: Internet, sourcePortRange: '*', destinationAddressPrefix: '*',\n"
	"         destinationPortRanges: ['80', '8000-8080']}\n"
	"      - {name: deny-lists, priority: 110, direction: Inbound, access: Deny, protocol: Udp,\n"
	"         sourceAddressPrefixes: [10.1.0.4, 10.1.0.16/28, 10.1.0.40, 10.1.0.50, 10.1.0.60, 10.1.0.70,\n"
	"           10.1.0.80, 10.1.0.90, 10.1.0.100],\n"
	"         sourcePortRange: '*', destinationAddressPrefix: '*',\n"
	"         destinationPortRanges: ['1', '3', '5', '7', '9', '11', '13', '15', '17']}\n"
	"vms:\n"
	"  - {name: vm1, subnet: web}\n"
	"aksClusters:\n"
	"  - {name: k1, subnet: aks, networkPlugin: kubenet, nodeCount: 1}\n";

static char ns_fabric[64], ns_node[64];
static int fd_fabric = -1, fd_node = -1;
static struct vl_lab *lab;

static void setup(void)
{
	if (geteuid() != 0)
		return;
	snprintf(ns_fabric, sizeof(ns_fabric), "vltest-nft-%d", (int)getpid());
	snprintf(ns_node, sizeof(ns_node), "vltest-nft-%d-node", (int)getpid());
	cr_assert_eq(vl_netns_create(ns_fabric, &fd_fabric), 0);
	cr_assert_eq(vl_netns_create(ns_node, &fd_node), 0);
	lab = th_load(topo);
}

static void teardown(void)
{
	vl_nft_release();
	if (fd_fabric >= 0)
		close(fd_fabric);
	if (fd_node >= 0)
		close(fd_node);
	fd_fabric = fd_node = -1;
	if (ns_fabric[0])
		vl_netns_delete(ns_fabric);
	if (ns_node[0])
		vl_netns_delete(ns_node);
	vl_lab_free(lab);
	lab = NULL;
}

TestSuite(nft_lab, .init = setup, .fini = teardown);

static void skip_unless_root(void)
{
	th_enter_or_skip();
}

/* `nft -j list ...` inside a namespace. */
static char *witness(const char *ns, const char *what)
{
	int st;
	char *out = th_run(&st, "ip netns exec %s nft -j list %s 2>&1", ns, what);

	cr_assert_eq(st, 0, "nft list %s: %s", what, out);
	return out;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

Test(nft_lab, full_commit_is_what_nft_lists)
{
	char why[256] = "";
	char *js;

	skip_unless_root();
	cr_assert_eq(vl_nft_fabric_commit(lab, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	js = witness(ns_fabric, "ruleset");
	cr_assert(strstr(js, "\"name\": \"forward\""), "%s", js);
	cr_assert(strstr(js, "\"hook\": \"forward\""), "%s", js);
	cr_assert(strstr(js, "\"name\": \"in-web-nsg\""), "%s", js);
	cr_assert(strstr(js, "\"name\": \"out-web-nsg\""), "%s", js);
	cr_assert(strstr(js, "\"name\": \"vnet\""), "%s", js);
	cr_assert(strstr(js, "\"name\": \"tcpudp\""), "%s", js);
	cr_assert(strstr(js, "\"name\": \"nic_out\""), "%s", js);
	/* allow-http: one rule per port range; deny-lists (9x9) stays one rule with two sets. */
	cr_assert_eq(count(js, "\"comment\": \"allow-http\""), 2, "%s", js);
	cr_assert_eq(count(js, "\"comment\": \"deny-lists\""), 1, "%s", js);
	cr_assert_eq(count(js, "\"goto\": {\"target\": \"nsg_deny\"}"), 3, "deny-lists, DenyAllInBound, DenyAllOutBound: %s", js);
	cr_assert(strstr(js, "\"prefix\": \"vl-deny\", \"group\": 7"), "%s", js);
	cr_assert(strstr(js, "\"prefix\": \"vl-allow\", \"group\": 8"), "%s", js);
	cr_assert(strstr(js, "\"limit\": {\"rate\": 1000, \"burst\": 5000, \"per\": \"second\"}"), "%s", js);
	cr_assert_eq(count(js, "\"comment\": \"DenyAllInBound\""), 1, "%s", js);
	free(js);

	/* A second full commit replaces, it does not add. */
	cr_assert_eq(vl_nft_fabric_commit(lab, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	js = witness(ns_fabric, "ruleset");
	cr_assert_eq(count(js, "\"comment\": \"allow-http\""), 2, "%s", js);
	cr_assert_eq(count(js, "\"table\": {"), 1, "%s", js);
	free(js);
}

Test(nft_lab, ifname_maps_show_as_names)
{
	char why[256] = "";
	char *js;

	skip_unless_root();
	cr_assert_eq(vl_nft_fabric_commit(lab, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	js = witness(ns_fabric, "map ip vnetlab subnet_in");
	cr_assert(strstr(js, "\"n0\""), "%s", js);
	cr_assert(strstr(js, "\"target\": \"in-web-nsg\""), "%s", js);
	free(js);
}

Test(nft_lab, live_edit_of_one_nsg)
{
	char why[256] = "", mark[128];
	int g = vl_lab_find_nsg(lab, "web-nsg"), r;
	char *js;

	skip_unless_root();
	cr_assert_eq(vl_nft_fabric_commit(lab, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	r = vl_nsg_find_rule(&lab->nsgs[g], "allow-http");
	lab->nsgs[g].rules[r].access = VL_DENY;
	cr_assert_eq(vl_nft_nsg_commit_one(lab, 0, g, fd_fabric, why, sizeof(why)), 0, "%s", why);
	js = witness(ns_fabric, "chain ip vnetlab in-web-nsg");
	snprintf(mark, sizeof(mark), "\"value\": %u}}, {\"goto\": {\"target\": \"nsg_deny\"}}",
		 (unsigned)vl_rule_id("web-nsg", "allow-http"));
	cr_assert_eq(count(js, mark), 2, "%s", js);
	cr_assert_eq(count(js, "\"comment\": \"allow-http\""), 2, "the edit replaced, not appended: %s", js);
	cr_assert_eq(count(js, "\"comment\": \"DenyAllInBound\""), 1, "%s", js);
	free(js);
	js = witness(ns_fabric, "chain ip vnetlab forward");
	cr_assert(strstr(js, "\"vmap\""), "the forward chain is untouched: %s", js);
	free(js);
}

Test(nft_lab, masquerade_in_a_node)
{
	char why[256] = "";
	char *js;
	int node = -1;

	skip_unless_root();
	for (size_t i = 0; i < lab->n_eps; i++)
		if (lab->eps[i].kind == VL_EP_NODE)
			node = (int)i;
	cr_assert_eq(vl_nft_masq_commit(lab, node, fd_node, why, sizeof(why)), 0, "%s", why);
	js = witness(ns_node, "ruleset");
	cr_assert(strstr(js, "\"hook\": \"postrouting\""), "%s", js);
	cr_assert(strstr(js, "\"type\": \"nat\""), "%s", js);
	cr_assert(strstr(js, "\"masquerade\""), "%s", js);
	cr_assert(strstr(js, "\"name\": \"nonmasq\""), "%s", js);
	free(js);
}

Test(nft_lab, errors_name_the_object)
{
	char why[256] = "";
	int g = vl_lab_find_nsg(lab, "web-nsg");

	skip_unless_root();
	/* No table yet: the live edit fails and says which chain. */
	cr_assert_eq(vl_nft_nsg_commit_one(lab, 0, g, fd_fabric, why, sizeof(why)), -ENOENT);
	cr_assert(strstr(why, "in-web-nsg"), "%s", why);
}

Test(nft_lab, refuses_the_callers_own_namespace)
{
	char why[256] = "";
	int self;

	skip_unless_root();
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert(self >= 0);
	cr_assert_eq(vl_nft_fabric_commit(lab, 0, self, why, sizeof(why)), -EPERM);
	close(self);
}

Test(nft_lab, print_is_valid_nft_input)
{
	char path[] = "/tmp/vltest-nft-XXXXXX", *out;
	int fd = mkstemp(path), st;
	FILE *f;

	skip_unless_root();
	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	vl_nft_fabric_print(lab, 0, f);
	fclose(f);
	out = th_run(&st, "ip netns exec %s nft -f %s 2>&1", ns_fabric, path);
	unlink(path);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	out = witness(ns_fabric, "ruleset");
	cr_assert_eq(count(out, "\"comment\": \"allow-http\""), 2, "%s", out);
	free(out);
}

/* `nft list table` without handles: what a reader sees. */
static char *listing(const char *ns)
{
	int st;
	char *out = th_run(&st, "ip netns exec %s nft list table ip vnetlab 2>&1", ns);

	cr_assert_eq(st, 0, "%s", out);
	return out;
}

Test(nft_lab, incremental_edit_equals_a_full_commit)
{
	char why[256] = "", want[512], *edited, *full;
	int g = vl_lab_find_nsg(lab, "web-nsg");
	struct vl_nsg *nsg = &lab->nsgs[g];
	int http = vl_nsg_find_rule(nsg, "allow-http"), lists = vl_nsg_find_rule(nsg, "deny-lists");

	skip_unless_root();
	cr_assert_eq(vl_nft_fabric_commit(lab, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	/* Move deny-lists ahead of allow-http, then flip allow-http, one live edit each. */
	nsg->rules[lists].priority = 90;
	cr_assert_eq(vl_nft_nsg_commit_one(lab, 0, g, fd_fabric, why, sizeof(why)), 0, "%s", why);
	nsg->rules[http].access = VL_DENY;
	cr_assert_eq(vl_nft_nsg_commit_one(lab, 0, g, fd_fabric, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(vl_nft_nsg_commit_one(lab, 0, g, fd_fabric, why, sizeof(why)), 0, "a no-op edit: %s", why);
	edited = listing(ns_fabric);
	cr_assert_eq(vl_nft_fabric_commit(lab, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	full = listing(ns_fabric);
	cr_assert_str_eq(edited, full);
	snprintf(want, sizeof(want),
		 "goto nsg_deny comment \"deny-lists\"\n\t\tip saddr != @notinet tcp dport 80 meta mark set 0x%08x goto nsg_deny comment \"allow-http\"",
		 (uint32_t)vl_rule_id("web-nsg", "allow-http"));
	cr_assert(strstr(full, want), "%s", full);
	free(edited);
	free(full);
}

/* ---- a long NSG: chunk chains ---- */

static int strcmp_ptr(const char *const *a, const char *const *b)
{
	return strcmp(*a, *b);
}

/* `nft list table` cut into its chain and set blocks, sorted: the same table whatever order its
 * chains were made in (an edit makes its new chunks last). */
static bool has_prefix(const char *block, const char *const *prefixes, size_t n_prefixes)
{
	const char *name = block + 2; /* after "\n\t" */

	if (!prefixes)
		return true;
	name += !strncmp(name, "chain ", 6) ? 6 : !strncmp(name, "set ", 4) || !strncmp(name, "map ", 4) ? 4 : 0;
	for (size_t i = 0; i < n_prefixes; i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* The same for the blocks whose name starts with one of the prefixes (NULL: all). */
static char *sorted_blocks_of(const char *ns, const char *const *prefixes, size_t n_prefixes)
{
	char *text = listing(ns), *out, *blocks[512], *p = text;
	size_t n = 0, len = 0;

	while ((p = strstr(p, "\n\t")) && n < 512) {
		char *end = strstr(p + 2, "\n\t}");

		if (!end)
			break;
		end += 3;
		if (!has_prefix(p, prefixes, n_prefixes)) {
			p = end;
			continue;
		}
		blocks[n] = strndup(p, (size_t)(end - p));
		len += strlen(blocks[n]) + 1;
		n++;
		p = end;
	}
	qsort(blocks, n, sizeof(*blocks), (int (*)(const void *, const void *))strcmp_ptr);
	out = calloc(len + 1, 1);
	for (size_t i = 0; i < n; i++) {
		strcat(out, blocks[i]);
		free(blocks[i]);
	}
	free(text);
	return out;
}

static char *sorted_blocks(const char *ns)
{
	return sorted_blocks_of(ns, NULL, 0);
}

/* The table the edits left is the one a full commit of l makes (`what` says which edits). Returns
 * the full commit's sorted blocks, for more checks; the caller frees them. */
static char *assert_edits_equal_full(const struct vl_lab *l, const char *what)
{
	char why[256] = "", *edited = sorted_blocks(ns_fabric), *full;

	cr_assert_eq(vl_nft_fabric_commit(l, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	full = sorted_blocks(ns_fabric);
	cr_assert_str_eq(edited, full, "%s", what);
	free(edited);
	return full;
}

/* Lines of `nft list <what> ip` (chains, maps, sets) that match the extended regex `re`. */
static int count_listed(const char *ns, const char *what, const char *re)
{
	int st, n;
	char *out = th_run(&st, "ip netns exec %s nft list %s ip 2>&1 | grep -cE '%s'", ns, what, re);

	n = atoi(out);
	free(out);
	return n;
}

/* Chunk chains of `chain` (plain and keyed), and maps of its keyed chunks, in the kernel. */
static int chunk_chains(const char *ns, const char *chain)
{
	char re[256];

	snprintf(re, sizeof(re), "chain %s/[ck]", chain);
	return count_listed(ns, "chains", re);
}

static int keyed_maps(const char *ns, const char *chain)
{
	char re[256];

	snprintf(re, sizeof(re), "map %s/k", chain);
	return count_listed(ns, "maps", re);
}

/* Rule i of long_edits' NSG: keyable (Tcp, one address, one port) unless the kind says a port
 * range (plain: every rule; mixed: every 40th). */
enum long_kind { LONG_PLAIN, LONG_KEYED, LONG_MIXED };

static bool long_plain_rule(enum long_kind kind, int i)
{
	return kind == LONG_PLAIN || (kind == LONG_MIXED && i % 40 == 17);
}

/*
 * A 300-rule NSG, committed, then edited live: access flips here and there, one rule moved to the
 * front, one deleted, and (keyed or mixed) one keyed rule turned plain and one plain turned keyed,
 * which cuts a run and joins two; then cut back to 5 rules. After each stage the table is the one
 * a full commit makes (no stale or missing chunk, map or element), and the chunks of the kind are
 * there.
 */
static void long_edits(const char *name, enum long_kind kind)
{
	char why[256] = "", *yaml = NULL, *full;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	struct vl_lab *big;
	struct vl_nsg *nsg;
	int g;

	fprintf(f,
		"name: %s\nvnets:\n  - name: v\n    addressSpace: [10.9.0.0/16]\n    subnets:\n"
		"      - {name: s, addressPrefix: 10.9.0.0/24, networkSecurityGroup: big}\n"
		"networkSecurityGroups:\n  - name: big\n    securityRules:\n",
		name);
	for (int i = 0; i < 300; i++) {
		char hi[16] = "";

		if (long_plain_rule(kind, i))
			snprintf(hi, sizeof(hi), "-%d", 1001 + i);
		fprintf(f,
			"      - {name: r%d, priority: %d, direction: Inbound, access: Deny, protocol: Tcp, "
			"sourceAddressPrefix: 172.17.%d.%d, sourcePortRange: '*', destinationAddressPrefix: '*', "
			"destinationPortRange: '%d%s'}\n",
			i, 100 + i, i / 256, i % 256, 1000 + i, hi);
	}
	fputs("vms:\n  - {name: vm0, subnet: s}\n", f);
	fclose(f);
	big = th_load(yaml);
	free(yaml);
	g = vl_lab_find_nsg(big, "big");
	nsg = &big->nsgs[g];
	cr_assert_eq(vl_nft_fabric_commit(big, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	cr_assert_gt(chunk_chains(ns_fabric, "in-big"), 2);
	if (kind == LONG_PLAIN)
		cr_assert_eq(keyed_maps(ns_fabric, "in-big"), 0, "no rule can be keyed");
	else
		cr_assert_geq(keyed_maps(ns_fabric, "in-big"), kind == LONG_MIXED ? 4 : 2);
	/* flip rules here and there, move one to the front, delete one: one live edit each */
	for (int i = 10; i < 300; i += 70) {
		nsg->rules[i].access = VL_ALLOW;
		cr_assert_eq(vl_nft_nsg_commit_one(big, 0, g, fd_fabric, why, sizeof(why)), 0, "%s", why);
	}
	nsg->rules[250].priority = 99;
	cr_assert_eq(vl_nft_nsg_commit_one(big, 0, g, fd_fabric, why, sizeof(why)), 0, "%s", why);
	vl_rule_clear(&nsg->rules[120]);
	nsg->rules[120] = nsg->rules[--nsg->n_rules];
	cr_assert_eq(vl_nft_nsg_commit_one(big, 0, g, fd_fabric, why, sizeof(why)), 0, "%s", why);
	if (kind != LONG_PLAIN) { /* a keyed rule turned plain (a run cut in two), and back */
		struct vl_rule *r = &nsg->rules[vl_nsg_find_rule(nsg, "r200")];
		struct vl_port_range keep = r->dport[0];

		r->dport[0].hi = (uint16_t)(keep.lo + 5);
		cr_assert_eq(vl_nft_nsg_commit_one(big, 0, g, fd_fabric, why, sizeof(why)), 0, "%s", why);
		full = assert_edits_equal_full(big, "a run cut by a plain rule");
		free(full);
		r->dport[0] = keep;
		cr_assert_eq(vl_nft_nsg_commit_one(big, 0, g, fd_fabric, why, sizeof(why)), 0, "%s", why);
	}
	cr_assert_eq(vl_nft_nsg_commit_one(big, 0, g, fd_fabric, why, sizeof(why)), 0, "a no-op edit: %s", why);
	full = assert_edits_equal_full(big, "the edits left another table (a stale or missing chunk)");
	cr_assert(strstr(full, "comment \"r250\""));
	cr_assert_not(strstr(full, "comment \"r120\""));
	free(full);
	/* back to one chain: a short NSG holds its rules itself, and the chunks and their maps go */
	while (nsg->n_rules > 5)
		vl_rule_clear(&nsg->rules[--nsg->n_rules]);
	cr_assert_eq(vl_nft_nsg_commit_one(big, 0, g, fd_fabric, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(chunk_chains(ns_fabric, "in-big"), 0);
	cr_assert_eq(keyed_maps(ns_fabric, "in-big"), 0);
	full = assert_edits_equal_full(big, "the edits left another table than a full commit");
	free(full);
	vl_lab_free(big);
}

Test(nft_lab, long_nsg_edits_equal_a_full_commit_and_drop_stale_chunks)
{
	skip_unless_root();
	long_edits("nftll", LONG_PLAIN);
}

Test(nft_lab, keyed_nsg_edits_equal_a_full_commit_and_drop_stale_maps)
{
	skip_unless_root();
	long_edits("nftlk", LONG_KEYED);
}

Test(nft_lab, mixed_keyed_and_plain_runs_edit_as_a_full_commit)
{
	skip_unless_root();
	long_edits("nftlm", LONG_MIXED);
}

/* ---- an edit of one direction ---- */

/* The blocks of `nft -a list table` (handles shown) whose chain or set name starts with one of
 * the prefixes, in the kernel's order: what an edit that leaves them alone leaves byte for byte. */
static char *handled_blocks(const char *ns, const char *const *prefixes, size_t n_prefixes)
{
	int st;
	char *text = th_run(&st, "ip netns exec %s nft -a list table ip vnetlab 2>&1", ns), *p = text;
	char *out = calloc(strlen(text) + 1, 1);

	cr_assert_eq(st, 0, "%s", text);
	while ((p = strstr(p, "\n\t")) && out) {
		char *end = strstr(p + 2, "\n\t}");
		const char *name = p + 2;

		if (!end)
			break;
		end += 3;
		if (!strncmp(name, "chain ", 6))
			name += 6;
		else if (!strncmp(name, "set ", 4) || !strncmp(name, "map ", 4))
			name += 4;
		for (size_t i = 0; i < n_prefixes; i++)
			if (!strncmp(name, prefixes[i], strlen(prefixes[i]))) {
				strncat(out, p, (size_t)(end - p));
				break;
			}
		p = end;
	}
	free(text);
	return out;
}

/* An NSG of 80 rules each way (chunked), a list only an inbound rule has and one only an
 * outbound rule has, an outbound AzurePlatformDNS rule (a platform chain). */
static struct vl_lab *dir_lab(void)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	struct vl_lab *l;

	fputs("name: edtd\nvnets:\n  - name: v\n    addressSpace: [10.8.0.0/16]\n    subnets:\n"
	      "      - {name: s, addressPrefix: 10.8.0.0/24, networkSecurityGroup: two}\n"
	      "networkSecurityGroups:\n  - name: two\n    securityRules:\n",
	      f);
	for (int i = 0; i < 160; i++)
		fprintf(f,
			"      - {name: r%d, priority: %d, direction: %s, access: Deny, protocol: Tcp, "
			"sourceAddressPrefix: 172.18.%d.%d, sourcePortRange: '*', destinationAddressPrefix: '*', "
			"destinationPortRange: '%d'}\n",
			i, 200 + i / 2, i % 2 ? "Outbound" : "Inbound", i / 256, i % 256, 2000 + i);
	fputs("      - {name: lin, priority: 150, direction: Inbound, access: Allow, protocol: Udp,\n"
	      "         sourceAddressPrefixes: [192.0.2.1, 192.0.2.3, 192.0.2.5], sourcePortRange: '*',\n"
	      "         destinationAddressPrefix: '*', destinationPortRange: '53'}\n"
	      "      - {name: lout, priority: 150, direction: Outbound, access: Allow, protocol: Udp,\n"
	      "         sourceAddressPrefix: '*', sourcePortRange: '*', destinationPortRange: '53',\n"
	      "         destinationAddressPrefixes: [198.51.100.1, 198.51.100.3, 198.51.100.5]}\n"
	      "      - {name: dns, priority: 160, direction: Outbound, access: Deny, protocol: '*',\n"
	      "         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: AzurePlatformDNS,\n"
	      "         destinationPortRange: '*'}\n"
	      "vms:\n  - {name: vm0, subnet: s}\n",
	      f);
	fclose(f);
	l = th_load(yaml);
	free(yaml);
	return l;
}

static int count_sets(const char *ns)
{
	return count_listed(ns, "sets", "set [ap][0-9a-f]{16} ");
}

Test(nft_lab, inbound_edit_leaves_the_outbound_chains_alone)
{
	static const char *const out_side[] = {"out-two", "plat-two", "platform"};
	char why[256] = "", *before, *after, *full;
	struct vl_lab *l;
	struct vl_nsg *nsg;
	int g, r;

	skip_unless_root();
	l = dir_lab();
	g = vl_lab_find_nsg(l, "two");
	nsg = &l->nsgs[g];
	cr_assert_eq(vl_nft_fabric_commit(l, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	cr_assert_gt(chunk_chains(ns_fabric, "out-two"), 2);
	cr_assert_eq(count_sets(ns_fabric), 2, "lin's and lout's lists");
	before = handled_blocks(ns_fabric, out_side, 3);
	cr_assert(strstr(before, "chain plat-two"), "%s", before);
	/* flip an inbound rule, then drop the inbound rule that alone had a list: inbound edits */
	r = vl_nsg_find_rule(nsg, "r80");
	cr_assert_eq(nsg->rules[r].dir, VL_DIR_IN);
	nsg->rules[r].access = VL_ALLOW;
	cr_assert_eq(vl_nft_nsg_commit_dirs(l, 0, g, VL_NFT_DIR_IN, fd_fabric, why, sizeof(why)), 0, "%s", why);
	r = vl_nsg_find_rule(nsg, "lin");
	vl_rule_clear(&nsg->rules[r]);
	nsg->rules[r] = nsg->rules[--nsg->n_rules];
	cr_assert_eq(vl_nft_nsg_commit_dirs(l, 0, g, VL_NFT_DIR_IN, fd_fabric, why, sizeof(why)), 0, "%s", why);
	after = handled_blocks(ns_fabric, out_side, 3);
	cr_assert_str_eq(before, after, "an inbound edit rewrote an outbound chain");
	cr_assert_eq(count_sets(ns_fabric), 1, "lin's list went, lout's stayed");
	full = assert_edits_equal_full(l, "the inbound edits left another table than a full commit");
	free(before);
	free(after);
	free(full);
	vl_lab_free(l);
}

Test(nft_lab, edit_that_moves_a_rule_across_directions_equals_a_full_commit)
{
	static const char *const in_side[] = {"in-two"};
	char why[256] = "", *before, *after, *edited, *full;
	struct vl_lab *l;
	struct vl_nsg *nsg;
	int g, r;

	skip_unless_root();
	l = dir_lab();
	g = vl_lab_find_nsg(l, "two");
	nsg = &l->nsgs[g];
	cr_assert_eq(vl_nft_fabric_commit(l, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	before = handled_blocks(ns_fabric, in_side, 1);
	/* an outbound edit: the platform rule dropped, so its chain goes; the inbound side stays */
	r = vl_nsg_find_rule(nsg, "dns");
	vl_rule_clear(&nsg->rules[r]);
	nsg->rules[r] = nsg->rules[--nsg->n_rules];
	cr_assert_eq(vl_nft_nsg_commit_dirs(l, 0, g, VL_NFT_DIR_OUT, fd_fabric, why, sizeof(why)), 0, "%s", why);
	after = handled_blocks(ns_fabric, in_side, 1);
	cr_assert_str_eq(before, after, "an outbound edit rewrote an inbound chain");
	free(after);
	after = listing(ns_fabric);
	cr_assert_not(strstr(after, "chain plat-two"), "the platform chain stayed: %s", after);
	free(before);
	free(after);
	/* lout goes inbound (both directions change), with a new priority */
	r = vl_nsg_find_rule(nsg, "lout");
	nsg->rules[r].dir = VL_DIR_IN;
	nsg->rules[r].priority = 155;
	cr_assert_eq(vl_nft_nsg_commit_dirs(l, 0, g, VL_NFT_DIRS, fd_fabric, why, sizeof(why)), 0, "%s", why);
	edited = sorted_blocks(ns_fabric);
	cr_assert_not(strstr(edited, "chain plat-two"), "%s", edited);
	cr_assert_eq(vl_nft_fabric_commit(l, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	full = sorted_blocks(ns_fabric);
	cr_assert_str_eq(edited, full, "the edits left another table than a full commit");
	cr_assert_eq(vl_nft_nsg_commit_dirs(l, 0, g, 0, fd_fabric, why, sizeof(why)), -EINVAL);
	free(edited);
	free(full);
	vl_lab_free(l);
}

/* The rules of one chain as `nft -a` lists them (each line ends with its handle). */
static char *chain_rules(const char *ns, const char *chain)
{
	int st;
	char *out = th_run(&st, "ip netns exec %s nft -a list chain ip vnetlab %s 2>&1 | grep '# handle'", ns, chain);

	cr_assert_eq(st, 0, "%s", out);
	return out;
}

/* Lines of a that b has too. */
static int common_lines(const char *a, const char *b)
{
	char *copy = strdup(a), *save = NULL;
	int n = 0;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char want[512];

		snprintf(want, sizeof(want), "%s\n", line);
		n += strstr(b, want) != NULL;
	}
	free(copy);
	return n;
}

Test(nft_lab, one_rule_edit_replaces_one_jump_of_the_head)
{
	char why[256] = "", *before, *after, *full;
	struct vl_lab *l;
	struct vl_nsg *nsg;
	int g, r, n_head;

	skip_unless_root();
	l = dir_lab();
	g = vl_lab_find_nsg(l, "two");
	nsg = &l->nsgs[g];
	cr_assert_eq(vl_nft_fabric_commit(l, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	before = chain_rules(ns_fabric, "in-two");
	n_head = count(before, "\n") ;
	cr_assert_gt(n_head, 4, "%s", before);
	r = vl_nsg_find_rule(nsg, "r40");
	nsg->rules[r].access = VL_ALLOW;
	cr_assert_eq(vl_nft_nsg_commit_dirs(l, 0, g, VL_NFT_DIR_IN, fd_fabric, why, sizeof(why)), 0, "%s", why);
	after = chain_rules(ns_fabric, "in-two");
	/* the head's rules keep their handles but the one or two that jump to a new chunk */
	cr_assert_geq(common_lines(before, after), n_head - 2, "before:\n%s\nafter:\n%s", before, after);
	cr_assert_lt(common_lines(before, after), n_head, "no jump changed:\n%s", after);
	cr_assert_not(strstr(after, "comment"), "a head rule shows a comment: %s", after);
	full = assert_edits_equal_full(l, "the edits left another table than a full commit");
	free(before);
	free(after);
	free(full);
	vl_lab_free(l);
}

Test(nft_lab, edit_of_a_table_nft_made_equals_a_full_commit)
{
	char path[] = "/tmp/vltest-nfted-XXXXXX", why[256] = "", *out, *edited, *full;
	int fd = mkstemp(path), st, g, r;
	struct vl_lab *l;
	FILE *f;

	skip_unless_root();
	l = dir_lab();
	g = vl_lab_find_nsg(l, "two");
	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	vl_nft_fabric_print(l, 0, f);
	fclose(f);
	/* nft -f writes no fingerprints: the edit cannot tell the head's rules and writes it anew */
	out = th_run(&st, "ip netns exec %s nft -f %s 2>&1", ns_fabric, path);
	unlink(path);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	r = vl_nsg_find_rule(&l->nsgs[g], "r41");
	l->nsgs[g].rules[r].priority = 99;
	cr_assert_eq(vl_nft_nsg_commit_dirs(l, 0, g, VL_NFT_DIR_OUT, fd_fabric, why, sizeof(why)), 0, "%s", why);
	/* the printer's table is the builder's (test_dryrun): the whole table is compared */
	edited = sorted_blocks(ns_fabric);
	cr_assert(strstr(edited, "comment \"r41\""), "%s", edited);
	cr_assert_eq(vl_nft_fabric_commit(l, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	full = sorted_blocks(ns_fabric);
	cr_assert_str_eq(edited, full);
	free(edited);
	free(full);
	vl_lab_free(l);
}

Test(nft_lab, short_chains_grown_long_by_an_edit_equal_a_full_commit)
{
	char why[256] = "", *full;
	struct vl_lab *l;
	struct vl_nsg *nsg;
	size_t n;
	int g;

	skip_unless_root();
	l = dir_lab();
	g = vl_lab_find_nsg(l, "two");
	nsg = &l->nsgs[g];
	/* the kernel first has 10 rules each way (no chunks), then the edit brings all the others */
	n = nsg->n_rules;
	nsg->n_rules = 20;
	cr_assert_eq(vl_nft_fabric_commit(l, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(chunk_chains(ns_fabric, "in-two"), 0);
	nsg->n_rules = n;
	cr_assert_eq(vl_nft_nsg_commit_dirs(l, 0, g, VL_NFT_DIRS, fd_fabric, why, sizeof(why)), 0, "%s", why);
	cr_assert_gt(chunk_chains(ns_fabric, "in-two"), 2);
	full = assert_edits_equal_full(l, "the edits left another table than a full commit");
	free(full);
	vl_lab_free(l);
}

Test(nft_lab, many_one_rule_edits_in_a_row_equal_a_full_commit)
{
	char why[256] = "", *full;
	struct vl_rule *saved;
	struct vl_lab *l;
	struct vl_nsg *nsg;
	size_t n;
	int g;

	skip_unless_root();
	l = dir_lab();
	g = vl_lab_find_nsg(l, "two");
	nsg = &l->nsgs[g];
	cr_assert_eq(vl_nft_fabric_commit(l, 0, fd_fabric, why, sizeof(why)), 0, "%s", why);
	/* every rule flipped in turn, one edit each: cuts come and go, jumps are replaced, inserted
	 * between others and deleted */
	for (size_t i = 0; i < 160; i++) {
		nsg->rules[i].access = nsg->rules[i].access == VL_ALLOW ? VL_DENY : VL_ALLOW;
		cr_assert_eq(vl_nft_nsg_commit_dirs(l, 0, g, 1u << nsg->rules[i].dir, fd_fabric, why, sizeof(why)), 0,
			     "rule %zu: %s", i, why);
	}
	/* 60 rules out in the middle and back: chunks, and jumps to them, deleted and inserted */
	saved = malloc(nsg->n_rules * sizeof(*saved));
	cr_assert(saved);
	memcpy(saved, nsg->rules, nsg->n_rules * sizeof(*saved));
	n = nsg->n_rules;
	memmove(&nsg->rules[40], &nsg->rules[100], (n - 100) * sizeof(*saved));
	nsg->n_rules = n - 60;
	cr_assert_eq(vl_nft_nsg_commit_dirs(l, 0, g, VL_NFT_DIRS, fd_fabric, why, sizeof(why)), 0, "%s", why);
	memcpy(nsg->rules, saved, n * sizeof(*saved));
	nsg->n_rules = n;
	free(saved);
	cr_assert_eq(vl_nft_nsg_commit_dirs(l, 0, g, VL_NFT_DIRS, fd_fabric, why, sizeof(why)), 0, "%s", why);
	full = assert_edits_equal_full(l, "the edits left another table than a full commit");
	free(full);
	vl_lab_free(l);
}
