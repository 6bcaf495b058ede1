/* SPDX-License-Identifier: MIT */
/* Internal to lab/effective: the parts of vl_eff_build() in other files. */
#ifndef VNETLAB_EFF_INTERNAL_H
#define VNETLAB_EFF_INTERNAL_H

#include "vnetlab/effective.h"

/* Fill s->routes (sorted, precedence applied) for a scope whose vnet, route_table, cluster are set. */
int vleff_scope_routes(const struct vl_lab *lab, struct vl_scope *s);

/* A growable list of prefixes, merged on demand. */
struct vleff_plist {
	struct vl_prefix *v;
	size_t n;
	size_t cap;
};
int vleff_plist_push(struct vleff_plist *l, struct vl_prefix p);
/* Sort and drop prefixes inside another. */
void vleff_plist_merge(struct vleff_plist *l);
bool vleff_plist_contains(const struct vl_prefix *v, size_t n, uint32_t ip);

/* md5.c: the MD5 of a string as 32 lower-case hex digits. */
void vleff_md5_hex(const char *s, char out[33]);
/* lb.c: outbound addresses per NIC and the frontends, from vl_eff_build(). */
int vleff_lb_build(struct vl_lab *lab, struct vl_effective *e);
void vleff_lb_free(struct vl_effective *e);
/* services.c: each Service's endpoints. */
int vleff_services_build(const struct vl_lab *lab, struct vl_effective *e);
void vleff_services_free(struct vl_effective *e, const struct vl_lab *lab);
/* asg.c: ASG member addresses and service tag prefixes. */
int vleff_asgs_build(const struct vl_lab *lab, struct vl_effective *e);
void vleff_asgs_free(struct vl_effective *e, const struct vl_lab *lab);
/* netpol.c: the per-pod policy lists. */
void vleff_netpol_free(struct vl_effective *e);

#endif
