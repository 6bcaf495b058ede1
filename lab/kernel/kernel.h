/* SPDX-License-Identifier: MIT */
/* Internal to lab/kernel: helpers shared by netns.c and apply.c. */
#ifndef VNETLAB_KERNEL_INTERNAL_H
#define VNETLAB_KERNEL_INTERNAL_H

/*
 * Like vl_netns_create(), but calls inside(arg) while the thread is still in
 * the new namespace (sockets opened there stay bound to it; /proc/sys/net
 * files opened there belong to it). A failure of inside() undoes the
 * namespace and is returned.
 */
/* Make /run/netns a shared mount as iproute2 does; once per process. */
int vl_netns_prepare(void);

int vl_netns_create_with(const char *name, int *fd, int (*inside)(void *arg), void *arg);

/* Map a libnl -NLE_* code to -errno. */
int vl_nlerr_to_errno(int nlerr);

#endif
