// SPDX-License-Identifier: MIT
/*
 * nftables commit speed: a lab whose subnet NSG has 1,000 rules, committed in
 * a throwaway namespace (vlbench-nft-<pid>). Prints the medians of 10 full
 * commits and of 10 one-rule live edits, and, for comparison, of `nft -f` of
 * the same ruleset as text. Two NSGs: "mixed" (lists, ranges, tags, `*` with
 * ports: about 1,300 nft rules and one shared set) and "simple" (one address and one port per
 * rule: 1,000 nft rules). Root only; the namespace is always removed.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vnetlab/loader.h"
#include "vnetlab/netns.h"
#include "vnetlab/nft.h"

#define RUNS 10
#define N_RULES 1000
#define N_VMS 200

static char ns_name[64];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), dbl_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char *gen_yaml(bool simple, size_t *len)
{
	static const char *const protos[] = { "Tcp", "Udp", "\"*\"", "Icmp" };
	static const char *const dports[] = { "destinationPortRange: \"80\"", "destinationPortRange: 1000-2000",
					      "destinationPortRanges: [\"22\", \"443\", 8000-8100]",
					      "destinationPortRange: \"*\"" };
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int i;

	if (!f)
		return NULL;
	fprintf(f, "name: nftb\nvnets:\n  - name: v\n    addressSpace: [10.10.0.0/16]\n"
		   "    subnets:\n      - name: s\n        addressPrefix: 10.10.0.0/22\n"
		   "        networkSecurityGroup: big\n");
	fprintf(f, "networkSecurityGroups:\n  - name: big\n    securityRules:\n");
	for (i = 0; i < N_RULES; i++) {
		fprintf(f, "      - name: r%d\n        priority: %d\n        direction: %s\n", i, 100 + i / 2,
			i % 2 ? "Outbound" : "Inbound");
		fprintf(f, "        access: %s\n        protocol: %s\n", i % 5 ? "Allow" : "Deny",
			simple ? "Tcp" : protos[i % 4]);
		if (simple) {
			fprintf(f, "        sourceAddressPrefix: 172.17.%d.%d/32\n        sourcePortRange: \"*\"\n"
				   "        destinationAddressPrefix: \"*\"\n        destinationPortRange: \"%d\"\n",
				i / 256, i % 256, 1000 + i);
			continue;
		}
		switch (i % 3) {
		case 0:
			fprintf(f, "        sourceAddressPrefixes: [172.16.%d.0/24, 192.168.%d.%d]\n", i % 256, i / 256,
				i % 256);
			break;
		case 1:
			fprintf(f, "        sourceAddressPrefix: 172.17.%d.%d/32\n", i / 256, i % 256);
			break;
		default:
			fprintf(f, "        sourceAddressPrefix: %s\n", i % 2 ? "VirtualNetwork" : "Internet");
			break;
		}
		fprintf(f, "        sourcePortRange: \"*\"\n        destinationAddressPrefix: \"*\"\n        %s\n",
			dports[i % 4]);
	}
	fprintf(f, "vms:\n");
	for (i = 0; i < N_VMS; i++)
		fprintf(f, "  - {name: vm%d, subnet: s}\n", i);
	fclose(f);
	return buf;
}

static void cleanup(void)
{
	if (ns_name[0])
		vl_netns_delete(ns_name);
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Median time to build the full transaction alone (user space), in ms. */
static double build_ms(const struct vl_lab *lab)
{
	double v[RUNS], t;
	char why[256];

	for (int i = 0; i < RUNS; i++) {
		void *buf = NULL;
		size_t len = 0;

		t = now_ms();
		if (vl_nft_nsg_batch(lab, 0, VL_NONE, &buf, &len, why, sizeof(why)))
			return -1;
		v[i] = now_ms() - t;
		free(buf);
	}
	return median(v, RUNS);
}

/* Medians of full commits and one-rule edits of the lab, in ms. */
static int measure(struct vl_lab *lab, int fd, double *full_ms, double *edit_ms)
{
	double full[RUNS], edit[RUNS], t;
	char why[512] = "";
	int i;

	for (i = 0; i < RUNS; i++) {
		t = now_ms();
		if (vl_nft_fabric_commit(lab, 0, fd, why, sizeof(why))) {
			fprintf(stderr, "nft bench: commit: %s\n", why);
			return -1;
		}
		full[i] = now_ms() - t;
	}
	for (i = 0; i < RUNS; i++) {
		struct vl_rule *r = &lab->nsgs[0].rules[N_RULES / 2];

		r->access = r->access == VL_ALLOW ? VL_DENY : VL_ALLOW;
		t = now_ms();
		/* as `nsg rule update` commits it: the direction of the rule it changed */
		if (vl_nft_nsg_commit_dirs(lab, 0, 0, 1u << r->dir, fd, why, sizeof(why))) {
			fprintf(stderr, "nft bench: edit: %s\n", why);
			return -1;
		}
		edit[i] = now_ms() - t;
	}
	*full_ms = median(full, RUNS);
	*edit_ms = median(edit, RUNS);
	return 0;
}

/* The same ruleset through the nft tool (includes fork/exec); < 0 if unavailable. */
static double nft_text_ms(const struct vl_lab *lab)
{
	char path[] = "/tmp/vlbench-nft-XXXXXX", cmd[256];
	double text[RUNS], t;
	int i, fd;
	FILE *f;

	if (system("command -v nft >/dev/null 2>&1") != 0)
		return -1;
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		return -1;
	vl_nft_fabric_print(lab, 0, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "ip netns exec %s nft -f %s", ns_name, path);
	for (i = 0; i < RUNS; i++) {
		t = now_ms();
		if (system(cmd) != 0)
			break;
		text[i] = now_ms() - t;
	}
	unlink(path);
	return i == RUNS ? median(text, RUNS) : -1;
}

static struct vl_lab *load(bool simple)
{
	struct vl_error err = { 0 };
	struct vl_lab *lab = NULL;
	size_t len;
	char *yaml = gen_yaml(simple, &len);

	if (!yaml || vl_load_buffer("nft-bench.yaml", yaml, len, &lab, &err))
		fprintf(stderr, "nft bench: topology: %d:%d: %s\n", err.line, err.col, err.msg);
	free(yaml);
	return lab;
}

int main(void)
{
	struct vl_lab *mixed = NULL, *simple = NULL;
	double full, edit, text, sfull, sedit;
	int fd = -1, rc = 1;

	if (geteuid() != 0) {
		fprintf(stderr, "nft: skipped (needs root)\n");
		return 0;
	}
	mixed = load(false);
	simple = load(true);
	if (!mixed || !simple)
		goto out;
	snprintf(ns_name, sizeof(ns_name), "vlbench-nft-%d", (int)getpid());
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (vl_netns_create(ns_name, &fd)) {
		fprintf(stderr, "nft bench: cannot create namespace %s\n", ns_name);
		ns_name[0] = '\0';
		goto out;
	}
	if (measure(simple, fd, &sfull, &sedit) || measure(mixed, fd, &full, &edit))
		goto out;
	printf("nft: commit-1000 %.2f ms, edit-1 %.2f ms (mixed rules: ~1,300 nft rules + shared list sets)\n", full, edit);
	text = nft_text_ms(mixed);
	if (text >= 0)
		printf("nft: same ruleset with nft -f: %.2f ms\n", text);
	printf("nft: commit-1000 %.2f ms, edit-1 %.2f ms (simple rules: one address, one port)\n", sfull, sedit);
	printf("nft: building the full transaction alone: %.2f ms simple, %.2f ms mixed (the rest is the kernel's)\n",
	       build_ms(simple), build_ms(mixed));
	rc = 0;
out:
	vl_nft_release();
	if (fd >= 0)
		close(fd);
	vl_lab_free(mixed);
	vl_lab_free(simple);
	return rc;
}
