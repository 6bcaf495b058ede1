/* SPDX-License-Identifier: MIT */
/* Shared by the verbs: the only layer that prints. */
#ifndef VNETLAB_CLI_H
#define VNETLAB_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "vnetlab/model.h"

#define EXIT_USAGE 2

struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
};

int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_nsg(int argc, char **argv);
int cmd_netpol(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_routes(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_complete(int argc, char **argv);

/* The long help of a verb (help.c): what it does, options with defaults, examples. */
const char *verb_doc(const char *verb);
int cmd_capture(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_flows(int argc, char **argv);

/* Prints "usage: vnetlab <usage>" for the named verb to stderr; returns EXIT_USAGE. */
int usage(const char *verb);
/*
 * 0 when this verb can build or enter labs: root, or a user whose host allows unprivileged
 * user namespaces (rootless labs); else the one sentence naming the setting, exit 2.
 */
int need_root(const char *verb);
/* Work in lab's namespaces from now on (rootless: its user and mount namespaces); 0 or 1 (printed). */
int enter_lab(const char *lab);
/*
 * Rootless, a process works in one lab: run fn(lab, arg) in a child that enters it and
 * return its exit status (root: fn runs here). stdout is flushed first.
 */
int in_lab(const char *lab, int (*fn)(const char *lab, void *arg), void *arg);
/* "file:line:col: msg" (or "vnetlab: msg") on stderr. */
void print_error(const struct vl_error *err);
void die_errno(const char *what, int rc);

/* A lab name given on the command line; prints why not and returns false when it is invalid. */
bool lab_arg_ok(const char *arg);
/* s with control characters and '\\' as \\xNN, cut to fit buf (with "..."): safe on a terminal. */
const char *cli_printable(const char *s, char *buf, size_t len);
/* True when arg names an existing file rather than a lab. */
bool is_file(const char *arg);
/*
 * Load the lab a verb is about: a running lab by name (with its live edits)
 * or a topology file. Prints the error and returns NULL on failure.
 */
struct vl_lab *load_lab_or_file(const char *arg, bool *running);
/* The loader refuses larger topologies; reading stops there. */

/* Output: out.h (one result tree per verb, -o table|json|jsonc|tsv|yaml|none). */

/* Resolve "name" or "a.b.c.d" to an address; *ep set when it is an endpoint (of from's VNet first). */
/* show: a cluster's Services with frontends and backend health; public IPs and NAT gateways (services.c). */
void show_services(const struct vl_lab *lab, int c, FILE *f);
void show_public(const struct vl_lab *lab, FILE *f);
int resolve_target(const struct vl_lab *lab, int from, const char *s, uint32_t *ip, int *ep);
/* Parse "TO[:PORT]". */
int split_target(char *s, char **to, int *port);
int parse_proto(const char *s, enum vl_proto *p);
/* "NIC of vm1" / "subnet aci": where an evaluated NSG sits. */
struct vl_hop;
const char *hop_where(const struct vl_lab *lab, const struct vl_hop *h, char *buf, size_t len);
/* One hop of a verdict in words (one line, no newline) and as an object of the result tree (hops.c). */
/* "<namespace>/<name>" of a cluster's policy, NULL for VL_NONE. */
const char *policy_ref(const struct vl_lab *lab, int cluster, int policy, char *buf, size_t len);
void hop_words(const struct vl_lab *lab, const struct vl_hop *h, char *buf, size_t len);
struct json_t;
struct json_t *hop_tree(const struct vl_lab *lab, const struct vl_hop *h);
/* The backends of a flow to a Service (backends.c): "connected", "refused", "denied", "unreachable" or
 * "nohost" for one; "depends on the backend kube-proxy picks: ..." into buf when their outcomes differ
 * (false, buf untouched, when they agree); the list as an array of the result tree. */
struct vl_backend_verdict;
struct vl_verdict;
const char *backend_result_name(const struct vl_backend_verdict *b);
bool backends_words(const struct vl_lab *lab, const struct vl_verdict *v, char *buf, size_t len);
struct json_t *backends_tree(const struct vl_lab *lab, const struct vl_verdict *v);
/* "tcp", "udp" or "icmp", as the verbs take and print them. */
const char *proto_lc(enum vl_proto p);


/*
 * One check as a real probe (check.c), shared by `check` and `run`: appended to the list into
 * (a result tree, out.h) when it is not NULL, else printed on out (when not NULL). On an error
 * (reported on stderr when into or out is given) nothing is added or printed.
 */
int run_check(const struct vl_lab *lab, const struct vl_check *c, struct json_t *into, FILE *out, bool *pass);

/* What a set of checks came to. */
struct check_tally {
	int passed, failed, errors; /* a check that could not run (errors) counts as failed */
	int points, max_points;
	struct vl_strv failing; /* names of the failed checks; vl_strv_free it */
};
/* Run the named checks of lab; each goes into the list into, or is printed on out (run_check). */
void run_checks(const struct vl_lab *lab, struct json_t *into, FILE *out, struct check_tally *t);
/* Ctrl-C, SIGTERM or SIGHUP end a run, check or score between steps. */
void catch_signals(void);
bool stopped(void);

/* Read and load a topology file, named name when not NULL; prints what is wrong. */
struct vl_imports;
int load_topology(const char *path, const char *name, char **content, size_t *len, struct vl_imports *imports,
		  struct vl_lab **lab);
/* Build a loaded lab (state, kernel, agent) with a progress line on a terminal for large labs;
 * SIGINT/SIGTERM/SIGHUP are blocked once the lock is held, and stay so with keep_signals_blocked. */
int build_lab(const struct vl_lab *lab, const char *path, const char *content, size_t len,
	      const struct vl_imports *imports, bool keep_signals_blocked);

#endif
