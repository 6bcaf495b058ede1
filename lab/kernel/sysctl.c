// SPDX-License-Identifier: MIT
/*
 * A plan's sysctls, written from inside their namespace: those of the namespace as a whole
 * (`all`, `default`, ip_forward) while it is being made, so links made later inherit them; those
 * that name a device once the devices exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel.h"
#include "vnetlab/netns.h"
#include "vnetlab/plan.h"

/* A sysctl that names a device must wait until the device exists. */
static bool sysctl_names_dev(const char *key)
{
	static const char *const prefixes[] = {"net/ipv4/conf/", "net/ipv6/conf/", "net/ipv4/neigh/",
					       "net/ipv6/neigh/"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t l = strlen(prefixes[i]);

		if (!strncmp(key, prefixes[i], l))
			return strncmp(key + l, "all/", 4) && strncmp(key + l, "default/", 8);
	}
	return false;
}

/**
 * vlk_sysctls_index - sort the plan's sysctls by namespace, once
 *
 * Counting sort, plan order kept within one namespace, so each namespace reads only its own: a
 * scan of all of them per namespace was quadratic in a 5,000-VM lab, whose fabric has a sysctl
 * per NIC.
 */
int vlk_sysctls_index(struct vlk_apply *a)
{
	const struct vl_plan *p = a->plan;
	size_t *at;

	a->sysctl_first = calloc(p->n_ns + 2, sizeof(*a->sysctl_first));
	a->sysctl_of = calloc(p->n_sysctls ? p->n_sysctls : 1, sizeof(*a->sysctl_of));
	if (!a->sysctl_first || !a->sysctl_of) {
		vlk_fail(&a->rt, -ENOMEM, "indexing sysctls: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_sysctls; i++) {
		if (p->sysctls[i].ns < 0 || (size_t)p->sysctls[i].ns >= p->n_ns) {
			vlk_fail(&a->rt, -EINVAL, "sysctl %s: namespace index %d out of range",
				 p->sysctls[i].key, p->sysctls[i].ns);
			return -EINVAL;
		}
		a->sysctl_first[p->sysctls[i].ns + 2]++;
	}
	for (size_t ns = 2; ns < p->n_ns + 2; ns++)
		a->sysctl_first[ns] += a->sysctl_first[ns - 1];
	/* sysctl_first[ns + 1] is now where ns's run starts: fill it, which moves it to its end */
	at = a->sysctl_first + 1;
	for (size_t i = 0; i < p->n_sysctls; i++)
		a->sysctl_of[at[p->sysctls[i].ns]++] = i;
	return 0;
}

/**
 * vlk_sysctls_write - write namespace ns's sysctls that name a device (dev_keys) or not
 *
 * The calling thread must be inside ns: /proc/sys/net is the namespace's it was opened in.
 */
int vlk_sysctls_write(struct vlk_apply *a, int ns, bool dev_keys)
{
	const struct vl_plan *p = a->plan;

	for (size_t k = a->sysctl_first[ns]; k < a->sysctl_first[ns + 1]; k++) {
		const struct vl_plan_sysctl *s = &p->sysctls[a->sysctl_of[k]];
		char path[160];
		size_t len = strlen(s->value);
		ssize_t n;
		int f, ret;

		if (sysctl_names_dev(s->key) != dev_keys)
			continue;
		snprintf(path, sizeof(path), "/proc/sys/%s", s->key);
		f = open(path, O_WRONLY | O_CLOEXEC);
		if (f < 0) {
			ret = -errno;
			vlk_fail(&a->rt, ret, "writing sysctl %s=%s in %s: %s", s->key, s->value,
				 p->ns[ns].name, strerror(-ret));
			return ret;
		}
		n = write(f, s->value, len);
		ret = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
		close(f);
		if (ret < 0) {
			vlk_fail(&a->rt, ret, "writing sysctl %s=%s in %s: %s", s->key, s->value,
				 p->ns[ns].name, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/**
 * vlk_sysctls_dev - write every namespace's sysctls that name a device, entering each once
 */
int vlk_sysctls_dev(struct vlk_apply *a)
{
	const struct vl_plan *p = a->plan;
	int ret = 0;

	for (size_t ns = 0; ns < p->n_ns && !ret; ns++) {
		bool todo = false;
		int saved, r;

		for (size_t k = a->sysctl_first[ns]; k < a->sysctl_first[ns + 1] && !todo; k++)
			todo = sysctl_names_dev(p->sysctls[a->sysctl_of[k]].key);
		if (!todo)
			continue;
		ret = vl_netns_enter(a->ns[ns].fd, &saved);
		if (ret < 0) {
			vlk_fail(&a->rt, ret, "entering %s: %s", p->ns[ns].name, strerror(-ret));
			break;
		}
		ret = vlk_sysctls_write(a, (int)ns, true);
		r = vl_netns_leave(saved);
		if (r < 0 && !ret) {
			ret = r;
			vlk_fail(&a->rt, ret, "leaving %s: %s", p->ns[ns].name, strerror(-ret));
		}
	}
	return ret;
}
