/* SPDX-License-Identifier: MIT */
/* The steps of a live rule edit, shared by one edit (nsg_edit.c) and a journal's replay (nsg_replay.c). */
#ifndef VNETLAB_NSG_EDIT_H
#define VNETLAB_NSG_EDIT_H

#include "vnetlab/model.h"

/* e names an NSG and a rule, with as many values as fields: *ni is the NSG's index. */
int vl_nsg_edit_target(const struct vl_lab *lab, const struct vl_rule_edit *e, int *ni, struct vl_error *err);
/* e may be made where its rule is `have` (NULL: the NSG has no rule of that name). */
int vl_nsg_edit_check(const struct vl_lab *lab, const struct vl_rule_edit *e, const struct vl_rule *have,
		      struct vl_error *err);
/* e's fields into r (for an add, r is zeroed and gets az's defaults first); not validated. */
int vl_nsg_edit_fill(const struct vl_lab *lab, const struct vl_rule_edit *e, struct vl_rule *r,
		     struct vl_error *err);
/* A copy of nsg's rules (ARM fields only, match sets empty) with room for `extra` more, zeroed. */
int vl_nsg_rules_copy(const struct vl_nsg *nsg, size_t extra, struct vl_rule **out);
void vl_nsg_rules_free(struct vl_rule *rules, size_t n);

#endif
