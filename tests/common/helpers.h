/* SPDX-License-Identifier: MIT */
/* Shared test helpers: load a lab from a string, run commands, snapshot the root namespace. */
#ifndef VNETLAB_TEST_HELPERS_H
#define VNETLAB_TEST_HELPERS_H

#include <stdbool.h>

#include "vnetlab/model.h"

/* Load a topology from a string; the test fails (with the error) if it does not load. */
struct vl_lab *th_load(const char *yaml);
/* Load expecting failure; returns the formatted "line:col: msg". */
const char *th_load_error(const char *yaml);
/* Run a shell command; returns its stdout (malloc'd, trailing newline kept) and sets *status. */
char *th_run(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The vnetlab binary under test ($VNETLAB or build/vnetlab). */
const char *th_vnetlab(void);
/* Links, addresses, routes and nftables ruleset of the root namespace. */
char *th_root_snapshot(void);
/* Write text to a new temporary file; returns its path (malloc'd). */
char *th_write_temp(const char *text);
/* Can this run build labs: root, or a rootless run (make check-rootless sets VNETLAB_TEST_ROOTLESS=1)? */
bool th_is_root(void);
/* A rootless run: VNETLAB_TEST_ROOTLESS=1, and not root of the initial user namespace. */
bool th_rootless(void);
/* Where lab state lives for this run: /run/vnetlab, or the rootless user's own directory. */
const char *th_state_root(void);
/*
 * Skip the test, saying why. Criterion runs no .fini for a skipped test, so th_skip first runs
 * th_skip_cleanup: th_lab_down() (the suite's lab goes, whether its .init or the test built it),
 * or what a suite with its own teardown puts there in its .init. Every skip of a lab test goes
 * through here, wherever it comes, so none leaves a lab behind.
 */
void th_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
extern void (*th_skip_cleanup)(void);
/* Skip the test in a rootless run, saying why it cannot run there (th_skip). */
void th_skip_rootless(const char *why);
/*
 * For tests that make namespaces in-process (lab/kernel, lab/nft directly): they need uid 0,
 * of the host or of a user namespace (a rootless run starts them in one: see the Makefile's
 * check-rootless); else the test is skipped.
 */
void th_enter_or_skip(void);

/*
 * A lab for one test suite: th_lab_write() names it "<prefix><pid>", writes
 * "name: <lab>\n" + body to a temporary file and snapshots the root namespace
 * (skipping the test when not root); th_lab_up() also brings it up;
 * th_lab_down() removes it and asserts the root namespace is unchanged.
 */
struct th_lab {
	char name[16];
	char *file;
	char *before;
};
extern struct th_lab th_lab;
void th_lab_write(const char *prefix, const char *body);
void th_lab_up(const char *prefix, const char *body);
void th_lab_down(void);
/* A JSON value of a top-level key in a flat JSON object, as text ("" if absent). */
char *th_json_get(const char *json, const char *key);
/* The same as an integer (0 if absent). */
int th_json_int(const char *json, const char *key);
/*
 * vnetlab prints JSON indented (as az does): this removes the blanks between tokens, in place, so
 * a test can look for `"key":"value"`; a newline that ends a document (before the next) stays.
 */
char *th_compact(char *json);

/* `vnetlab probe|explain <th_lab> FROM TO[:PORT] --proto P -o json` (port 0: none); output malloc'd. */
char *th_probe(const char *from, const char *to, int port, const char *proto, int timeout_ms);
char *th_explain(const char *from, const char *to, int port, const char *proto);
/* The test fails unless the flat JSON object has key == want. */
void th_assert_key(const char *json, const char *key, const char *want, const char *what);

#endif
