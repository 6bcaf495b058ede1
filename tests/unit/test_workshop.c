// SPDX-License-Identifier: MIT
/*
 * The workshop pieces that need no root: checks with description, hint and points, the pause
 * step, a checks file loaded over a lab, the resource diff behind `check FILE`'s warning, lab
 * names, every verb's --help, --version, completion words and `make install` into a DESTDIR.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"
#include "vnetlab/loader.h"

#define TOPO "name: ws\n" TOPO_BODY
#define TOPO_BODY                                                                                            \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.1.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - {name: s, addressPrefix: 10.1.1.0/24, networkSecurityGroup: n}\n"                           \
	"networkSecurityGroups:\n"                                                                           \
	"  - name: n\n"                                                                                      \
	"    securityRules:\n"                                                                               \
	"      - {name: r, priority: 100, direction: Inbound, access: Deny, protocol: Tcp,\n"                \
	"         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*',\n"          \
	"         destinationPortRange: '22'}\n"                                                             \
	"vms:\n"                                                                                             \
	"  - {name: a, subnet: s}\n"                                                                         \
	"  - {name: b, subnet: s, app: hello, ports: [80]}\n"

TestSuite(workshop, .timeout = 60);

Test(workshop, checks_have_description_hint_and_points)
{
	struct vl_lab *lab = th_load(TOPO "checks:\n"
					  "  - {name: web, from: a, to: b, port: 80, expect: allow,\n"
					  "     description: a reaches b's web page, hint: look at rule r, points: 5}\n"
					  "  - {name: ssh, from: a, to: b, port: 22, expect: deny}\n"
					  "scenario:\n"
					  "  - pause: look at the page\n"
					  "  - pause:\n"
					  "  - check: {from: a, to: b, port: 80, expect: allow, points: 2}\n");

	cr_assert_eq(lab->n_checks, 3);
	cr_assert_str_eq(lab->checks[0].description, "a reaches b's web page");
	cr_assert_str_eq(lab->checks[0].hint, "look at rule r");
	cr_assert_eq(lab->checks[0].points, 5);
	cr_assert_null(lab->checks[1].hint);
	cr_assert_eq(lab->checks[1].points, 1, "a check is worth 1 point unless it says otherwise");
	cr_assert_eq(lab->checks[2].points, 2);
	cr_assert_eq(lab->n_steps, 3);
	cr_assert_eq(lab->steps[0].kind, VL_STEP_PAUSE);
	cr_assert_str_eq(lab->steps[0].text, "look at the page");
	cr_assert_eq(lab->steps[1].kind, VL_STEP_PAUSE);
	cr_assert_null(lab->steps[1].text);
	vl_lab_free(lab);
}

Test(workshop, bad_points_and_pause_are_refused)
{
	cr_assert(strstr(th_load_error(TOPO "checks:\n  - {name: c, from: a, to: b, port: 80, expect: allow, points: -1}\n"),
			 "points"));
	cr_assert(strstr(th_load_error(TOPO "checks:\n  - {name: c, from: a, to: b, port: 80, expect: allow, points: x}\n"),
			 "points"));
	cr_assert(strstr(th_load_error(TOPO "checks:\n  - {name: c, from: a, to: b, port: 80, expect: allow, tip: x}\n"),
			 "unknown key 'tip'"));
	cr_assert(strstr(th_load_error(TOPO "scenario:\n  - pause: [a]\n"), "pause"));
}

Test(workshop, a_checks_file_replaces_the_labs_checks)
{
	static const char checks[] = "checks:\n"
				     "  - {name: hidden1, from: a, to: b, port: 80, expect: allow, points: 3,\n"
				     "     expectRule: n/AllowVnetInBound}\n"
				     "  - {name: hidden2, from: b, to: a, port: 22, expect: deny, points: 2}\n"
				     "scenario:\n"
				     "  - check: hidden1\n"
				     "  - delete: {nsg: n, rule: r}\n";
	struct vl_lab *lab = th_load(TOPO "checks:\n  - {name: own, from: a, to: b, port: 80, expect: allow}\n");
	struct vl_error err = {0};

	cr_assert_eq(vl_load_checks_buffer("t.yaml", checks, strlen(checks), lab, &err), 0, "%d:%d: %s", err.line,
		     err.col, err.msg);
	cr_assert_eq(lab->n_checks, 2);
	cr_assert_str_eq(lab->checks[0].name, "hidden1");
	cr_assert_eq(lab->checks[0].points + lab->checks[1].points, 5);
	cr_assert_eq(lab->n_steps, 2);
	/* a rule the lab no longer has (a student deleted it): the check loads, and will fail */
	{
		static const char gone[] = "checks:\n  - {name: c, from: a, to: b, port: 22, expect: deny, expectRule: n/gone}\n";

		cr_assert_eq(vl_load_checks_buffer("t.yaml", gone, strlen(gone), lab, &err), 0, "%s", err.msg);
		cr_assert_str_eq(lab->checks[0].expect_rule, "n/gone");
	}
	vl_lab_free(lab);
}

Test(workshop, a_bad_checks_file_says_where_and_leaves_no_checks)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"checks:\n  - {name: c, from: nobody, to: b, port: 80, expect: allow}\n", "unknown endpoint 'nobody'"},
	    {"checks:\n  - {name: c, from: a, to: b, port: 80, expect: allow, expectRule: zzz/r}\n",
	     "unknown network security group"},
	    {"vnets: []\nchecks: []\n", "unknown key 'vnets'"},
	    {"scenario:\n  - check: missing\n", "unknown check 'missing'"},
	    {"", "empty checks file"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vl_lab *lab = th_load(TOPO "checks:\n  - {name: own, from: a, to: b, port: 80, expect: allow}\n");
		struct vl_error err = {0};

		cr_expect_neq(vl_load_checks_buffer("t.yaml", bad[i].text, strlen(bad[i].text), lab, &err), 0, "%s",
			      bad[i].text);
		cr_expect(strstr(err.msg, bad[i].want), "'%s': %s", bad[i].text, err.msg);
		cr_expect_eq(lab->n_checks, 0);
		vl_lab_free(lab);
	}
}

static char *diff_of(const char *a, const char *b)
{
	struct vl_lab *x = th_load(a), *y = th_load(b);
	struct vl_strv d = {0};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_eq(vl_lab_diff(x, y, &d), 0);
	for (size_t i = 0; i < d.n; i++)
		fprintf(f, "%s%s", i ? "; " : "", d.v[i]);
	fclose(f);
	vl_strv_free(&d);
	vl_lab_free(x);
	vl_lab_free(y);
	return out;
}

Test(workshop, diff_names_the_resources_not_the_checks)
{
	char *d;

	d = diff_of(TOPO, "name: other\n" TOPO_BODY);
	cr_assert_str_eq(d, "", "names are no difference");
	free(d);
	d = diff_of(TOPO, TOPO "checks:\n  - {name: c, from: a, to: b, port: 80, expect: allow}\n");
	cr_assert_str_eq(d, "", "checks are no difference");
	free(d);
	d = diff_of(TOPO, TOPO "  - {name: c, subnet: s}\n");
	cr_assert_str_eq(d, "endpoint c (only in one)");
	free(d);
	{
		char *t = strdup(TOPO), *p = strstr(t, "'22'");

		memcpy(p, "'23'", 4);
		d = diff_of(TOPO, t);
		cr_assert_str_eq(d, "NSG n");
		free(d);
		p = strstr(t, "10.1.1.0/24");
		memcpy(p, "10.1.1.0/25", 11);
		d = diff_of(TOPO, t);
		cr_assert(strstr(d, "subnet v/s"), "%s", d);
		free(d);
		free(t);
	}
}

Test(workshop, lab_names)
{
	static const char *const good[] = {"a", "abc123", "0", "abcdefghijkl"};
	static const char *const bad[] = {"", "A", "a-b", "a.b", "../x", "abcdefghijklm", "a b"};
	struct vl_lab *lab = th_load(TOPO);

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect(vl_lab_name_ok(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_not(vl_lab_name_ok(bad[i]), "%s", bad[i]);
	cr_assert_eq(vl_lab_set_name(lab, "student7"), 0);
	cr_assert_str_eq(lab->name, "student7");
	cr_assert_neq(vl_lab_set_name(lab, "Student-7"), 0);
	cr_assert_str_eq(lab->name, "student7");
	vl_lab_free(lab);
}

Test(workshop, bad_names_exit_2_or_1_and_build_nothing)
{
	static const char *const args[] = {
	    "up --dry-run topologies/vnet-basics.yaml --name Bad-Name",
	    "up --dry-run topologies/vnet-basics.yaml --name abcdefghijklm",
	    "show ../../etc",
	    "explain a/b x y:80",
	};
	int st;

	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		char *out = th_run(&st, "%s %s 2>&1", th_vnetlab(), args[i]);

		cr_expect_eq(st, 1, "%s: exit %d: %s", args[i], st, out);
		free(out);
	}
}

Test(workshop, dry_run_takes_the_name)
{
	int st;
	char *out = th_run(&st, "%s up --dry-run topologies/vnet-basics.yaml --name zz9 2>&1", th_vnetlab());

	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "# lab zz9:"), "%s", out);
	cr_assert(strstr(out, "vl-zz9-fabric."), "%s", out);
	cr_assert_not(strstr(out, "vl-basics-"), "%s", out);
	free(out);
}

/* Every verb: a description, each option of its usage line with a default, and an example. */
Test(workshop, every_verb_has_a_full_help)
{
	int st;
	char *list = th_run(&st, "%s --help | awk '/^  vnetlab /{print $2}'", th_vnetlab()), *save = NULL;
	int verbs = 0;

	for (char *v = strtok_r(list, "\n", &save); v; v = strtok_r(NULL, "\n", &save)) {
		char *out = th_run(&st, "%s %s --help", th_vnetlab(), v), *usage, *opts, *p;

		verbs++;
		cr_expect_eq(st, 0, "%s --help: exit %d", v, st);
		cr_expect(strstr(out, "Examples:\n  "), "%s --help has no example:\n%s", v, out);
		cr_expect(strstr(out, "Options:"), "%s --help has no options section:\n%s", v, out);
		usage = strndup(out, strcspn(out, "\n"));
		opts = strstr(out, "Options:");
		/* every --option (and -o) of the usage line is described in Options with its default */
		for (p = usage; opts && (p = strstr(p, " [-")); p++) {
			char opt[40];
			const char *line;

			sscanf(p + 2, "%39[a-z-]", opt);
			line = strstr(opts, opt);
			cr_expect(line, "%s --help: option %s is not described:\n%s", v, opt, out);
			if (line)
				cr_expect(strstr(line, "default") && strstr(line, "default") < strstr(line, "Examples:"),
					  "%s --help: option %s has no default:\n%s", v, opt, out);
		}
		cr_expect_gt(strcspn(strchr(out, '\n') + 2, "\n"), 20, "%s --help: no description:\n%s", v, out);
		free(usage);
		free(out);
	}
	cr_assert_geq(verbs, 16, "%d verbs", verbs);
	free(list);
}

Test(workshop, version)
{
	int st;
	char *out = th_run(&st, "%s --version", th_vnetlab());

	cr_assert_eq(st, 0);
	cr_assert(!strncmp(out, "vnetlab ", 8) && strchr("0123456789", out[8]), "%s", out);
	free(out);
}

Test(workshop, completion_words_from_a_file)
{
	int st;
	char *out = th_run(&st, "%s complete rules topologies/kubenet-outbound.yaml aciNsg", th_vnetlab());

	cr_assert_eq(st, 0);
	cr_assert_str_eq(out, "allow-aks-subnet\nallow-load-balancer\ndeny-all\n");
	free(out);
	out = th_run(&st, "%s complete endpoints topologies/kubenet-outbound.yaml", th_vnetlab());
	cr_assert(strstr(out, "observer\n") && strstr(out, "myContainerGroup\n"), "%s", out);
	free(out);
	out = th_run(&st, "%s complete nsgs topologies/kubenet-outbound.yaml", th_vnetlab());
	cr_assert_str_eq(out, "aciNsg\n");
	free(out);
	out = th_run(&st, "%s complete endpoints nolabhere", th_vnetlab());
	cr_assert_eq(st, 0);
	cr_assert_str_eq(out, "", "nothing, quietly");
	free(out);
	/* the completion script itself: bash offers the verbs */
	out = th_run(&st,
		     "command -v bash >/dev/null || { echo skip; exit 0; }; bash -c 'vnetlab() { %s \"$@\"; }; "
		     ". docs/vnetlab.bash; COMP_WORDS=(vnetlab sc); COMP_CWORD=1; _vnetlab; echo \"${COMPREPLY[*]}\"'",
		     th_vnetlab());
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "score") || strstr(out, "skip"), "%s", out);
	free(out);
	out = th_run(&st,
		     "bash -c 'vnetlab() { %s \"$@\"; }; . docs/vnetlab.bash; "
		     "COMP_WORDS=(vnetlab nsg rule set topologies/kubenet-outbound.yaml aciNsg d); COMP_CWORD=6; "
		     "_vnetlab; echo \"${COMPREPLY[*]}\"'",
		     th_vnetlab());
	cr_assert_str_eq(out, "deny-all\n");
	free(out);
}

Test(workshop, make_install_into_a_destdir)
{
	char dir[] = "/tmp/vnetlab-destdir-XXXXXX";
	char *out;
	int st;

	cr_assert_not_null(mkdtemp(dir));
	out = th_run(&st, "make -s install DESTDIR=%s PREFIX=/usr BUILD=$(dirname %s) 2>&1", dir, th_vnetlab());
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	out = th_run(&st,
		     "cd %s && test -x usr/bin/vnetlab && test -s usr/share/man/man1/vnetlab.1 && "
		     "test -s usr/share/bash-completion/completions/vnetlab && echo ok",
		     dir);
	cr_assert_str_eq(out, "ok\n", "installed: %s", out);
	free(out);
	out = th_run(&st, "command -v man >/dev/null || exit 0; MANWIDTH=80 man -l %s/usr/share/man/man1/vnetlab.1 2>&1 | grep -c score",
		     dir);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	free(th_run(NULL, "rm -rf %s", dir));
}

Test(workshop, bad_arguments_of_the_workshop_verbs_exit_2_with_usage)
{
	static const char *const bad[] = {
	    "score",
	    "score -o xml lab",
	    "score --interval 0 lab",
	    "score --all lab",
	    "score --bogus lab",
	    "reset",
	    "reset a b",
	    "reset --all",
	    "run --bogus topologies/kubenet-outbound.yaml",
	    "run --name",
	    "run topologies/kubenet-outbound.yaml extra",
	    "check somelab --name other",
	    "check --checks",
	    "check a b",
	    "up topologies/kubenet-outbound.yaml --name",
	    "down somelab --name x",
	    "down --all --name x",
	    "complete",
	    "complete rules",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int st;
		char *err = th_run(&st, "%s %s 2>&1 >/dev/null", th_vnetlab(), bad[i]);

		cr_expect_eq(st, 2, "'vnetlab %s': exit %d (want 2): %s", bad[i], st, err);
		cr_expect(strstr(err, "usage:"), "'vnetlab %s': no usage line: %s", bad[i], err);
		free(err);
	}
}
