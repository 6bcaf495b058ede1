// SPDX-License-Identifier: MIT
/*
 * Workshops, as a teacher runs one: labs of one file under --name, independent of each other;
 * hidden checks with points and totals; the scoreboard over several labs; reset undoing live
 * edits; `check FILE` against a running lab picking up a new check and warning about a changed
 * resource; run --keep and pause; and docs/workshop.md's exercises, run as written. Root only;
 * every lab is named "<prefix><pid>" and removed.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"

static const char topo[] = "vnets:\n"
			   "  - name: v\n"
			   "    addressSpace: [10.71.0.0/16]\n"
			   "    subnets:\n"
			   "      - {name: s, addressPrefix: 10.71.1.0/24, networkSecurityGroup: n}\n"
			   "networkSecurityGroups:\n"
			   "  - name: n\n"
			   "    securityRules:\n"
			   "      - {name: no-web, priority: 100, direction: Inbound, access: Deny, protocol: Tcp,\n"
			   "         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*',\n"
			   "         destinationPortRange: '80'}\n"
			   "vms:\n"
			   "  - {name: a, subnet: s}\n"
			   "  - {name: b, subnet: s, app: hello, ports: [80, 8080]}\n"
			   "checks:\n"
			   "  - {name: alt-open, from: a, to: b, port: 8080, expect: allow}\n"
			   "  - name: web-open\n"
			   "    description: a gets b's page on port 80\n"
			   "    hint: which rule drops port 80?\n"
			   "    from: a\n"
			   "    to: b\n"
			   "    port: 80\n"
			   "    expect: allow\n"
			   "    points: 3\n";

static const char hidden[] = "checks:\n"
			     "  - {name: h-web, from: a, to: b, port: 80, expect: allow, points: 5,\n"
			     "     hint: delete or lower no-web}\n"
			     "  - {name: h-alt, from: a, to: b, port: 8080, expect: allow, points: 2}\n"
			     "  - {name: h-ssh, from: a, to: b, port: 22, expect: allow, points: 1}\n";

/* A second lab from the fixture's file: "<prefix2><pid>". */
static char other[16];

static void up_other(const char *prefix)
{
	char *out;
	int st;

	snprintf(other, sizeof(other), "%s%d", prefix, getpid() % 100000);
	out = th_run(&st, "%s up %s --name %s --quiet 2>&1", th_vnetlab(), th_lab.file, other);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "is up: 2 endpoints") && !strstr(out, "NAMESPACE"), "--quiet: %s", out);
	free(out);
}

static void fini(void)
{
	if (other[0])
		free(th_run(NULL, "%s down %s 2>&1", th_vnetlab(), other));
	other[0] = '\0';
	th_lab_down();
}

TestSuite(workshop, .fini = fini, .timeout = 180);

static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(workshop, two_labs_from_one_file_are_independent)
{
	char *out, *v;
	int st;

	th_skip_rootless("counts namespaces in the host's /run/netns, where a rootless lab has none");
	th_lab_up("wi", topo);
	up_other("wj");
	out = th_run(&st, "ls /run/netns | grep -c '^vl-%s-' ; ls /run/netns | grep -c '^vl-%s-'", th_lab.name, other);
	cr_assert_str_eq(out, "4\n4\n", "two endpoints, a fabric and the Internet each: %s", out);
	free(out);
	/* an edit in one lab changes nothing in the other */
	out = th_run(&st, "%s nsg rule delete %s n no-web 2>&1", th_vnetlab(), th_lab.name);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	out = th_run(&st, "%s probe %s a b:80 -o json 2>&1", th_vnetlab(), th_lab.name);
	v = th_json_get(out, "result");
	cr_assert_str_eq(v, "connected", "%s", out);
	free(v);
	free(out);
	out = th_run(&st, "%s probe %s a b:80 -o json 2>&1", th_vnetlab(), other);
	v = th_json_get(out, "result");
	cr_assert_str_eq(v, "dropped", "the other lab keeps its rule: %s", out);
	free(v);
	free(out);
	out = th_run(&st, "%s nsg show %s n -o json", th_vnetlab(), other);
	cr_assert(strstr(out, "no-web"), "%s", out);
	free(out);
	/* show and ls name each lab by its own name */
	out = th_compact(th_run(&st, "%s show %s -o json", th_vnetlab(), other));
	v = th_json_get(out, "name");
	cr_assert_str_eq(v, other);
	free(v);
	cr_assert(strstr(out, "\"namespace\":\"vl-") && strstr(out, other), "%s", out);
	free(out);
	out = th_run(&st, "%s ls", th_vnetlab());
	cr_assert(strstr(out, th_lab.name) && strstr(out, other), "%s", out);
	free(out);
	/* a second up under a taken name is refused, whatever the file says */
	out = th_run(&st, "%s up %s --name %s 2>&1", th_vnetlab(), th_lab.file, other);
	cr_assert_eq(st, 1, "%s", out);
	cr_assert(strstr(out, "already up"), "%s", out);
	free(out);
	/* down FILE --name removes that lab only */
	out = th_run(&st, "%s down %s --name %s 2>&1", th_vnetlab(), th_lab.file, other);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	out = th_run(&st, "ls /run/netns | grep -c '^vl-%s-'; ls /run/netns | grep -c '^vl-%s-'", other, th_lab.name);
	cr_assert_str_eq(out, "0\n4\n", "%s", out);
	free(out);
	other[0] = '\0';
}

Test(workshop, hidden_checks_with_points_and_totals)
{
	char *file, *out, *v;
	int st;

	th_lab_up("wh", topo);
	file = th_write_temp(hidden);
	out = th_run(&st, "%s check %s --checks %s 2>&1", th_vnetlab(), th_lab.name, file);
	cr_assert_eq(st, 1, "%s", out);
	cr_assert(strstr(out, "FAIL  h-web"), "%s", out);
	cr_assert(strstr(out, "      hint: delete or lower no-web"), "the hint of a failed check: %s", out);
	cr_assert(strstr(out, "PASS  h-alt"), "%s", out);
	cr_assert(strstr(out, "PASS  h-ssh"), "refused is allowed: %s", out);
	cr_assert_not(strstr(out, "web-open"), "the lab's own checks are not run: %s", out);
	cr_assert(strstr(out, "2 passed, 1 failed; 3/8 points"), "%s", out);
	free(out);
	out = th_compact(th_run(&st, "%s check %s --checks %s -o json", th_vnetlab(), th_lab.name, file));
	cr_assert_eq(st, 1);
	cr_assert(strstr(out, "{\"name\":\"h-web\""), "%s", out);
	cr_assert(strstr(out, "\"passed\":false,\"points\":0,\"maxPoints\":5"), "%s", out);
	cr_assert(strstr(out, "\"passed\":true,\"points\":2,\"maxPoints\":2"), "%s", out);
	cr_assert(strstr(out, "\"pass\":true"), "the old field stays: %s", out);
	cr_assert(strstr(out, "],\"passed\":2,\"failed\":1,\"total\":3,\"points\":3,\"maxPoints\":8}"), "%s", out);
	v = th_run(&st, "printf '%%s' '%s' | python3 -c 'import json,sys; json.load(sys.stdin)' 2>&1 || echo bad", out);
	cr_assert_str_eq(v, "", "valid JSON: %s", v);
	free(v);
	free(out);
	/* the lab's own checks: description under the line, hint on FAIL, points */
	out = th_run(&st, "%s check %s 2>&1", th_vnetlab(), th_lab.name);
	cr_assert(strstr(out, "\n      a gets b's page on port 80\n"), "%s", out);
	cr_assert(strstr(out, "      hint: which rule drops port 80?"), "%s", out);
	cr_assert(strstr(out, "1 passed, 1 failed; 1/4 points"), "%s", out);
	free(out);
	/* a checks file that does not fit the lab: one clear message, exit 1 */
	free(th_run(NULL, "printf 'checks:\\n  - {name: x, from: zz, to: b, port: 80, expect: allow}\\n' > %s", file));
	out = th_run(&st, "%s check %s --checks %s 2>&1", th_vnetlab(), th_lab.name, file);
	cr_assert_eq(st, 1, "%s", out);
	cr_assert(strstr(out, ":2:") && strstr(out, "unknown endpoint 'zz'"), "%s", out);
	free(out);
	unlink(file);
	free(file);
}

Test(workshop, score_over_several_labs)
{
	char *file, *out;
	int st;

	th_lab_up("ws", topo);
	up_other("wt");
	file = th_write_temp(hidden);
	free(th_run(NULL, "%s nsg rule delete %s n no-web", th_vnetlab(), other));
	out = th_run(&st, "%s score %s %s --checks %s 2>&1", th_vnetlab(), th_lab.name, other, file);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "LAB            STATUS  POINTS    PASSED   FAILING\n"), "%s", out);
	cr_assert_eq(count_lines_with(out, "\n"), 3, "a header and a row per lab: %s", out);
	cr_assert(strstr(out, "3/8       2/3      h-web\n"), "%s", out);
	cr_assert(strstr(out, "8/8       3/3      -\n"), "%s", out);
	free(out);
	out = th_run(&st, "%s score %s %s --checks %s -o tsv", th_vnetlab(), th_lab.name, other, file);
	/* az's tsv: no header; lab, status, points, maxPoints, passed, failed, total, failing */
	cr_assert_not(strstr(out, "maxPoints"), "%s", out);
	cr_assert(strstr(out, "\tup\t3\t8\t2\t1\t3\th-web\n"), "%s", out);
	cr_assert(strstr(out, "\tup\t8\t8\t3\t0\t3\t\n"), "%s", out);
	free(out);
	out = th_compact(th_run(&st, "%s score %s %s --checks %s -o json --watch", th_vnetlab(), th_lab.name, other, file));
	cr_assert_eq(st, 0, "--watch without a terminal scores once: %s", out);
	cr_assert(strstr(out, "\"points\":3,\"maxPoints\":8,\"passed\":2,\"failed\":1,\"total\":3,\"failing\":[\"h-web\"]"),
		  "%s", out);
	cr_assert_eq(count_lines_with(out, "{\"labs\""), 1, "%s", out);
	free(out);
	/* without --checks: each lab's own checks; a lab that is not up is a row too, and exit 1 */
	out = th_run(&st, "%s score %s nosuchlab9", th_vnetlab(), th_lab.name);
	cr_assert_eq(st, 1, "%s", out);
	cr_assert(strstr(out, "1/4       1/2      web-open\n"), "%s", out);
	cr_assert(strstr(out, "nosuchlab9     down    0/0"), "%s", out);
	free(out);
	out = th_run(&st, "%s score 'Bad-Name' 2>&1", th_vnetlab());
	cr_assert_eq(st, 1, "%s", out);
	free(out);
	unlink(file);
	free(file);
}

Test(workshop, reset_undoes_live_edits)
{
	char *out, *v, path[128];
	int st;

	th_lab_up("wr", topo);
	free(th_run(NULL, "%s nsg rule delete %s n no-web", th_vnetlab(), th_lab.name));
	free(th_run(NULL, "%s nsg rule add %s n no-alt --priority 110 --access Deny --destination-port-ranges 8080",
		    th_vnetlab(), th_lab.name));
	out = th_run(&st, "%s check %s 2>&1", th_vnetlab(), th_lab.name);
	cr_assert(strstr(out, "FAIL  alt-open") && strstr(out, "PASS  web-open"), "edited: %s", out);
	free(out);
	out = th_run(&st, "%s reset %s 2>&1", th_vnetlab(), th_lab.name);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "back to its file: 2 live edits undone"), "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/%s/edits", th_state_root(), th_lab.name);
	cr_assert_neq(access(path, F_OK), 0, "the edit journal is empty");
	out = th_run(&st, "%s check %s 2>&1", th_vnetlab(), th_lab.name);
	cr_assert(strstr(out, "PASS  alt-open") && strstr(out, "FAIL  web-open"), "as the file says: %s", out);
	free(out);
	out = th_run(&st, "%s nsg show %s n -o json", th_vnetlab(), th_lab.name);
	cr_assert(strstr(out, "no-web") && !strstr(out, "no-alt"), "%s", out);
	free(out);
	out = th_run(&st, "%s probe %s a b:80 -o json", th_vnetlab(), th_lab.name);
	v = th_json_get(out, "rule");
	cr_assert_str_eq(v, "no-web", "the kernel has the file's rule again: %s", out);
	free(v);
	free(out);
	/* a reset of a lab without edits is fine; of a lab that is not up, an error */
	out = th_run(&st, "%s reset %s 2>&1", th_vnetlab(), th_lab.name);
	cr_assert_eq(st, 0);
	cr_assert(strstr(out, "0 live edits undone"), "%s", out);
	free(out);
	out = th_run(&st, "%s reset nosuchlab9 2>&1", th_vnetlab());
	cr_assert_eq(st, 1, "%s", out);
	free(out);
}

Test(workshop, check_file_against_a_running_lab_picks_up_a_new_check)
{
	char *out, *text, *file;
	int st;

	th_skip_rootless("counts namespaces in the host's /run/netns, where a rootless lab has none");
	th_lab_up("wc", topo);
	/* the student's copy of the file, edited after up: a new check */
	cr_assert(asprintf(&text, "name: %s\n%s  - {name: brand-new, from: b, to: a, port: 22, expect: allow}\n",
			   th_lab.name, topo) > 0);
	file = th_write_temp(text);
	out = th_run(&st, "%s check %s 2>&1", th_vnetlab(), file);
	cr_assert(strstr(out, "is up: checking the checks of"), "says so: %s", out);
	cr_assert(strstr(out, "brand-new"), "the new check runs: %s", out);
	cr_assert_not(strstr(out, "warning:"), "same resources, no warning: %s", out);
	cr_assert(strstr(out, "2 passed, 1 failed"), "%s", out);
	free(out);
	/* the lab was not rebuilt: the same agent serves it */
	out = th_run(&st, "ls /run/netns | grep -c '^vl-%s-'", th_lab.name);
	cr_assert_str_eq(out, "4\n");
	free(out);
	/* a changed rule in the file: a warning naming the NSG; live edits are counted apart */
	free(text);
	cr_assert(asprintf(&text, "name: %s\n%s", th_lab.name, topo) > 0);
	memcpy(strstr(text, "destinationPortRange: '80'"), "destinationPortRange: '81'", 26);
	unlink(file);
	free(file);
	file = th_write_temp(text);
	free(th_run(NULL, "%s nsg rule set %s n no-web --priority 120", th_vnetlab(), th_lab.name));
	out = th_run(&st, "%s check %s 2>&1", th_vnetlab(), file);
	cr_assert(strstr(out, "warning: ") && strstr(out, "no longer matches the running lab"), "%s", out);
	cr_assert(strstr(out, "NSG n differs"), "%s", out);
	cr_assert(strstr(out, "(1 live edit;"), "%s", out);
	free(out);
	out = th_compact(th_run(&st, "%s check %s -o json 2>/dev/null", th_vnetlab(), file));
	cr_assert(strstr(out, "\"differences\":[\"NSG n\"]"), "%s", out);
	free(out);
	/* the same file under --name: another lab, built for the check and removed */
	out = th_run(&st, "%s check %s --name wz%d 2>&1", th_vnetlab(), file, getpid() % 100000);
	cr_assert_not(strstr(out, "is up: checking"), "%s", out);
	cr_assert(strstr(out, "PASS  web-open"), "port 81 is denied in this one, not 80: %s", out);
	free(out);
	out = th_run(&st, "ls /run/netns | grep -c '^vl-wz%d-'", getpid() % 100000);
	cr_assert_str_eq(out, "0\n", "removed after the check");
	free(out);
	unlink(file);
	free(file);
	free(text);
}

Test(workshop, run_keep_and_pause)
{
	char *out, *text, *file;
	int st;

	th_skip_rootless("counts namespaces in the host's /run/netns, where a rootless lab has none");
	th_lab_write("wk", topo);
	cr_assert(asprintf(&text, "name: %s\n%sscenario:\n  - say: first\n  - pause: look at it now\n  - pause:\n"
				  "  - check: alt-open\n",
			   th_lab.name, topo) > 0);
	unlink(th_lab.file);
	free(th_lab.file);
	th_lab.file = th_write_temp(text);
	free(text);
	/* stdin is not a terminal: the pause is skipped (its text is narration) */
	out = th_run(&st, "%s run %s --keep < /dev/null 2>&1", th_vnetlab(), th_lab.file);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "-- look at it now"), "%s", out);
	cr_assert(strstr(out, "is still up (--keep): 1 checks passed, 0 failed; 1/1 points"), "%s", out);
	free(out);
	out = th_run(&st, "ls /run/netns | grep -c '^vl-%s-'", th_lab.name);
	cr_assert_str_eq(out, "4\n", "kept");
	free(out);
	/* run --name with --checks: the checks file's scenario */
	file = th_write_temp("checks:\n  - {name: x, from: a, to: b, port: 8080, expect: allow}\n"
			     "scenario:\n  - check: x\n  - delete: {nsg: n, rule: no-web}\n"
			     "  - check: {from: a, to: b, port: 80, expect: allow}\n");
	out = th_run(&st, "%s run %s --name wl%d --checks %s 2>&1", th_vnetlab(), th_lab.file, getpid() % 100000, file);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "== lab wl") && strstr(out, "2 checks passed, 0 failed"), "%s", out);
	free(out);
	unlink(file);
	free(file);
}

/* ---- docs/workshop.md, run as written ---- */

static char *slurp(const char *path)
{
	char *out = th_run(NULL, "cat %s", path);

	cr_assert(out && *out, "cannot read %s", path);
	return out;
}

/* s with every whole word `from` replaced by `to` (malloc'd). */
static char *replace_word(const char *s, const char *from, const char *to)
{
	size_t n = strlen(from);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	for (const char *p = s; *p;) {
		if (!strncmp(p, from, n) && (p == s || !isalnum((unsigned char)p[-1])) &&
		    !isalnum((unsigned char)p[n])) {
			fputs(to, f);
			p += n;
		} else {
			fputc(*p++, f);
		}
	}
	fclose(f);
	return out;
}

/* Runs of blanks as one space, trailing blanks gone: a table compared by its words. */
static char *squeeze(const char *s)
{
	char *out = calloc(1, strlen(s) + 1), *d = out;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\t') {
			if (d > out && d[-1] != ' ' && d[-1] != '\n')
				*d++ = ' ';
		} else {
			if (*s == '\n' && d > out && d[-1] == ' ')
				d--;
			*d++ = *s;
		}
	}
	*d = '\0';
	return out;
}

Test(workshop, the_teachers_files_are_the_docs)
{
	static const char *const files[] = {"topologies/workshop/teacher/ex1.yaml",
					    "topologies/workshop/teacher/ex2.yaml",
					    "topologies/workshop/teacher/ex3.yaml"};
	char *doc = slurp("docs/workshop.md");

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *f = slurp(files[i]), *block;

		cr_assert(asprintf(&block, "```yaml\n%s```\n", f) > 0);
		cr_expect(strstr(doc, block), "docs/workshop.md does not show %s as it is", files[i]);
		free(block);
		free(f);
	}
	free(doc);
}

/*
 * Every ```sh line of an exercise runs in order (sudo dropped, vnetlab the binary under test,
 * alice and bob labs of this test); each ```text block after a score command is its output.
 */
static void run_exercise(const char *title)
{
	char *doc = slurp("docs/workshop.md"), *sec = strstr(doc, title), *end, *save = NULL, *last = NULL;
	char alice[16], bob[16];
	bool in_sh = false, in_text = false;
	char *want = NULL;
	size_t want_len = 0;
	FILE *w = NULL;
	int scores = 0;

	cr_assert(sec, "no section %s", title);
	end = strstr(sec + 1, "\n## ");
	if (end)
		*end = '\0';
	snprintf(alice, sizeof(alice), "wa%d", getpid() % 100000);
	snprintf(bob, sizeof(bob), "wb%d", getpid() % 100000);
	th_lab.before = th_root_snapshot();
	for (char *l = strtok_r(sec, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!in_sh && !in_text && !strcmp(l, "```sh")) {
			in_sh = true;
		} else if (!in_sh && !in_text && !strcmp(l, "```text")) {
			in_text = true;
			w = open_memstream(&want, &want_len);
		} else if ((in_sh || in_text) && !strcmp(l, "```")) {
			if (in_text) {
				char *got, *a, *b, *sg, *sw;

				fclose(w);
				cr_assert(last && strstr(last, "score"), "a text block after no score command");
				got = th_run(NULL, "%s", last);
				a = replace_word(got, alice, "alice");
				b = replace_word(a, bob, "bob");
				sg = squeeze(b);
				sw = squeeze(want);
				cr_expect_str_eq(sg, sw, "%s: %s\n--- got\n%s--- docs/workshop.md says\n%s", title, last, b,
						 want);
				scores++;
				free(got);
				free(a);
				free(b);
				free(sg);
				free(sw);
				free(want);
				want = NULL;
			}
			in_sh = in_text = false;
		} else if (in_text) {
			fprintf(w, "%s\n", l);
		} else if (in_sh && l[0] != '#' && strstr(l, "vnetlab ") && !strstr(l, "make install")) {
			char *a = replace_word(l, "alice", alice), *b = replace_word(a, "bob", bob), *cmd;
			char *s1 = replace_word(b, "sudo", ""), *out;
			int st;

			cr_assert(asprintf(&cmd, "VN=%s; vnetlab() { \"$VN\" \"$@\"; }; %s 2>&1", th_vnetlab(), s1) > 0);
			out = th_run(&st, "bash -c '%s'", cmd);
			/* check exits 1 on a FAIL: a workshop expects some; anything worse is a usage error */
			cr_expect(st == 0 || (st == 1 && strstr(l, "check ")), "%s: exit %d\n%s", l, st, out);
			free(last);
			cr_assert(asprintf(&last, "bash -c '%s'", cmd) > 0);
			free(out);
			free(cmd);
			free(a);
			free(b);
			free(s1);
		}
	}
	free(last);
	free(doc);
	cr_expect_gt(scores, 0, "%s shows no scoreboard", title);
	/* the exercise ends with its labs down; make sure of it and of the root namespace */
	free(th_run(NULL, "%s down %s >/dev/null 2>&1; %s down %s >/dev/null 2>&1", th_vnetlab(), alice, th_vnetlab(),
		    bob));
	{
		char *after = th_root_snapshot(), *left = th_run(NULL, "ls /run/netns | grep -e '^vl-%s-' -e '^vl-%s-'",
								 alice, bob);

		cr_expect_str_eq(left, "", "namespaces left: %s", left);
		cr_expect_str_eq(after, th_lab.before, "the root namespace changed");
		free(after);
		free(left);
	}
	free(th_lab.before);
	th_lab.before = NULL;
}

Test(workshop, exercise_1_first_article)
{
	if (!th_is_root())
		cr_skip_test("needs root");
	run_exercise("## Exercise 1");
}

Test(workshop, exercise_2_second_article)
{
	if (!th_is_root())
		cr_skip_test("needs root");
	run_exercise("## Exercise 2");
}

Test(workshop, exercise_3_hub_and_spoke)
{
	if (!th_is_root())
		cr_skip_test("needs root");
	run_exercise("## Exercise 3");
}

/* ---- README.md's tour, in order ---- */

/* s with the lab name `from` replaced in the words that are no path (topologies/kubenet-x.yaml). */
static char *replace_lab(const char *s, const char *from, const char *to)
{
	char *out = NULL, *copy = strdup(s), *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *r = strchr(w, '/') || strchr(w, '.') ? strdup(w) : replace_word(w, from, to);

		fprintf(f, "%s%s", out && len ? " " : "", r);
		fflush(f);
		free(r);
	}
	fclose(f);
	free(copy);
	return out;
}

Test(workshop, the_readme_tour_works_in_order)
{
	char *readme = slurp("README.md"), *sec, *end, *save = NULL, *before;
	struct vl_strv names = {0}, ours = {0};
	int lines = 0;

	if (!th_is_root())
		cr_skip_test("needs root");
	sec = strstr(readme, "## A short tour");
	cr_assert(sec);
	sec = strstr(sec, "```sh\n");
	cr_assert(sec);
	sec += 6;
	end = strstr(sec, "```");
	*end = '\0';
	before = th_root_snapshot();
	/* the lab names the tour uses: its files' names, and the students' */
	{
		char *list = th_run(NULL, "awk '/^name:/{print $2}' topologies/*.yaml"), *s2 = NULL;

		for (char *w = strtok_r(list, "\n", &s2); w; w = strtok_r(NULL, "\n", &s2))
			vl_strv_push(&names, w);
		vl_strv_push(&names, "alice");
		free(list);
	}
	for (size_t i = 0; i < names.n; i++) {
		char mine[16];

		snprintf(mine, sizeof(mine), "q%.3s%d", names.v[i], getpid() % 100000);
		vl_strv_push(&ours, mine);
	}
	for (char *l = strtok_r(sec, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *cmd, *hash, *tmp, *file, *out;
		int st;

		if (!*l || strstr(l, "make install"))
			continue; /* never install on a shared machine */
		cmd = strdup(l);
		hash = strstr(cmd, "  #");
		if (hash)
			*hash = '\0';
		/* up, run and check of a file build a lab: give it a name of this test's */
		file = strstr(cmd, "topologies/");
		if (file && (strstr(cmd, "vnetlab up ") || strstr(cmd, "vnetlab run ") || strstr(cmd, "vnetlab check ")) &&
		    !strstr(cmd, "--name")) {
			char path[256], *nm;

			sscanf(file, "%255s", path);
			nm = th_run(NULL, "awk '/^name:/{print $2}' %s", path);
			nm[strcspn(nm, "\n")] = '\0';
			cr_assert(asprintf(&tmp, "%s --name %s", cmd, nm) > 0);
			free(cmd);
			cmd = tmp;
			free(nm);
		}
		for (size_t i = 0; i < names.n; i++) {
			tmp = replace_lab(cmd, names.v[i], ours.v[i]);
			free(cmd);
			cmd = tmp;
		}
		tmp = replace_word(cmd, "sudo", "");
		free(cmd);
		cmd = tmp;
		out = th_run(&st, "bash -c 'VN=%s; vnetlab() { \"$VN\" \"$@\"; }; %s' 2>&1 </dev/null", th_vnetlab(), cmd);
		cr_expect_eq(st, 0, "README tour: %s\n(as run: %s): exit %d\n%s", l, cmd, st, out);
		lines++;
		free(out);
		free(cmd);
	}
	cr_assert_geq(lines, 20, "%d lines", lines);
	for (size_t i = 0; i < ours.n; i++) {
		char *left;

		free(th_run(NULL, "%s down %s >/dev/null 2>&1", th_vnetlab(), ours.v[i]));
		left = th_run(NULL, "ls /run/netns | grep '^vl-%s-'", ours.v[i]);
		cr_expect_str_eq(left, "", "left behind: %s", left);
		free(left);
	}
	{
		char *after = th_root_snapshot();

		cr_expect_str_eq(after, before, "the root namespace changed");
		free(after);
	}
	free(before);
	vl_strv_free(&names);
	vl_strv_free(&ours);
	free(readme);
}

Test(workshop, a_progress_line_on_a_terminal_for_large_labs)
{
	char *body = NULL, *out;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	int st;

	fprintf(f, "vnets:\n  - name: v\n    addressSpace: [10.72.0.0/16]\n    subnets:\n"
		   "      - {name: s, addressPrefix: 10.72.0.0/22}\nvms:\n");
	for (int i = 0; i < 120; i++)
		fprintf(f, "  - {name: vm%d, subnet: s}\n", i);
	fclose(f);
	th_lab_write("wg", body);
	free(body);
	out = th_run(&st, "command -v script >/dev/null || { echo skip; exit 0; }; "
			  "script -qec '%s up %s --quiet' /dev/null",
		     th_vnetlab(), th_lab.file);
	cr_assert_eq(st, 0, "%s", out);
	if (strcmp(out, "skip\n")) {
		cr_assert(strstr(out, "\rbuilding lab ") && strstr(out, " namespaces"), "%s", out);
		cr_assert(strstr(out, "\r\033[K"), "the line is cleared: %s", out);
		cr_assert(strstr(out, "is up: 120 endpoints"), "%s", out);
	}
	free(out);
	free(th_run(NULL, "%s down %s", th_vnetlab(), th_lab.name));
	/* not a terminal: no progress line */
	out = th_run(&st, "%s up %s --quiet", th_vnetlab(), th_lab.file);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert_not(strchr(out, '\r'), "%s", out);
	free(out);
}
