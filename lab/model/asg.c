// SPDX-License-Identifier: MIT
/*
 * Application security groups and service tags in the model: lookups by name and the lab-wide
 * ASG rules of spec section 18, which need the VMs (and so cannot run while NSGs are parsed).
 */
#include <errno.h>
#include <strings.h>

#include "vnetlab/model.h"

#define ASGS_PER_NIC_MAX 20

int vl_lab_find_asg(const struct vl_lab *lab, const char *name)
{
	for (size_t i = 0; lab && name && i < lab->n_asgs; i++)
		if (!strcasecmp(lab->asgs[i].name, name))
			return (int)i;
	return VL_NONE;
}

int vl_lab_find_service_tag(const struct vl_lab *lab, const char *name)
{
	for (size_t i = 0; lab && name && i < lab->n_service_tags; i++)
		if (!strcasecmp(lab->service_tags[i].name, name))
			return (int)i;
	return VL_NONE;
}

/* The VNet of the ASGs of one side of r, VL_NONE when none has members; -EINVAL if two differ. */
static int side_vnet(const struct vl_lab *lab, const struct vl_addr_match *m, size_t n, int *vnet)
{
	for (size_t i = 0; i < n; i++) {
		int v;

		if (m[i].kind != VL_ADDR_ASG)
			continue;
		v = lab->asgs[m[i].ref].vnet;
		if (v == VL_NONE)
			continue;
		if (*vnet != VL_NONE && *vnet != v)
			return -EINVAL;
		*vnet = v;
	}
	return 0;
}

int vl_lab_check_asgs(struct vl_lab *lab, struct vl_error *err)
{
	for (size_t a = 0; a < lab->n_asgs; a++)
		lab->asgs[a].vnet = VL_NONE;
	for (size_t i = 0; i < lab->n_vms; i++) {
		const struct vl_vm *vm = &lab->vms[i];
		int vnet = vm->subnet >= 0 ? lab->subnets[vm->subnet].vnet : VL_NONE;

		if (vm->n_asgs > ASGS_PER_NIC_MAX) {
			vl_error_set(
			    err, lab->file, vm->loc,
			    "vm %s: %zu application security groups; Azure allows at most %d per NIC",
			    vm->name, vm->n_asgs, ASGS_PER_NIC_MAX);
			return -EINVAL;
		}
		for (size_t k = 0; k < vm->n_asgs; k++) {
			struct vl_asg *g = &lab->asgs[vm->asgs[k]];

			if (g->vnet == VL_NONE) {
				g->vnet = vnet;
			} else if (g->vnet != vnet) {
				vl_error_set(
				    err, lab->file, vm->loc,
				    "vm %s: application security group %s already has members in VNet "
				    "%s; all members of an ASG are in one VNet (this VM is in %s)",
				    vm->name, g->name, lab->vnets[g->vnet].name,
				    vnet >= 0 ? lab->vnets[vnet].name : "no VNet");
				return -EINVAL;
			}
		}
	}
	for (size_t g = 0; g < lab->n_nsgs; g++) {
		for (size_t i = 0; i < lab->nsgs[g].n_rules; i++) {
			const struct vl_rule *r = &lab->nsgs[g].rules[i];
			int vs = VL_NONE, vd = VL_NONE;

			if (side_vnet(lab, r->src, r->n_src, &vs) || side_vnet(lab, r->dst, r->n_dst, &vd) ||
			    (vs != VL_NONE && vd != VL_NONE && vs != vd)) {
				vl_error_set(
				    err, lab->file, r->loc,
				    "NSG %s: rule %s: its application security groups have members in "
				    "different VNets; a rule's source and destination ASGs must be in "
				    "one VNet",
				    lab->nsgs[g].name, r->name);
				return -EINVAL;
			}
		}
	}
	return 0;
}
