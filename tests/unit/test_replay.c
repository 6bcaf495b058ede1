// SPDX-License-Identifier: MIT
/*
 * A journal's replay (vl_lab_apply_edits) against the edits applied one by one, and compaction of
 * a lab's journal on disk (thresholds, triggers, a crash between its write and its rename). The
 * state lives in a private temporary root (vl_state_use_root): no lab, no kernel.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vnetlab/journal.h"
#include "vnetlab/loader.h"
#include "vnetlab/model.h"
#include "vnetlab/state.h"

#define RULES 40

/* Two NSGs, `big` with RULES rules, and an ASG a rule may name. */
static char *topology(size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	cr_assert(f);
	fputs("name: rp\n"
	      "vnets: [{name: v, addressSpace: [10.50.0.0/16], subnets: [{name: s, addressPrefix: "
	      "10.50.0.0/24, "
	      "networkSecurityGroup: big}, {name: t, addressPrefix: 10.50.1.0/24, networkSecurityGroup: "
	      "small}]}]\n"
	      "applicationSecurityGroups: [{name: web}]\n"
	      "networkSecurityGroups:\n"
	      "  - name: big\n"
	      "    securityRules:\n",
	      f);
	for (int i = 0; i < RULES; i++)
		fprintf(f,
			"      - {name: r%d, priority: %d, direction: %s, access: Allow, protocol: Tcp, "
			"sourceAddressPrefix: 172.17.0.%d/32, sourcePortRange: '*', "
			"destinationAddressPrefix: '*', "
			"destinationPortRange: '%d'}\n",
			i, 100 + i, i % 2 ? "Outbound" : "Inbound", i, 1000 + i);
	fputs("  - name: small\n"
	      "    securityRules:\n"
	      "      - {name: s0, priority: 200, direction: Inbound, access: Deny, protocol: '*', "
	      "sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*', "
	      "destinationPortRange: '*'}\n"
	      "vms:\n"
	      "  - {name: vm1, subnet: s, applicationSecurityGroups: [web]}\n"
	      "  - {name: vm2, subnet: t}\n",
	      f);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

static struct vl_lab *load(void)
{
	struct vl_error err = {0};
	struct vl_lab *l = NULL;
	size_t len;
	char *text = topology(&len);

	cr_assert_eq(vl_load_buffer("rp.yaml", text, len, &l, &err), 0, "%s", err.msg);
	free(text);
	return l;
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool strv_same(const struct vl_strv *a, const struct vl_strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

/* Stricter than vl_lab_diff: the rules in the same order, every field, match sets and place. */
static void expect_same_nsgs(const struct vl_lab *a, const struct vl_lab *b)
{
	struct vl_strv diffs = {0};

	cr_assert_eq(a->n_nsgs, b->n_nsgs);
	for (size_t g = 0; g < a->n_nsgs; g++) {
		const struct vl_nsg *x = &a->nsgs[g], *y = &b->nsgs[g];

		cr_assert_eq(x->n_rules, y->n_rules, "NSG %s: %zu rules against %zu", x->name, x->n_rules,
			     y->n_rules);
		for (size_t i = 0; i < x->n_rules; i++) {
			const struct vl_rule *r = &x->rules[i], *s = &y->rules[i];

			cr_assert_str_eq(r->name, s->name, "NSG %s: rule %zu", x->name, i);
			cr_expect(r->priority == s->priority && r->dir == s->dir && r->access == s->access &&
				      r->proto == s->proto && r->loc.line == s->loc.line,
				  "NSG %s: rule %s differs", x->name, r->name);
			cr_expect(str_same(r->description, s->description) &&
				      str_same(r->src_prefix, s->src_prefix) &&
				      str_same(r->dst_prefix, s->dst_prefix) &&
				      str_same(r->src_port, s->src_port) &&
				      str_same(r->dst_port, s->dst_port),
				  "NSG %s: rule %s: a field differs", x->name, r->name);
			cr_expect(strv_same(&r->src_prefixes, &s->src_prefixes) &&
				      strv_same(&r->dst_prefixes, &s->dst_prefixes) &&
				      strv_same(&r->src_ports, &s->src_ports) &&
				      strv_same(&r->dst_ports, &s->dst_ports) &&
				      strv_same(&r->src_asgs, &s->src_asgs) &&
				      strv_same(&r->dst_asgs, &s->dst_asgs),
				  "NSG %s: rule %s: a list differs", x->name, r->name);
			cr_expect(r->n_src == s->n_src && r->n_dst == s->n_dst && r->n_sport == s->n_sport &&
				      r->n_dport == s->n_dport && r->n_src && r->n_dport,
				  "NSG %s: rule %s: match sets differ or are empty", x->name, r->name);
		}
	}
	cr_assert_eq(vl_lab_diff(a, b, &diffs), 0);
	cr_expect_eq(diffs.n, 0, "%s", diffs.n ? diffs.v[0] : "");
	vl_strv_free(&diffs);
}

static struct vl_rule_edit mk(enum vl_edit_kind kind, const char *nsg, const char *rule, const char *k1,
			      const char *v1, const char *k2, const char *v2)
{
	struct vl_rule_edit e = {.kind = kind, .nsg = strdup(nsg), .rule = strdup(rule)};

	if (k1) {
		vl_strv_push(&e.keys, k1);
		vl_strv_push(&e.values, v1);
	}
	if (k2) {
		vl_strv_push(&e.keys, k2);
		vl_strv_push(&e.values, v2);
	}
	return e;
}

static unsigned rnd_state = 12345;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) % n;
}

/* One candidate edit: sets of every kind, adds, deletes and re-adds, names in another case. */
static struct vl_rule_edit candidate(void)
{
	char rule[32], v[64], v2[64];
	unsigned r = rnd(RULES + 12);

	if (r < RULES)
		snprintf(rule, sizeof(rule), rnd(4) ? "r%u" : "R%u", r);
	else
		snprintf(rule, sizeof(rule), "n%u", r - RULES);
	switch (rnd(9)) {
	case 0:
		return mk(VL_EDIT_DELETE, "big", rule, NULL, NULL, NULL, NULL);
	case 1:
		snprintf(v, sizeof(v), "%u", 100 + rnd(200));
		return mk(VL_EDIT_ADD, "big", rule, "priority", v, rnd(2) ? "direction" : NULL, "Outbound");
	case 2:
		snprintf(v, sizeof(v), "%u", 100 + rnd(200));
		return mk(VL_EDIT_SET, "big", rule, "priority", v, NULL, NULL);
	case 3:
		return mk(VL_EDIT_SET, "big", rule, "access", rnd(2) ? "Deny" : "Allow", "protocol",
			  rnd(2) ? "Udp" : "*");
	case 4:
		snprintf(v, sizeof(v), "%u-%u", 2000 + rnd(100), 3000 + rnd(100));
		return mk(VL_EDIT_SET, "big", rule, "destinationPortRange", v, NULL, NULL);
	case 5:
		snprintf(v, sizeof(v), "10.%u.0.0/16 10.%u.0.0/16", rnd(200), 200 + rnd(50));
		return mk(VL_EDIT_SET, "big", rule, "sourceAddressPrefixes", v, NULL, NULL);
	case 6:
		snprintf(v, sizeof(v), "note\t%u\nline two", rnd(1000));
		return mk(VL_EDIT_SET, "big", rule, "description", v, NULL, NULL);
	case 7:
		snprintf(v2, sizeof(v2), "%u", 300 + rnd(50));
		return mk(rnd(2) ? VL_EDIT_SET : VL_EDIT_ADD, "small", rnd(2) ? "s0" : "s1", "priority", v2,
			  "sourceAddressPrefix", rnd(2) ? "VirtualNetwork" : "*");
	default:
		return mk(VL_EDIT_SET, "big", rule, "sourceAddressPrefix", "*", "destinationPortRanges",
			  "80 443 8080-8090");
	}
}

/* `n` edits, each valid where it is made (applied to *one_by_one as it is kept). */
static struct vl_rule_edit *valid_edits(size_t n, struct vl_lab **one_by_one)
{
	struct vl_rule_edit *v = calloc(n, sizeof(*v));
	struct vl_lab *l = load();
	size_t k = 0, tried = 0;

	cr_assert(v);
	while (k < n) {
		struct vl_error err = {0};
		struct vl_rule_edit e = candidate();

		cr_assert_lt(++tried, 50 * n, "too few candidates apply");
		if (vl_lab_apply_edit(l, &e, &err))
			vl_rule_edit_clear(&e);
		else
			v[k++] = e;
	}
	*one_by_one = l;
	return v;
}

static void free_edits(struct vl_rule_edit *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vl_rule_edit_clear(&v[i]);
	free(v);
}

Test(replay, many_edits_replay_to_the_lab_the_edits_make_one_by_one)
{
	struct vl_lab *seq, *batch = load();
	struct vl_rule_edit *v = valid_edits(500, &seq);
	struct vl_error err = {0};
	size_t kinds[3] = {0};

	for (size_t i = 0; i < 500; i++)
		kinds[v[i].kind]++;
	cr_assert(kinds[VL_EDIT_ADD] > 5 && kinds[VL_EDIT_DELETE] > 5 && kinds[VL_EDIT_SET] > 100,
		  "a mix of edits: %zu sets, %zu adds, %zu deletes", kinds[VL_EDIT_SET], kinds[VL_EDIT_ADD],
		  kinds[VL_EDIT_DELETE]);
	cr_assert_eq(vl_lab_apply_edits(batch, v, 500, &err), 0, "%s", err.msg);
	expect_same_nsgs(seq, batch);
	free_edits(v, 500);
	vl_lab_free(seq);
	vl_lab_free(batch);
}

/* Through the journal's text: intents, outcomes, aborted edits in between, then parsed and replayed. */
Test(replay, a_journal_of_many_edits_replays_to_the_same_lab)
{
	struct vl_lab *seq, *replayed = load();
	struct vl_rule_edit *v = valid_edits(300, &seq);
	struct vl_journal j = {0};
	struct vl_error err = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (size_t i = 0; i < 300; i++) {
		char *line;
		size_t n;

		if (i % 7 == 3) { /* an edit whose commit failed: never applied */
			struct vl_rule_edit bad = mk(VL_EDIT_DELETE, "big", "r1", NULL, NULL, NULL, NULL);

			cr_assert_eq(vl_journal_format_intent(&bad, &line, &n), 0);
			fwrite(line, 1, n, f);
			fputs("abort\n", f);
			free(line);
			vl_rule_edit_clear(&bad);
		}
		cr_assert_eq(vl_journal_format_intent(&v[i], &line, &n), 0);
		fwrite(line, 1, n, f);
		fputs("done\n", f);
		free(line);
	}
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(vl_journal_parse(buf, len, &j), 0, "line %zu", j.line);
	cr_assert_eq(j.n, 300);
	cr_assert_eq(vl_lab_apply_edits(replayed, j.edits, j.n, &err), 0, "%s", err.msg);
	expect_same_nsgs(seq, replayed);
	vl_journal_clear(&j);
	free(buf);
	free_edits(v, 300);
	vl_lab_free(seq);
	vl_lab_free(replayed);
}

/* An edit that cannot be made: the error and the lab are those of the edits applied one by one. */
Test(replay, a_bad_edit_fails_as_it_does_alone)
{
	struct vl_rule_edit v[4] = {
	    mk(VL_EDIT_SET, "big", "r1", "access", "Deny", NULL, NULL),
	    mk(VL_EDIT_DELETE, "big", "r2", NULL, NULL, NULL, NULL),
	    mk(VL_EDIT_SET, "big", "r3", "priority", "100", NULL, NULL), /* r0's priority and direction */
	    mk(VL_EDIT_SET, "big", "r4", "access", "Deny", NULL, NULL),
	};
	struct vl_lab *seq = load(), *batch = load();
	struct vl_error e1 = {0}, e2 = {0};
	int rc = 0;

	/* r3 is Outbound, r0 Inbound: make r3 Inbound first so the priority clashes */
	vl_strv_push(&v[2].keys, "direction");
	vl_strv_push(&v[2].values, "Inbound");
	for (size_t i = 0; i < 4 && !rc; i++)
		rc = vl_lab_apply_edit(seq, &v[i], &e1);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_eq(vl_lab_apply_edits(batch, v, 4, &e2), rc);
	cr_expect_str_eq(e2.msg, e1.msg);
	cr_expect(strstr(e2.msg, "SecurityRuleConflict"), "%s", e2.msg);
	expect_same_nsgs(seq, batch); /* r1 denied and r2 gone in both, r4 untouched */
	cr_expect_eq(batch->nsgs[0].n_rules, RULES - 1);
	for (size_t i = 0; i < 4; i++)
		vl_rule_edit_clear(&v[i]);
	vl_lab_free(seq);
	vl_lab_free(batch);
}

Test(replay, unknown_nsg_and_rule_are_refused)
{
	struct vl_rule_edit v[2] = {
	    mk(VL_EDIT_SET, "big", "r1", "access", "Deny", NULL, NULL),
	    mk(VL_EDIT_SET, "big", "nosuch", "access", "Deny", NULL, NULL),
	};
	struct vl_rule_edit w = mk(VL_EDIT_SET, "nonsg", "r1", "access", "Deny", NULL, NULL);
	struct vl_lab *l = load();
	struct vl_error err = {0};

	cr_expect_eq(vl_lab_apply_edits(l, v, 2, &err), -ENOENT);
	cr_expect(strstr(err.msg, "no rule named \"nosuch\""), "%s", err.msg);
	cr_expect_eq(vl_lab_apply_edits(l, &w, 1, &err), -ENOENT);
	cr_expect_eq(vl_lab_apply_edits(l, NULL, 0, &err), 0);
	vl_rule_edit_clear(&v[0]);
	vl_rule_edit_clear(&v[1]);
	vl_rule_edit_clear(&w);
	vl_lab_free(l);
}

/* ---- compaction of a lab's journal on disk ---- */

static char root[64];

static void state_setup(void)
{
	char user[64];
	size_t len;
	char *text = topology(&len);

	snprintf(root, sizeof(root), "/tmp/vl-replay-XXXXXX");
	cr_assert(mkdtemp(root));
	cr_assert_eq(vl_state_use_root(root, user, sizeof(user)), 0);
	cr_assert_eq(vl_state_create("rp", "/nonexistent/rp.yaml", text, len, NULL), 0);
	free(text);
}

static void state_teardown(void)
{
	vl_state_remove("rp");
	rmdir(root);
	vl_state_use_root(NULL, NULL, 0);
}

static long journal_size(void)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/rp/edits", root);
	return stat(path, &st) ? -1 : (long)st.st_size;
}

/* Each edit as vl_ops_edit_live records it: its intent, then done. */
static void record(const struct vl_rule_edit *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct vl_journal now = {0};

		cr_assert_eq(vl_journal_load("rp", &now), 0);
		cr_assert_eq(vl_journal_intent("rp", &v[i], &now), 0);
		cr_assert_eq(vl_journal_outcome("rp", true), 0);
		vl_journal_clear(&now);
	}
}

static struct vl_lab *load_state(void)
{
	struct vl_error err = {0};
	struct vl_lab *l = NULL;

	cr_assert_eq(vl_state_load_lab("rp", &l, &err), 0, "%s", err.msg);
	return l;
}

Test(journal_threshold, a_sixteenth_of_the_topology_within_bounds)
{
	cr_expect_eq(vl_journal_compact_threshold(0), VL_JOURNAL_COMPACT_MIN);
	cr_expect_eq(vl_journal_compact_threshold(60000), VL_JOURNAL_COMPACT_MIN);
	cr_expect_eq(vl_journal_compact_threshold(100000), 6250);
	cr_expect_eq(vl_journal_compact_threshold(207500), 12968);
	cr_expect_eq(vl_journal_compact_threshold(1u << 20), VL_JOURNAL_COMPACT_BYTES);
	cr_expect_eq(vl_journal_compact_threshold(16u << 20), VL_JOURNAL_COMPACT_BYTES);
}

TestSuite(journal_state, .init = state_setup, .fini = state_teardown);

Test(journal_state, threshold_follows_the_topology_copy)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/rp/topology", root);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(vl_state_compact_threshold("rp"), vl_journal_compact_threshold((size_t)st.st_size));
	cr_expect_eq(vl_state_compact_threshold("nosuchlab"), VL_JOURNAL_COMPACT_BYTES);
}

Test(journal_state, compaction_triggers_past_the_threshold_and_keeps_the_lab)
{
	struct vl_lab *seq, *now, *after;
	struct vl_rule_edit *v = valid_edits(400, &seq);
	size_t threshold = vl_state_compact_threshold("rp");
	long full;
	int rc;

	record(v, 400);
	full = journal_size();
	cr_assert_gt(full, (long)threshold, "400 edits make %ld bytes, no more than %zu", full, threshold);
	now = load_state();
	expect_same_nsgs(seq, now);
	/* below the threshold: untouched */
	cr_assert_eq(vl_state_compact_edits("rp", now, (size_t)full), 0);
	cr_expect_eq(journal_size(), full);
	/* past it: a snapshot at most two records per rule, and the same lab */
	rc = vl_state_compact_edits("rp", now, threshold);
	cr_assert_eq(rc, 0, "%s", strerror(-rc));
	cr_expect_lt(journal_size(), full / 2, "%ld bytes of %ld", journal_size(), full);
	cr_expect_lt(journal_size(), (long)threshold);
	after = load_state();
	expect_same_nsgs(seq, after);
	free_edits(v, 400);
	vl_lab_free(seq);
	vl_lab_free(now);
	vl_lab_free(after);
}

/* A snapshot that would make another lab than the journal does is never written. */
Test(journal_state, compaction_refuses_a_snapshot_of_another_lab)
{
	struct vl_lab *seq, *other = load();
	struct vl_rule_edit *v = valid_edits(400, &seq);
	long full;

	record(v, 400);
	full = journal_size();
	cr_assert_eq(vl_state_compact_edits("rp", other, 0), -EILSEQ);
	cr_expect_eq(journal_size(), full);
	free_edits(v, 400);
	vl_lab_free(seq);
	vl_lab_free(other);
}

static const char *crash_at;

static void crash(const char *step)
{
	if (!strcmp(step, crash_at))
		_exit(42);
}

/* vl_state_compact_edits in a child that dies at `step`; its exit status. */
static int compact_until(const char *step, const struct vl_lab *now)
{
	pid_t pid = fork();
	int st = 0;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		crash_at = step;
		vl_journal_crash_hook = crash;
		vl_state_compact_edits("rp", now, 0);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(journal_state, a_crash_between_write_and_rename_leaves_a_lab_that_loads)
{
	struct vl_lab *seq, *now, *after;
	struct vl_rule_edit *v = valid_edits(400, &seq);
	struct vl_rule_edit late =
	    mk(VL_EDIT_SET, "small", "s0", "description", "after the crash", NULL, NULL);
	char tmp[128];
	long full;

	snprintf(tmp, sizeof(tmp), "%s/rp/edits.tmp", root);
	record(v, 400);
	full = journal_size();
	now = load_state();
	cr_assert_eq(compact_until("written", now), 42, "the compaction never wrote its temporary file");
	cr_expect_eq(access(tmp, F_OK), 0, "the temporary file is there");
	cr_expect_eq(journal_size(), full, "the journal is the old one, whole");
	after = load_state();
	expect_same_nsgs(seq, after);
	vl_lab_free(after);
	/* an edit after the crash appends to the old journal; the next compaction takes both */
	record(&late, 1);
	after = load_state();
	cr_assert_eq(compact_until("renamed", after), 42, "the compaction never renamed");
	cr_expect_neq(access(tmp, F_OK), 0, "renamed over the journal");
	cr_expect_lt(journal_size(), full / 2);
	vl_lab_free(after);
	after = load_state();
	cr_assert_eq(vl_lab_apply_edit(seq, &late, &(struct vl_error){0}), 0);
	expect_same_nsgs(seq, after);
	vl_rule_edit_clear(&late);
	free_edits(v, 400);
	vl_lab_free(seq);
	vl_lab_free(now);
	vl_lab_free(after);
}
