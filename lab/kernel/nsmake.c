// SPDX-License-Identifier: MIT
/*
 * Making a plan's namespaces, and deleting a lab's, several at a time.
 *
 * Making one is mostly kernel time in unshare() (every subsystem's per-namespace setup, a
 * third of it lo's registration under the RTNL lock), and independent of the others: large labs
 * make them on threads of their own while the caller already sends the links of those made so
 * far (vlk_make_wait), so the RTNL-bound link requests and the rest of namespace setup share
 * the cores instead of taking turns.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kernel.h"
#include "vnetlab/apply.h"
#include "vnetlab/netns.h"

/* Namespaces made per thread at least, and threads at most (beyond the cores they only wait). */
#define MAKE_MIN_PER_THREAD 32
#define MAKERS_MAX 4

struct vlk_makers {
	struct vlk_apply *a;
	vl_apply_record_fn record;
	void *arg;
	size_t next;	     /* the next namespace to make, taken by every maker (atomic) */
	unsigned char *made; /* per namespace: 1 once made, under lock */
	size_t running;	     /* makers not yet finished, under lock */
	int ret;	     /* the first maker's failure, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a namespace made, or a maker finished */
	pthread_t tid[MAKERS_MAX];
	size_t n_tid;
};

struct inside_arg {
	struct vlk_apply *a;
	int ns;
};

static int inside_new_ns(void *arg)
{
	struct inside_arg *ia = arg;
	int ret = vlk_sysctls_write(ia->a, ia->ns, false);

	if (ret < 0)
		return ret;
	return vlk_ns_open(&ia->a->ns[ia->ns]);
}

/* Make namespace i with its socket, and queue lo's up on it. */
static int make_one(struct vlk_makers *m, size_t i)
{
	struct vlk_apply *a = m->a;
	const struct vl_plan *p = a->plan;
	struct inside_arg ia = {a, (int)i};
	struct nl_msg *msg;
	int ret = 0;

	if (m->record) {
		pthread_mutex_lock(&a->rt.lock);
		ret = m->record(p->ns[i].name, true, m->arg);
		pthread_mutex_unlock(&a->rt.lock);
		if (ret < 0) {
			vlk_fail(&a->rt, ret, "recording namespace %s: %s", p->ns[i].name, strerror(-ret));
			return ret;
		}
	}
	ret = vl_netns_create_with(p->ns[i].name, &a->ns[i].fd, inside_new_ns, &ia);
	if (ret == -EEXIST) {
		if (m->record) {
			pthread_mutex_lock(&a->rt.lock);
			m->record(p->ns[i].name, false, m->arg);
			pthread_mutex_unlock(&a->rt.lock);
		}
		vlk_fail(&a->rt, ret, "namespace %s already exists and is not this lab's: left alone",
			 p->ns[i].name);
		return ret;
	}
	if (ret < 0) {
		vlk_fail(&a->rt, ret, "creating namespace %s: %s", p->ns[i].name, strerror(-ret));
		return ret;
	}
	msg = vlk_up_msg(VLK_LOOPBACK_IFINDEX, 0);
	if (!msg) {
		vlk_fail(&a->rt, -ENOMEM, "bringing up lo in %s: %s", p->ns[i].name, strerror(ENOMEM));
		return -ENOMEM;
	}
	return vlk_rtnl_queue(&a->rt, &a->ns[i], msg, VLK_OP_LO_UP, 0);
}

/* A maker: namespaces in index order, as the links that wait for them go. */
static void *make_some(void *arg)
{
	struct vlk_makers *m = arg;
	int ret = 0;

	while (!ret && !vlk_failed(&m->a->rt)) {
		size_t i = __atomic_fetch_add(&m->next, 1, __ATOMIC_RELAXED);

		if (i >= m->a->plan->n_ns)
			break;
		ret = make_one(m, i);
		pthread_mutex_lock(&m->lock);
		m->made[i] = !ret;
		if (ret && !m->ret)
			m->ret = ret;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_lock(&m->lock);
	m->running--;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/**
 * vlk_make_start - start making the plan's namespaces
 *
 * Small labs are made here and now; large ones by threads, each namespace ready for requests
 * once vlk_make_wait() says so. Each maker touches only the contexts of the namespaces it makes,
 * until it marks them made. 0 or -errno (the namespaces made stay, as on any failure).
 */
int vlk_make_start(struct vlk_apply *a, vl_apply_record_fn record, void *arg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = a->plan->n_ns / MAKE_MIN_PER_THREAD;
	struct vlk_makers *m;
	int ret;

	ret = vl_netns_prepare();
	if (ret < 0) {
		vlk_fail(&a->rt, ret, "preparing %s: %s", VL_NETNS_DIR, strerror(-ret));
		return ret;
	}
	m = calloc(1, sizeof(*m));
	if (m)
		m->made = calloc(a->plan->n_ns ? a->plan->n_ns : 1, 1);
	if (!m || !m->made) {
		if (m)
			free(m);
		vlk_fail(&a->rt, -ENOMEM, "making namespaces: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	*m = (struct vlk_makers){.a = a, .record = record, .arg = arg, .made = m->made,
				 .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	a->makers = m;
	if (n > (size_t)(cpus < 1 ? 1 : cpus))
		n = (size_t)(cpus < 1 ? 1 : cpus);
	if (n > MAKERS_MAX)
		n = MAKERS_MAX;
	m->running = n;
	for (size_t t = 0; t < n; t++) {
		if (pthread_create(&m->tid[m->n_tid], NULL, make_some, m)) {
			pthread_mutex_lock(&m->lock);
			m->running--;
			pthread_mutex_unlock(&m->lock);
			continue;
		}
		m->n_tid++;
	}
	if (!m->n_tid) { /* a small lab, or no thread could start: all of them here */
		m->running = 1;
		make_some(m);
	}
	return m->ret;
}

/**
 * vlk_make_wait - wait until namespace ns is made
 *
 * 0, or -ECANCELED when it will not be (the apply failed: its message is recorded).
 */
int vlk_make_wait(struct vlk_apply *a, int ns)
{
	struct vlk_makers *m = a->makers;
	int made;

	pthread_mutex_lock(&m->lock);
	while (!m->made[ns] && m->running)
		pthread_cond_wait(&m->cond, &m->lock);
	made = m->made[ns];
	pthread_mutex_unlock(&m->lock);
	return made ? 0 : -ECANCELED;
}

/**
 * vlk_make_finish - wait for every maker and free them; 0 or the first maker's failure
 */
int vlk_make_finish(struct vlk_apply *a)
{
	struct vlk_makers *m = a->makers;
	int ret;

	if (!m)
		return 0;
	for (size_t t = 0; t < m->n_tid; t++)
		pthread_join(m->tid[t], NULL);
	ret = m->ret;
	free(m->made);
	free(m);
	a->makers = NULL;
	return ret;
}

/*
 * Deleting a namespace is umount2() and unlink() of its file. Two things made that slow:
 * - umount2 waits for an RCU grace period (namespace_unlock -> synchronize_rcu_expedited):
 *   several threads wait for theirs at once, and the kernel serves waiters that overlap with one
 *   grace period.
 * - The kernel frees a namespace whose last reference goes (cleanup_net, on a worker) while the
 *   others are still being unmounted: for each dying namespace it scans the peer ids of every
 *   live one, the fabric's thousands among them, with bottom halves off, so the worker held a
 *   core and stretched every grace period the unmounting threads waited for (`down` of 5,000
 *   VMs: 0.6-1.5 s). Each thread therefore opens a namespace before unmounting it, and every
 *   descriptor is closed only once all are unmounted: the namespaces then die together, in one
 *   or two of the worker's batches, after `down` has returned (0.14 s).
 */
#define DELETERS 64

struct deleter {
	const char *const *names;
	int *held; /* per name: a descriptor of its namespace until every name is gone, or -1 */
	size_t n;
	size_t next;   /* the next name to take, by every thread (atomic) */
	size_t failed; /* the lowest index that failed, under lock */
	int first;
	pthread_mutex_t lock;
};

static void *delete_some(void *arg)
{
	struct deleter *d = arg;

	for (;;) {
		size_t i = __atomic_fetch_add(&d->next, 1, __ATOMIC_RELAXED);
		int ret;

		if (i >= d->n)
			return NULL;
		/* Not held (out of descriptors, memory): deleted all the same, only slower. */
		if (d->held && vl_netns_open(d->names[i], &d->held[i]))
			d->held[i] = -1;
		ret = vl_netns_delete(d->names[i]);
		if (ret < 0) {
			pthread_mutex_lock(&d->lock);
			if (i < d->failed) {
				d->failed = i;
				d->first = ret;
			}
			pthread_mutex_unlock(&d->lock);
		}
	}
}

/**
 * vlk_raise_nofile - raise the soft limit of open files to want, or as near as the hard one allows
 */
void vlk_raise_nofile(size_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= (rlim_t)want)
		return;
	rl.rlim_cur = (rlim_t)want < rl.rlim_max ? (rlim_t)want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/**
 * vl_apply_delete_all_at - delete namespaces, several at a time, going on past errors
 */
int vl_apply_delete_all_at(const char *const *names, size_t n, size_t *failed)
{
	struct deleter d = {.names = names, .n = n, .failed = n, .lock = PTHREAD_MUTEX_INITIALIZER};
	size_t threads = n < 32 ? 0 : n / 8 < DELETERS ? n / 8 : DELETERS; /* 8 names a thread at least */
	pthread_t tid[DELETERS];
	size_t started = 0;

	vlk_raise_nofile(n + 256);
	d.held = malloc(n * sizeof(*d.held));
	while (started < threads && !pthread_create(&tid[started], NULL, delete_some, &d))
		started++;
	delete_some(&d); /* this thread too, and alone if none could start */
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	for (size_t i = 0; d.held && i < n; i++)
		if (d.held[i] >= 0)
			close(d.held[i]);
	free(d.held);
	if (failed)
		*failed = d.failed;
	return d.first;
}

/**
 * vl_apply_delete_all - delete a lab's namespaces, going on past errors
 */
int vl_apply_delete_all(const char *const *names, size_t n)
{
	return vl_apply_delete_all_at(names, n, NULL);
}
