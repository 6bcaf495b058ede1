// SPDX-License-Identifier: MIT
/*
 * The smaller hardening findings (12) through the CLI, no root: terminal escapes
 * refused or escaped, JSON always valid UTF-8, a FIFO refused, an explicit port 0
 * refused, and a long port list validated in linear time.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/helpers.h"

#define TWO_VMS                                                                                            \
	"vnets:\n  - name: v\n    addressSpace: [10.0.0.0/16]\n    subnets:\n"                             \
	"      - {name: s, addressPrefix: 10.0.1.0/24}\n"                                                  \
	"vms:\n  - {name: a, subnet: s}\n  - {name: b, subnet: s, app: hello, ports: [80]}\n"

Test(small, escapes_in_names_are_refused)
{
	static const char *const names[] = {"\"\\e]0;pwned\\a\"", "\"ok\\x1b[2J\"", "\"x\\u009b31m\"",
					    "\"PASS  forged\\rx\""};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *text, *path, *out;
		int st;

		cr_assert(asprintf(&text, "name: l\n" TWO_VMS "checks:\n  - {name: %s, from: a, to: b, port: 80, "
					  "expect: allow}\n",
				   names[i]) > 0);
		path = th_write_temp(text);
		out = th_run(&st, "%s validate %s 2>&1", th_vnetlab(), path);
		cr_expect_neq(st, 0, "name %s loaded: %s", names[i], out);
		cr_expect_null(strchr(out, '\033'), "an escape reached the terminal: %s", out);
		free(out);
		unlink(path);
		free(path);
		free(text);
	}
}

Test(small, paths_are_printed_escaped)
{
	char *out;
	int st;

	out = th_run(&st, "%s validate \"$(printf '/tmp/vl\\033]0;t\\007.yaml')\" 2>&1", th_vnetlab());
	cr_expect_neq(st, 0);
	cr_expect_null(strchr(out, '\033'), "%s", out);
	cr_expect_null(strchr(out, '\007'), "%s", out);
	free(out);
}

Test(small, json_is_valid_utf8)
{
	char *text, dir[] = "/tmp/vl-utf8-XXXXXX", path[128], *out;
	int st;

	if (system("command -v python3 >/dev/null 2>&1"))
		cr_skip_test("python3 is needed to check the JSON (install python3)");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bad\xff\xfe.yaml", dir);
	cr_assert(asprintf(&text, "name: l\n" TWO_VMS) > 0);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	out = th_run(&st,
		     "%s show '%s' -o json | python3 -c 'import sys,json; json.loads(sys.stdin.buffer.read()"
		     ".decode(\"utf-8\")); print(\"ok\")' 2>&1",
		     th_vnetlab(), path);
	cr_expect_str_eq(out, "ok\n", "show -o json is not valid UTF-8 JSON: %s", out);
	free(out);
	unlink(path);
	rmdir(dir);
	free(text);
}

Test(small, a_fifo_is_refused_not_waited_on)
{
	char path[64] = "/tmp/vl-fifo-XXXXXX", *out;
	int st;

	cr_assert_not_null(mkdtemp(path));
	strcat(path, "/t.yaml");
	cr_assert_eq(mkfifo(path, 0600), 0);
	out = th_run(&st, "timeout 5 %s up --dry-run %s 2>&1", th_vnetlab(), path);
	cr_expect_eq(st, 1, "up FIFO: exit %d (124: it hung): %s", st, out);
	cr_expect_not_null(strstr(out, "not a regular file"), "%s", out);
	free(out);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

Test(small, port_zero_is_refused)
{
	char *text, *path, *out;
	int st;

	cr_assert(asprintf(&text, "name: l\n" TWO_VMS) > 0);
	path = th_write_temp(text);
	out = th_run(&st, "%s explain %s a b:0 2>&1", th_vnetlab(), path);
	cr_expect_eq(st, 2, "explain …:0: exit %d: %s", st, out);
	free(out);
	unlink(path);
	free(path);
	free(text);
}

static double validate_seconds(int n_ports)
{
	size_t cap = 64 + (size_t)n_ports * 7, len;
	char *body = malloc(cap), *path, *out;
	struct timespec t0, t1;
	int st;

	len = (size_t)snprintf(body, cap, "name: l\n" TWO_VMS "  - {name: c, subnet: s, app: echo, ports: [");
	for (int p = 1; p <= n_ports; p++)
		len += (size_t)snprintf(body + len, cap - len, "%s%d", p > 1 ? "," : "", p);
	snprintf(body + len, cap - len, "]}\n");
	path = th_write_temp(body);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	out = th_run(&st, "%s validate %s 2>&1", th_vnetlab(), path);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(st, 0, "%.200s", out);
	free(out);
	unlink(path);
	free(path);
	free(body);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

Test(small, long_port_list_validates_in_linear_time)
{
	double t_small = validate_seconds(8000), t_big = validate_seconds(64000);

	cr_log_info("validate: 8,000 ports %.3f s, 64,000 ports %.3f s", t_small, t_big);
	/* linear: ~8x (plus start-up); quadratic: ~64x */
	cr_expect_lt(t_big, 1.0 + 20 * t_small, "64,000 ports took %.2f s, 8,000 took %.2f s", t_big, t_small);
}
