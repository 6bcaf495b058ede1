// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "out.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"
#include "vnetlab/rootless.h"
#include "vnetlab/state.h"

#ifndef VL_VERSION
#define VL_VERSION "0.2.0"
#endif

static const struct cli_cmd cmds[] = {
    {"up", cmd_up, "up FILE [--name NAME] [--dry-run] [--quiet]", "build the lab of a topology file"},
    {"down", cmd_down, "down LAB | down FILE [--name NAME] | down --all", "remove a lab (idempotent)"},
    {"ls", cmd_ls, "ls [-o " OUT_FORMATS "] [--all-users]", "list the labs that are up"},
    {"show", cmd_show, "show LAB|FILE [-o " OUT_FORMATS "]", "endpoints, addresses, NSG associations"},
    {"exec", cmd_exec, "exec LAB ENDPOINT -- CMD...", "run a command inside an endpoint"},
    {"probe", cmd_probe, "probe LAB FROM TO[:PORT] [--proto tcp|udp|icmp] [--timeout MS] [-o " OUT_FORMATS "]",
     "one real connection attempt"},
    {"explain", cmd_explain,
     "explain LAB|FILE FROM TO[:PORT] [--proto tcp|udp|icmp] [--source-port N] [-o " OUT_FORMATS "]",
     "static verdict hop by hop: routes, NSGs, peerings, gateways, NAT"},
    {"nsg", cmd_nsg,
     "nsg show LAB|FILE NSG [--include-default] [-o " OUT_FORMATS "] | nsg list LAB|FILE [-o ...] | "
     "nsg import FILE [-g TOPOLOGY] [--name NSG] [--include-default] [-o yaml|json] | "
     "nsg rule list LAB|FILE NSG [--include-default] [-o ...] | nsg rule show LAB|FILE NSG RULE [-o ...] | "
     "nsg rule create|update|delete LAB NSG RULE (add, set: the same as create, update) "
     "[--priority N] [--access Allow|Deny] [--direction Inbound|Outbound] [--protocol P] "
     "[--source-address-prefixes ...] [--source-port-ranges ...] [--destination-address-prefixes ...] "
     "[--destination-port-ranges ...] [--description TEXT] [-o ...]; "
     "LAB, NSG and RULE also as -g/--resource-group, --nsg-name, -n/--name",
     "list and show NSGs and rules; edit rules live; print an az export as topology YAML"},
    {"netpol", cmd_netpol, "netpol list LAB|FILE [-o FORMAT] | netpol apply LAB FILE [--cluster NAME] | "
     "netpol delete LAB NAMESPACE/NAME [--cluster NAME]",
     "a cluster's Kubernetes network policies; apply or delete them live"},
    {"routes", cmd_routes, "routes LAB|FILE ENDPOINT [-o " OUT_FORMATS "]",
     "effective routes of an endpoint's NIC, like az network nic show-effective-route-table"},
    {"verify", cmd_verify, "verify LAB [--from EP] [--to EP|SERVICE] [--timeout MS] [--deadline MS] [-o " OUT_FORMATS "]",
     "every flow between endpoints and app ports: evaluator and kernel side by side"},
    {"check", cmd_check, "check LAB|FILE [--checks FILE] [--name NAME] [-o " OUT_FORMATS "]",
     "run checks (the lab's or a checks file's): PASS/FAIL each, points"},
    {"score", cmd_score, "score LAB...|--all [--checks FILE] [-o " OUT_FORMATS "] [--watch] [--interval S]",
     "a scoreboard: points and failing checks per lab"},
    {"reset", cmd_reset, "reset LAB", "undo a running lab's live edits (back to its file)"},
    {"run", cmd_run, "run FILE [--name NAME] [--keep] [--checks FILE]", "up, the scenario step by step, down"},
    {"validate", cmd_validate, "validate FILE", "load and validate a topology (no root)"},
    {"capture", cmd_capture, "capture LAB ENDPOINT [-w FILE] [--count N] [--filter EXPR] [--timeout MS]",
     "capture packets on an endpoint's eth0 (libpcap; -w: a pcap file)"},
    {"flows", cmd_flows, "flows LAB [-o FORMAT] [--follow]",
     "the flows the lab's NSGs allowed and denied (also an NSG flow log v2 in the lab's state)"},
    {"graph", cmd_graph, "graph LAB|FILE [--format|-o dot|mermaid|svg] [-o|-w FILE]",
     "a picture of the lab: VNets, subnets, NSGs, peerings, gateways (dot, mermaid, SVG)"},
    {"complete", cmd_complete, "complete labs | complete endpoints|nsgs|checks LAB|FILE | complete rules LAB|FILE NSG",
     "words for shell completion"},
};

static void help(FILE *f)
{
	fprintf(f, "vnetlab — an Azure virtual network on one Linux host\n\nusage:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  vnetlab %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nRun 'vnetlab VERB --help' for a verb's options and examples, 'man vnetlab' for more.\n");
	if (vl_rootless())
		fprintf(f, "Not root: your labs are rootless, in namespaces of your own, state in %s (docs/rootless.md).\n",
			vl_state_root());
	else
		fprintf(f, "Run by any other user, vnetlab builds rootless labs, no sudo needed (docs/rootless.md).\n");
}

int usage(const char *verb)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, verb))
			fprintf(stderr, "usage: vnetlab %s\n", cmds[i].usage);
	return EXIT_USAGE;
}

int need_root(const char *verb)
{
	char why[512];

	if (!vl_rootless() || !vl_userns_forbidden("/proc/sys", why, sizeof(why)))
		return 0;
	fprintf(stderr, "vnetlab %s: %s\n", verb, why);
	return EXIT_USAGE;
}

int enter_lab(const char *lab)
{
	struct vl_error err = {0};

	if (!vl_state_enter_lab(lab, &err))
		return 0;
	print_error(&err);
	return 1;
}

int in_lab(const char *lab, int (*fn)(const char *lab, void *arg), void *arg)
{
	pid_t pid;
	int st;

	if (!vl_rootless())
		return fn(lab, arg);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		die_errno("fork", -errno);
		return 1;
	}
	if (pid == 0) {
		st = enter_lab(lab) ?: fn(lab, arg);
		fflush(stdout);
		_exit(st);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

void print_error(const struct vl_error *err)
{
	char file[sizeof(err->file) * 2], msg[sizeof(err->msg) * 2];

	/* paths and names come from users: no terminal escapes */
	cli_printable(err->file, file, sizeof(file));
	cli_printable(err->msg, msg, sizeof(msg));
	if (err->file[0] && err->line)
		fprintf(stderr, "%s:%d:%d: %s\n", file, err->line, err->col, msg);
	else if (err->file[0])
		fprintf(stderr, "%s: %s\n", file, msg);
	else
		fprintf(stderr, "vnetlab: %s\n", msg);
}

void die_errno(const char *what, int rc)
{
	fprintf(stderr, "vnetlab: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
}

bool is_file(const char *arg)
{
	struct stat st;

	return (strchr(arg, '/') || strchr(arg, '.')) && stat(arg, &st) == 0 && S_ISREG(st.st_mode);
}

bool lab_arg_ok(const char *arg)
{
	char safe[64];

	if (vl_lab_name_ok(arg))
		return true;
	fprintf(stderr, "vnetlab: invalid lab name '%s': 1-%d characters of a-z and 0-9\n",
		cli_printable(arg, safe, sizeof(safe)), VL_LAB_NAME_MAX);
	return false;
}

const char *cli_printable(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; s && *s && n + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f))
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	if (s && *s && n + 4 <= len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

struct vl_lab *load_lab_or_file(const char *arg, bool *running)
{
	struct vl_error err = {0};
	struct vl_lab *lab = NULL;
	int rc;

	if (running)
		*running = false;
	if (is_file(arg)) {
		rc = vl_load_file(arg, &lab, &err);
	} else {
		if (!lab_arg_ok(arg))
			return NULL;
		if (!vl_state_exists(arg)) {
			fprintf(stderr,
				"vnetlab: no lab '%s' is up and no file '%s' exists (see 'vnetlab ls')\n",
				arg, arg);
			return NULL;
		}
		rc = vl_state_load_lab(arg, &lab, &err);
		if (!rc && running)
			*running = true;
	}
	if (rc) {
		print_error(&err);
		return NULL;
	}
	return lab;
}

int resolve_target(const struct vl_lab *lab, int from, const char *s, uint32_t *ip, int *ep)
{
	int c, sv;

	*ep = vl_lab_find_endpoint(lab, s);
	if (*ep != VL_NONE) {
		*ip = lab->eps[*ep].ip;
		return 0;
	}
	/* A Service: its frontend when it is a LoadBalancer, else its clusterIP. */
	if (!vl_lab_find_service(lab, s, &c, &sv)) {
		const struct vl_service *x = &lab->aks[c].services[sv];

		*ip = x->type == VL_SVC_LB ? x->frontend_ip : x->cluster_ip;
		*ep = VL_NONE;
		return 0;
	}
	if (vl_ip_parse(s, ip))
		return -ENOENT;
	*ep = vl_lab_find_endpoint_near(lab, from, *ip);
	return 0;
}

int split_target(char *s, char **to, int *port)
{
	char *colon = strrchr(s, ':');

	*to = s;
	*port = 0;
	if (!colon)
		return 0;
	*colon = '\0';
	if (!colon[1] || strlen(colon + 1) > 5 || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	*port = atoi(colon + 1);
	/* 0 would mean "the app's first port": an explicit :0 is an error, not another port */
	return *port >= 1 && *port <= 65535 ? 0 : -EINVAL;
}

int parse_proto(const char *s, enum vl_proto *p)
{
	if (!strcasecmp(s, "tcp"))
		*p = VL_PROTO_TCP;
	else if (!strcasecmp(s, "udp"))
		*p = VL_PROTO_UDP;
	else if (!strcasecmp(s, "icmp"))
		*p = VL_PROTO_ICMP;
	else
		return -EINVAL;
	return 0;
}

const char *proto_lc(enum vl_proto p)
{
	return p == VL_PROTO_UDP ? "udp" : p == VL_PROTO_ICMP ? "icmp" : "tcp";
}

int main(int argc, char **argv)
{
	vl_rootless(); /* decided before any namespace is joined */
	if (argc < 2) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		help(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("vnetlab %s\n", VL_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmds[i].name, argv[1]))
			continue;
		for (int a = 2; a < argc && strcmp(argv[a], "--"); a++)
			if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
				printf("usage: vnetlab %s\n\n%s\n", cmds[i].usage, verb_doc(cmds[i].name));
				return 0;
			}
		return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "vnetlab: unknown verb '%s'\n", argv[1]);
	help(stderr);
	return EXIT_USAGE;
}
