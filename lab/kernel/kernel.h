/* SPDX-License-Identifier: MIT */
/*
 * Internal to lab/kernel: what its files share. netns.c makes one namespace;
 * nsmake.c makes a plan's (threads for large labs) and deletes a lab's;
 * sysctl.c writes a plan's sysctls; rtnl.c is the rtnetlink transport (one
 * socket per namespace, requests batched, one ACK each); apply.c walks a plan
 * and hands its requests to the transport.
 */
#ifndef VNETLAB_KERNEL_INTERNAL_H
#define VNETLAB_KERNEL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnetlab/apply.h"

struct nl_msg;
struct nl_sock;
struct vl_error;

/* Make /run/netns a shared mount as iproute2 does; once per process. */
int vl_netns_prepare(void);

/*
 * Like vl_netns_create(), but calls inside(arg) while the thread is still in
 * the new namespace (sockets opened there stay bound to it; /proc/sys/net
 * files opened there belong to it). A failure of inside() undoes the
 * namespace and is returned.
 */
int vl_netns_create_with(const char *name, int *fd, int (*inside)(void *arg), void *arg);

/* The empty file a namespace is mounted on, a link to one inode (mountpoint.c); -EEXIST if taken. */
int vlk_netns_mount_point(const char *path);

/* Every namespace is new, so lo is 1 and the indexes after it are ours to choose. */
#define VLK_LOOPBACK_IFINDEX 1

/*
 * Names the object a request was about, for the message of a failed ACK: the
 * transport keeps only the (op, idx) tag it was queued with, so wording stays
 * with the code that knows what op and idx mean.
 */
typedef void (*vlk_describe_fn)(const void *arg, const char *ns_name, int op, size_t idx, char *buf,
				size_t len);

/*
 * What all namespaces of one apply share: the first failure (kept under
 * lock, since namespaces are made by several threads) and how to word a
 * failed request.
 */
struct vlk_rtnl {
	struct vl_error *err;
	int first_err;
	pthread_mutex_t lock;
	vlk_describe_fn describe;
	const void *describe_arg;
};

struct vlk_pending;
struct vlk_dev;

/* One namespace: its file, its socket, the devices we gave indexes, the batch being queued. */
struct vlk_ns {
	const char *name;
	int fd;
	struct nl_sock *sk;
	int next_ifindex;
	struct vlk_dev *devs;
	size_t n_devs;
	size_t cap_devs;
	char *buf;
	size_t len;
	size_t cap;
	struct vlk_pending *pend;
	size_t n_pend;
	uint32_t seq;
};

/* What a request was (with the index of its object in the plan), for the message of a failed ACK. */
enum vlk_op {
	VLK_OP_LO_UP,
	VLK_OP_NSID,
	VLK_OP_LINK_ADD,
	VLK_OP_LINK_UP,
	VLK_OP_HAIRPIN,
	VLK_OP_PEER_SYNC,
	VLK_OP_PEER_UP,
	VLK_OP_ADDR,
	VLK_OP_ROUTE,
	VLK_OP_RULE,
};

struct vlk_makers;

/* One apply of a plan. */
struct vlk_apply {
	const struct vl_plan *plan;
	struct vlk_ns *ns; /* one per namespace of the plan */
	/* The transport's shared state; its lock also serialises record() while namespaces are made. */
	struct vlk_rtnl rt;
	/* The plan's sysctls by namespace: ns has sysctl_of[k] for k from sysctl_first[ns] up to
	 * sysctl_first[ns + 1] (sysctl.c). */
	size_t *sysctl_first;
	size_t *sysctl_of;
	struct vlk_makers *makers; /* nsmake.c, while namespaces are being made */
	int *link_nsid; /* per link: the id its peer's namespace is given in the link's, or -1 */
};

/* An RTM_NEWLINK that brings device ifindex up, into bridge master unless 0; NULL if out of memory. */
struct nl_msg *vlk_up_msg(int ifindex, int master);

/* Sort the plan's sysctls by namespace (a->sysctl_*). 0 or -errno, recorded. */
int vlk_sysctls_index(struct vlk_apply *a);

/* Write ns's sysctls that name a device (dev_keys) or the others, from inside ns. 0 or -errno, recorded. */
int vlk_sysctls_write(struct vlk_apply *a, int ns, bool dev_keys);

/* Write every namespace's sysctls that name a device (after the devices are made). */
int vlk_sysctls_dev(struct vlk_apply *a);

/*
 * Start making the plan's namespaces, each with its socket and lo's up queued (nsmake.c);
 * vlk_make_wait(ns) before queueing anything in one, vlk_make_finish() once, after.
 */
int vlk_make_start(struct vlk_apply *a, vl_apply_record_fn record, void *arg);
int vlk_make_wait(struct vlk_apply *a, int ns);
int vlk_make_finish(struct vlk_apply *a);

/* Raise the soft limit of open files to want, or to the hard limit. */
void vlk_raise_nofile(size_t want);

/* Map a libnl -NLE_* code to -errno. */
int vlk_nlerr_to_errno(int nlerr);

/* Record the first failure of an apply (later ones are dropped: they tend to follow from it). */
void vlk_fail(struct vlk_rtnl *r, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Whether any thread has failed yet. */
bool vlk_failed(struct vlk_rtnl *r);

/* A context for namespace name, before it exists: no file, no socket. */
void vlk_ns_init(struct vlk_ns *c, const char *name);

/* Open c's socket; call from inside the namespace (the socket stays bound to it). 0 or -errno. */
int vlk_ns_open(struct vlk_ns *c);

/* Close c's socket and file, free its buffers. */
void vlk_ns_close(struct vlk_ns *c);

/* Give name the next free index in c; the index, or -ENOMEM. */
int vlk_dev_add(struct vlk_ns *c, const char *name);

/* The index of name in c, or 0 if the plan has no such device there. */
int vlk_dev_index(const struct vlk_ns *c, const char *name);

/*
 * Queue msg on c's socket, tagged (op, idx) for the error message; takes
 * ownership of msg. Sends the batch first when it is full. 0 or -errno.
 */
int vlk_rtnl_queue(struct vlk_rtnl *r, struct vlk_ns *c, struct nl_msg *msg, int op, size_t idx);

/* Send what is queued on c and collect one ACK per request. 0 or the apply's first -errno. */
int vlk_rtnl_flush(struct vlk_rtnl *r, struct vlk_ns *c);

/* vlk_rtnl_flush() every one of n namespaces, going on past failures. */
int vlk_rtnl_flush_all(struct vlk_rtnl *r, struct vlk_ns *ns, size_t n);

#endif
