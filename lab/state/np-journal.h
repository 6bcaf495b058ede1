/* SPDX-License-Identifier: MIT */
/* Internal to lab/state: the live network policy journal (np_journal.c), used by netpol.c. */
#ifndef VNETLAB_STATE_NP_JOURNAL_H
#define VNETLAB_STATE_NP_JOURNAL_H

#include "vnetlab/model.h"

/* s with '\\', tab and newline escaped (malloc'd), or NULL. */
char *vlnp_escape(const char *s);
/* One record appended to the lab's journal with write + fsync. 0 or -errno. */
int vlnp_append(const char *lab, const char *rec);
/* The cluster named name, or (NULL) the lab's only one with policies; its index or -errno with err set. */
int vlnp_find_cluster(const struct vl_lab *lab, const char *name, struct vl_error *err);

#endif
