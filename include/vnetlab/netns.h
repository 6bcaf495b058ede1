/* SPDX-License-Identifier: MIT */
/*
 * Named network namespaces, compatible with iproute2 (/run/netns/<name>,
 * bind-mounted nsfs files on a shared mount), so `ip netns exec` works.
 */
#ifndef VNETLAB_NETNS_H
#define VNETLAB_NETNS_H

#define VL_NETNS_DIR "/run/netns"

/*
 * Create /run/netns/<name> as `ip netns add` does. On success returns 0 and
 * *fd is an O_RDONLY|O_CLOEXEC fd of the new namespace; the caller is back
 * in its original namespace. -EEXIST if the name exists.
 */
int vl_netns_create(const char *name, int *fd);
/* Open an existing named namespace. 0 or -errno. */
int vl_netns_open(const char *name, int *fd);
/* Unmount and unlink /run/netns/<name>; 0 if it did not exist. */
int vl_netns_delete(const char *name);
/* setns() into nsfd; *saved receives an fd of the namespace we left. */
int vl_netns_enter(int nsfd, int *saved);
/* vl_netns_enter() of the named namespace. 0 or -errno. */
int vl_netns_enter_name(const char *name, int *saved);
/* setns() back to saved and close it. */
int vl_netns_leave(int saved);
/*
 * For exec: enter the named namespace for good, in a private mount namespace with the
 * namespace's own /sys and the files of /etc/netns/<name>/ bound over /etc, as `ip netns exec`.
 * 0 or -errno (why says which step).
 */
int vl_netns_exec_enter(const char *name, char *why, size_t why_len);
/* Write a sysctl under /proc/sys (key like "net/ipv4/ip_forward") inside nsfd. */
int vl_netns_sysctl(int nsfd, const char *key, const char *value);

#endif
