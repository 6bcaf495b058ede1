// SPDX-License-Identifier: MIT
/* The names and numbers of a plan's kernel objects: namespaces, interfaces, routing tables, marks. */
#include <stdio.h>

#include "vnetlab/plan.h"

void vl_ns_name(char *buf, const char *lab, const char *suffix)
{
	snprintf(buf, VL_NS_NAME_MAX, "vl-%s-%s", lab, suffix);
}

void vl_fabric_ns_name(char *buf, const struct vl_lab *lab, int vnet)
{
	snprintf(buf, VL_NS_NAME_MAX, "vl-%s-fabric.%s", lab->name, lab->vnets[vnet].name);
}

void vl_fabric_ifname(char *buf, int endpoint)
{
	snprintf(buf, IFNAMSIZ, "n%d", endpoint % 100000);
}

uint32_t vl_scope_table(int scope)
{
	return 1000u + (uint32_t)scope;
}

uint32_t vl_scope_mark(int scope)
{
	return 1u + (uint32_t)scope;
}

uint32_t vl_transit_table(int scope)
{
	return 100000u + (uint32_t)scope;
}

uint32_t vl_lb_mark(int frontend, int backend)
{
	return 0x100000u + (uint32_t)frontend * 128u + (uint32_t)backend;
}
