/* SPDX-License-Identifier: MIT */
/* NSGs and rules as az prints them (nsg_out.c), for nsg show|list|import and the rule verbs. */
#ifndef VNETLAB_CLI_NSG_OUT_H
#define VNETLAB_CLI_NSG_OUT_H

#include "out.h"
#include "vnetlab/model.h"

/* A rule in az's flattened shape; rg (the lab, vnetlab's resource group) is left out when NULL. */
json_t *nsg_rule_tree(const struct vl_rule *r, const char *rg);
/* A rule as a topology file writes it: only the fields it sets, ASGs by name. */
json_t *nsg_rule_topology(const struct vl_rule *r);
/* NSG nsg of lab: name, securityRules (defaultSecurityRules with defaults), subnets, NICs. */
json_t *nsg_tree(const struct vl_lab *lab, int nsg, bool defaults, const char *rg);
/* `az network nsg rule list -o table`: its 12 columns; then one row per rule. */
struct out_table *nsg_rule_table(void);
int nsg_rule_table_row(struct out_table *t, const struct vl_rule *r, const char *rg);

#endif
