// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "vnetlab/loader.h"
#include "vnetlab/rootless.h"
#include "vnetlab/state.h"

struct vl_lab *th_load(const char *yaml)
{
	struct vl_error err = {0};
	struct vl_lab *lab = NULL;

	if (vl_load_buffer("test.yaml", yaml, strlen(yaml), &lab, &err))
		cr_assert_fail("topology did not load: %s:%d:%d: %s", err.file, err.line, err.col, err.msg);
	return lab;
}

const char *th_load_error(const char *yaml)
{
	static char buf[700];
	struct vl_error err = {0};
	struct vl_lab *lab = NULL;

	if (!vl_load_buffer("test.yaml", yaml, strlen(yaml), &lab, &err)) {
		vl_lab_free(lab);
		return "(loaded without error)";
	}
	cr_assert_null(lab);
	snprintf(buf, sizeof(buf), "%d:%d: %s", err.line, err.col, err.msg);
	return buf;
}

static void rootless_rewrite(char *cmd, size_t size);

char *th_run(int *status, const char *fmt, ...)
{
	char cmd[4096], *out = NULL;
	size_t len = 0;
	va_list ap;
	FILE *f, *mem;
	int c, st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (th_rootless() && geteuid() != 0) /* not inside a user namespace of its own (in-process tests) */
		rootless_rewrite(cmd, sizeof(cmd));
	f = popen(cmd, "r");
	cr_assert_not_null(f, "popen %s", cmd);
	mem = open_memstream(&out, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, mem);
	fclose(mem);
	st = pclose(f);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	return out;
}

const char *th_vnetlab(void)
{
	const char *v = getenv("VNETLAB");

	return v && *v ? v : "build/vnetlab";
}

char *th_root_snapshot(void)
{
	return th_run(NULL,
		      "{ ip -o link | awk -F': ' '{print $2}' | sort; ip -o addr | awk '{print $2,$4}' | "
		      "sort; ip route; nft list ruleset 2>/dev/null; } 2>&1");
}

char *th_write_temp(const char *text)
{
	char *path = strdup("/tmp/vnetlab-test-XXXXXX.yaml");
	int fd = mkstemps(path, 5);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

bool th_rootless(void)
{
	const char *v = getenv("VNETLAB_TEST_ROOTLESS");

	return v && !strcmp(v, "1") && vl_rootless();
}

bool th_is_root(void)
{
	return geteuid() == 0 || th_rootless();
}

const char *th_state_root(void)
{
	return vl_state_root();
}

void (*th_skip_cleanup)(void) = th_lab_down;

void th_skip(const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (th_skip_cleanup)
		th_skip_cleanup();
	cr_skip_test("%s", why);
	abort(); /* cr_skip_test does not return */
}

void th_skip_rootless(const char *why)
{
	if (th_rootless())
		th_skip("rootless run: %s", why);
}

void th_enter_or_skip(void)
{
	if (geteuid() != 0)
		th_skip("needs root (or uid 0 of a user namespace)");
}

/*
 * A rootless run has no `ip netns exec` on its labs (their /run/netns is private to the lab's
 * user and mount namespaces): "ip netns exec vl-<lab>-<ns> " becomes "vnetlab exec <lab> <ns> --",
 * which enters the same namespace the same way (its own /sys, /etc/netns files), and
 * "ip -n vl-<lab>-<ns> " becomes "vnetlab exec <lab> <ns> -- ip ".
 */
static bool rewrite_one(char *cmd, size_t size, const char *pat, const char *then)
{
	char out[8192], *p = cmd, *hit;
	size_t n = 0;

	while ((hit = strstr(p, pat))) {
		char *lab = hit + strlen(pat), *dash = strchr(lab, '-'), *end;

		if (!dash)
			break;
		end = dash + strcspn(dash, " \t");
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%.*s%s exec %.*s %.*s --%s", (int)(hit - p), p,
				      th_vnetlab(), (int)(dash - lab), lab, (int)(end - dash - 1), dash + 1, then);
		p = end;
		if (n >= sizeof(out))
			return false;
	}
	if (p == cmd)
		return false;
	snprintf(out + n, sizeof(out) - n, "%s", p);
	if (strlen(out) >= size)
		return false;
	memcpy(cmd, out, strlen(out) + 1);
	return true;
}

/* ... and the state root's path is the user's own. */
static void rewrite_root(char *cmd, size_t size)
{
	char out[8192], *p = cmd, *hit;
	size_t n = 0;

	while ((hit = strstr(p, VL_STATE_ROOT)) && n < sizeof(out)) {
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%.*s%s", (int)(hit - p), p, th_state_root());
		p = hit + strlen(VL_STATE_ROOT);
	}
	if (p == cmd || n >= sizeof(out))
		return;
	snprintf(out + n, sizeof(out) - n, "%s", p);
	if (strlen(out) < size)
		memcpy(cmd, out, strlen(out) + 1);
}

static void rootless_rewrite(char *cmd, size_t size)
{
	rewrite_one(cmd, size, "ip netns exec vl-", "");
	rewrite_one(cmd, size, "ip -n vl-", " ip");
	rewrite_root(cmd, size);
}

char *th_json_get(const char *json, const char *key)
{
	char pat[128];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = json ? strstr(json, pat) : NULL;
	if (!p)
		return strdup("");
	p += strlen(pat);
	p += strspn(p, " \t\n"); /* indented JSON: "key": value */
	if (*p == '"') {
		e = strchr(++p, '"');
	} else {
		e = p;
		while (*e && *e != ',' && *e != '}' && *e != '\n')
			e++;
	}
	return strndup(p, e ? (size_t)(e - p) : strlen(p));
}

int th_json_int(const char *json, const char *key)
{
	char *v = th_json_get(json, key);
	int n = atoi(v);

	free(v);
	return n;
}

char *th_compact(char *json)
{
	bool in_str = false;
	size_t n = 0;

	for (size_t i = 0; json && json[i]; i++) {
		char c = json[i];

		if (in_str) {
			if (c == '\\' && json[i + 1]) {
				json[n++] = c;
				c = json[++i];
			} else if (c == '"') {
				in_str = false;
			}
		} else if (c == '"') {
			in_str = true;
		} else if (c == ' ' || c == '\n' || c == '\t') {
			/* between a document's values only; a newline after the last one stays */
			if (c == '\n' && (!json[i + 1] || json[i + 1] == '{' || json[i + 1] == '['))
				json[n++] = c;
			continue;
		}
		json[n++] = c;
	}
	if (json)
		json[n] = '\0';
	return json;
}

struct th_lab th_lab;

void th_lab_write(const char *prefix, const char *body)
{
	char *text;

	if (!th_is_root())
		th_skip("needs root");
	snprintf(th_lab.name, sizeof(th_lab.name), "%s%d", prefix, getpid() % 100000);
	cr_assert(asprintf(&text, "name: %s\n%s", th_lab.name, body) > 0);
	th_lab.file = th_write_temp(text);
	free(text);
	th_lab.before = th_root_snapshot();
}

void th_lab_up(const char *prefix, const char *body)
{
	char *out;
	int st;

	th_lab_write(prefix, body);
	out = th_run(&st, "%s up %s 2>&1", th_vnetlab(), th_lab.file);
	cr_assert_eq(st, 0, "up: %s", out);
	free(out);
}

void th_lab_down(void)
{
	char *after;

	if (!th_lab.file)
		return;
	free(th_run(NULL, "%s down %s 2>&1", th_vnetlab(), th_lab.name));
	unlink(th_lab.file);
	free(th_lab.file);
	th_lab.file = NULL;
	after = th_root_snapshot();
	cr_expect_str_eq(after, th_lab.before, "the root namespace changed");
	free(after);
	free(th_lab.before);
	th_lab.before = NULL;
}

/*
 * Every test binary, as root, compares the root namespace before its first
 * test and after its last: links, addresses, routes and nftables ruleset.
 */
static char *root_at_start;

ReportHook(PRE_ALL)(struct criterion_test_set *tests)
{
	(void)tests;
	if (th_is_root())
		root_at_start = th_root_snapshot();
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char *now;

	(void)stats;
	if (!root_at_start)
		return;
	now = th_root_snapshot();
	if (strcmp(now, root_at_start)) {
		fprintf(stderr, "FAIL: the root network namespace changed during these tests\n--- before\n%s--- after\n%s",
			root_at_start, now);
		fflush(stderr);
		_exit(1);
	}
	free(now);
	free(root_at_start);
}

static char *target(char *buf, size_t len, const char *to, int port)
{
	if (port)
		snprintf(buf, len, "%s:%d", to, port);
	else
		snprintf(buf, len, "%s", to);
	return buf;
}

char *th_probe(const char *from, const char *to, int port, const char *proto, int timeout_ms)
{
	char t[96];

	return th_run(NULL, "%s probe %s %s %s --proto %s --timeout %d -o json 2>&1", th_vnetlab(), th_lab.name,
		      from, target(t, sizeof(t), to, port), proto, timeout_ms);
}

char *th_explain(const char *from, const char *to, int port, const char *proto)
{
	char t[96];

	return th_run(NULL, "%s explain %s %s %s --proto %s -o json 2>&1", th_vnetlab(), th_lab.name, from,
		      target(t, sizeof(t), to, port), proto);
}

void th_assert_key(const char *json, const char *key, const char *want, const char *what)
{
	char *v = th_json_get(json, key);

	cr_assert_str_eq(v, want, "%s: %s is %s, expected %s\n%s", what, key, v, want, json);
	free(v);
}
