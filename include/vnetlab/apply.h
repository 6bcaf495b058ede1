/* SPDX-License-Identifier: MIT */
/* Apply a plan to the kernel through netlink (libnl-route-3) and libnftnl. */
#ifndef VNETLAB_APPLY_H
#define VNETLAB_APPLY_H

#include <stdbool.h>

#include "vnetlab/plan.h"

/*
 * Called with claim=true and each namespace name just before it is created,
 * so the caller can record it (crash safety: a killed `up` is finished by
 * `down`); and with claim=false when that name turned out to be taken by
 * someone else (nothing was made), so the record is dropped and `down` never
 * deletes a namespace the lab did not make. Returns 0 to go on, -errno to stop.
 */
typedef int (*vl_apply_record_fn)(const char *ns_name, bool claim, void *arg);

/*
 * Build every object of the plan. On failure, namespaces already made are
 * left for the caller to remove (it recorded them) and err says what failed
 * and where (object, namespace). 0 or -errno.
 */
int vl_apply_up(const struct vl_plan *plan, vl_apply_record_fn record, void *arg, struct vl_error *err);

/*
 * Delete the named namespaces (vl_netns_delete each, going on past errors).
 * Returns 0 or the first -errno.
 */
int vl_apply_delete_all(const char *const *names, size_t n);
/* The same, and *failed (unless NULL) is the index of the first name that failed (n if none). */
int vl_apply_delete_all_at(const char *const *names, size_t n, size_t *failed);

#endif
