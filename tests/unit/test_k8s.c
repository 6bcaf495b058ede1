// SPDX-License-Identifier: MIT
/* Kubernetes labels and label selectors (model/k8s.c): Kubernetes' LabelSelector semantics. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/model.h"

static struct vl_labels labels(const char *const *kv)
{
	struct vl_labels l = {0};

	for (; kv[0]; kv += 2)
		cr_assert_eq(vl_labels_set(&l, kv[0], kv[1]), 0);
	return l;
}

static void expr(struct vl_selector *s, const char *key, enum vl_sel_op op, const char *v1, const char *v2)
{
	struct vl_sel_expr *e;

	s->exprs = realloc(s->exprs, (s->n_exprs + 1) * sizeof(*s->exprs));
	cr_assert_not_null(s->exprs);
	e = &s->exprs[s->n_exprs++];
	memset(e, 0, sizeof(*e));
	e->key = strdup(key);
	e->op = op;
	if (v1)
		cr_assert_eq(vl_strv_push(&e->values, v1), 0);
	if (v2)
		cr_assert_eq(vl_strv_push(&e->values, v2), 0);
}

Test(labels, set_replaces_and_get_finds)
{
	static const char *const kv[] = {"app", "web", "tier", "front", "app", "api", NULL};
	struct vl_labels l = labels(kv);

	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(vl_labels_get(&l, "app"), "api");
	cr_assert_str_eq(vl_labels_get(&l, "tier"), "front");
	cr_assert_null(vl_labels_get(&l, "role"));
	vl_labels_free(&l);
	cr_assert_eq(l.n, 0);
}

Test(selector, absent_selects_nothing_empty_selects_all)
{
	static const char *const kv[] = {"app", "web", NULL};
	struct vl_labels l = labels(kv), none = {0};
	struct vl_selector absent = {0}, empty = {.present = true};

	cr_assert(!vl_selector_matches(&absent, &l));
	cr_assert(vl_selector_matches(&empty, &l));
	cr_assert(vl_selector_matches(&empty, &none));
	vl_labels_free(&l);
}

Test(selector, match_labels_and_expressions_all_must_hold)
{
	static const char *const web[] = {"app", "web", "tier", "front", NULL};
	static const char *const api[] = {"app", "api", "tier", "back", NULL};
	static const char *const bare[] = {"app", "web", NULL};
	struct vl_labels a = labels(web), b = labels(api), c = labels(bare);
	struct vl_selector s = {.present = true};

	cr_assert_eq(vl_labels_set(&s.match, "app", "web"), 0);
	cr_assert(vl_selector_matches(&s, &a));
	cr_assert(!vl_selector_matches(&s, &b));
	expr(&s, "tier", VL_SEL_IN, "front", "edge");
	cr_assert(vl_selector_matches(&s, &a));
	cr_assert(!vl_selector_matches(&s, &c), "In needs the key");
	vl_selector_free(&s);

	s = (struct vl_selector){.present = true};
	expr(&s, "tier", VL_SEL_NOT_IN, "back", NULL);
	cr_assert(vl_selector_matches(&s, &a));
	cr_assert(!vl_selector_matches(&s, &b));
	cr_assert(vl_selector_matches(&s, &c), "NotIn holds when the key is missing");
	vl_selector_free(&s);

	s = (struct vl_selector){.present = true};
	expr(&s, "tier", VL_SEL_EXISTS, NULL, NULL);
	cr_assert(vl_selector_matches(&s, &a));
	cr_assert(!vl_selector_matches(&s, &c));
	vl_selector_free(&s);

	s = (struct vl_selector){.present = true};
	expr(&s, "tier", VL_SEL_DOES_NOT_EXIST, NULL, NULL);
	cr_assert(!vl_selector_matches(&s, &a));
	cr_assert(vl_selector_matches(&s, &c));
	vl_selector_free(&s);
	vl_labels_free(&a);
	vl_labels_free(&b);
	vl_labels_free(&c);
}

#include "vnetlab/loader.h"

#define POD_LAB(pods)                                                                                   \
	"name: k8s\nvnets:\n  - name: v\n    addressSpace: [10.224.0.0/12]\n    subnets:\n"               \
	"      - name: s\n        addressPrefix: 10.224.0.0/16\n"                                         \
	"aksClusters:\n  - name: aks\n    subnet: s\n    networkPlugin: azure\n    nodeCount: 1\n"        \
	"    pods:\n" pods

static struct vl_lab *load(const char *y, struct vl_error *err)
{
	struct vl_lab *lab = NULL;

	memset(err, 0, sizeof(*err));
	if (vl_load_buffer("k8s.yaml", y, strlen(y), &lab, err))
		return NULL;
	return lab;
}

Test(loader, inline_pods_get_namespace_and_labels)
{
	struct vl_error err;
	struct vl_lab *lab = load(POD_LAB("      - name: web\n"
					  "      - name: api\n        namespace: prod\n"
					  "        labels: {app: api, tier: back, example.com/team: ''}\n"),
				  &err);

	cr_assert_not_null(lab, "%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
	struct vl_aks *a = &lab->aks[0];
	cr_assert_str_eq(a->pods[0].ns, "default");
	cr_assert_eq(a->pods[0].labels.n, 1);
	cr_assert_str_eq(vl_labels_get(&a->pods[0].labels, "app"), "web", "app=<name> by default");
	cr_assert_str_eq(a->pods[1].ns, "prod");
	cr_assert_str_eq(vl_labels_get(&a->pods[1].labels, "tier"), "back");
	cr_assert_str_eq(vl_labels_get(&a->pods[1].labels, "example.com/team"), "");
	cr_assert_eq(a->n_namespaces, 2);
	cr_assert_str_eq(vl_labels_get(&vl_aks_find_ns(a, "prod")->labels, "kubernetes.io/metadata.name"), "prod");
	vl_lab_free(lab);
}

Test(loader, bad_labels_and_namespaces_are_located)
{
	static const struct {
		const char *pods;
		int line;
		const char *msg;
	} rows[] = {
	    {"      - name: p\n        labels: {-bad: x}\n", 15, "invalid label key"},
	    {"      - name: p\n        labels: {app: 'no spaces'}\n", 15, "invalid value of label 'app'"},
	    {"      - name: p\n        labels: [app]\n", 15, "expected a mapping for labels"},
	    {"      - name: p\n        namespace: Prod\n", 15, "invalid namespace"},
	};
	char buf[1024];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vl_error err;
		struct vl_lab *lab;

		snprintf(buf, sizeof(buf), POD_LAB("%s"), rows[i].pods);
		lab = load(buf, &err);
		cr_expect_null(lab, "row %zu loaded", i);
		vl_lab_free(lab);
		cr_expect_eq(err.line, rows[i].line, "row %zu: line %d: %s", i, err.line, err.msg);
		cr_expect(strstr(err.msg, rows[i].msg), "row %zu: %s", i, err.msg);
	}
}
