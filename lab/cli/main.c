// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"
#include "vnetlab/state.h"

static const struct cli_cmd cmds[] = {
    {"up", cmd_up, "up FILE [--dry-run]", "build the lab of a topology file"},
    {"down", cmd_down, "down LAB|FILE | down --all", "remove a lab (idempotent)"},
    {"ls", cmd_ls, "ls [-o json]", "list the labs that are up"},
    {"show", cmd_show, "show LAB|FILE [-o json]", "endpoints, addresses, NSG associations"},
    {"exec", cmd_exec, "exec LAB ENDPOINT -- CMD...", "run a command inside an endpoint"},
    {"probe", cmd_probe, "probe LAB FROM TO[:PORT] [--proto tcp|udp|icmp] [--timeout MS] [-o json]",
     "one real connection attempt"},
    {"explain", cmd_explain, "explain LAB|FILE FROM TO[:PORT] [--proto tcp|udp|icmp] [-o json]",
     "static verdict hop by hop: routes, NSGs, peerings, gateways, NAT"},
    {"nsg", cmd_nsg,
     "nsg show LAB|FILE NSG [--include-default] [-o json] | nsg rule set|add|delete LAB NSG RULE "
     "[--priority N] [--access Allow|Deny] [--direction Inbound|Outbound] [--protocol P] "
     "[--source-address-prefixes ...] [--source-port-ranges ...] [--destination-address-prefixes ...] "
     "[--destination-port-ranges ...] [--description TEXT]",
     "show NSG rules; edit them live"},
    {"routes", cmd_routes, "routes LAB|FILE ENDPOINT [-o json]",
     "effective routes of an endpoint's NIC, like az network nic show-effective-route-table"},
    {"verify", cmd_verify, "verify LAB [--from EP] [--to EP] [--timeout MS] [--deadline MS] [-o json]",
     "every flow between endpoints and app ports: evaluator and kernel side by side"},
    {"check", cmd_check, "check LAB|FILE [-o json]", "run the file's checks: PASS/FAIL each"},
    {"run", cmd_run, "run FILE", "up, the scenario step by step, down"},
    {"validate", cmd_validate, "validate FILE", "load and validate a topology (no root)"},
    {"graph", cmd_graph, "graph LAB|FILE", "the topology as a Graphviz dot graph"},
};

static void help(FILE *f)
{
	fprintf(f, "vnetlab — an Azure virtual network on one Linux host\n\nusage:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  vnetlab %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nRun 'vnetlab VERB --help' for a verb's arguments.\n");
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
	if (geteuid() == 0)
		return 0;
	fprintf(stderr,
		"vnetlab %s needs root: it creates network namespaces and enters them. Run it with sudo.\n",
		verb);
	return EXIT_USAGE;
}

void print_error(const struct vl_error *err)
{
	if (err->file[0] && err->line)
		fprintf(stderr, "%s:%d:%d: %s\n", err->file, err->line, err->col, err->msg);
	else if (err->file[0])
		fprintf(stderr, "%s: %s\n", err->file, err->msg);
	else
		fprintf(stderr, "vnetlab: %s\n", err->msg);
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

int parse_output(const char *v, bool *json)
{
	if (!strcmp(v, "json"))
		*json = true;
	else if (!strcmp(v, "table"))
		*json = false;
	else
		return -1;
	return 0;
}

void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int resolve_target(const struct vl_lab *lab, int from, const char *s, uint32_t *ip, int *ep)
{
	*ep = vl_lab_find_endpoint(lab, s);
	if (*ep != VL_NONE) {
		*ip = lab->eps[*ep].ip;
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
	return *port <= 65535 ? 0 : -EINVAL;
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
	if (argc < 2) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		help(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmds[i].name, argv[1]))
			continue;
		for (int a = 2; a < argc && strcmp(argv[a], "--"); a++)
			if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
				printf("usage: vnetlab %s\n%s\n", cmds[i].usage, cmds[i].help);
				return 0;
			}
		return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "vnetlab: unknown verb '%s'\n", argv[1]);
	help(stderr);
	return EXIT_USAGE;
}
