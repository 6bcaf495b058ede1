/* SPDX-License-Identifier: MIT */
/*
 * One nftables transaction: a growable buffer of netlink messages between
 * NFNL_MSG_BATCH_BEGIN and _END, sent with a single sendmsg on a socket
 * bound to the target namespace. Only the last object message asks for an
 * ACK; the kernel reports errors of any message regardless, so one receive
 * pass after the (synchronous) send tells success or the first failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>

#include "vnetlab/nft.h"
#include "nft-int.h"

#define BATCH_HDR_ROOM 64

static int reserve(struct vlnft_batch *b, size_t room)
{
	size_t cap;
	char *p;

	if (b->err)
		return b->err;
	if (b->cap - b->len >= room)
		return 0;
	cap = b->cap ? b->cap : 64 * 1024;
	while (cap - b->len < room)
		cap *= 2;
	p = realloc(b->buf, cap);
	if (!p)
		return b->err = -ENOMEM;
	/* libnftnl builders assume zeroed padding. */
	memset(p + b->cap, 0, cap - b->cap);
	b->buf = p;
	b->cap = cap;
	return 0;
}

int vlnft_batch_init(struct vlnft_batch *b)
{
	struct nlmsghdr *nlh;

	memset(b, 0, sizeof(*b));
	b->seq0 = b->seq = (uint32_t)time(NULL);
	b->last_msg = (size_t)-1;
	if (reserve(b, BATCH_HDR_ROOM))
		return b->err;
	nlh = nftnl_batch_begin(b->buf, b->seq++);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

void vlnft_batch_fini(struct vlnft_batch *b)
{
	free(b->buf);
	free(b->labels);
	memset(b, 0, sizeof(*b));
}

/* snprintf(dst, size, "%s", s), without the cost of a format */
static void label_copy(char *dst, const char *s, size_t size)
{
	size_t n = strnlen(s, size - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
}

struct nlmsghdr *vlnft_batch_msg(struct vlnft_batch *b, size_t room, uint16_t type, uint16_t flags,
				 const char *fmt, ...)
{
	size_t idx = b->seq - b->seq0;
	va_list ap;

	if (reserve(b, room))
		return NULL;
	if (idx >= b->cap_labels) {
		size_t cap = b->cap_labels ? b->cap_labels * 2 : 256;
		void *p;

		while (cap <= idx)
			cap *= 2;
		p = realloc(b->labels, cap * sizeof(*b->labels));
		if (!p) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->labels = p;
		b->cap_labels = cap;
	}
	va_start(ap, fmt);
	if (fmt[0] == '%' && fmt[1] == 's' && !fmt[2]) /* most messages: a rule's label as is */
		label_copy(b->labels[idx], va_arg(ap, const char *), sizeof(b->labels[idx]));
	else
		vsnprintf(b->labels[idx], sizeof(b->labels[idx]), fmt, ap);
	va_end(ap);
	if (idx + 1 > b->n_labels)
		b->n_labels = idx + 1;
	return nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_IPV4, flags, b->seq);
}

void vlnft_batch_done(struct vlnft_batch *b, struct nlmsghdr *nlh)
{
	if (b->len + nlh->nlmsg_len > b->cap) /* a room estimate was wrong: memory is already trampled */
		abort();
	b->last_msg = b->len;
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->seq++;
}

int vlnft_batch_finish(struct vlnft_batch *b)
{
	struct nlmsghdr *nlh;

	if (reserve(b, BATCH_HDR_ROOM))
		return b->err;
	if (b->last_msg != (size_t)-1)
		((struct nlmsghdr *)(b->buf + b->last_msg))->nlmsg_flags |= NLM_F_ACK;
	nlh = nftnl_batch_end(b->buf + b->len, b->seq++);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

static const char *label_of(const struct vlnft_batch *b, uint32_t seq)
{
	size_t idx = seq - b->seq0;

	if (idx < b->n_labels && b->labels[idx][0])
		return b->labels[idx];
	return "batch";
}

static bool same_ns(int a_fd, const char *b_path)
{
	struct stat a, b;

	if (fstat(a_fd, &a) < 0 || stat(b_path, &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int open_in_ns(int nsfd, struct mnl_socket **out, char *why, size_t why_len)
{
	struct mnl_socket *nl;
	int self, err = 0;

	*out = NULL;
	if (nsfd < 0) {
		snprintf(why, why_len, "nftables: no namespace given");
		return -EBADF;
	}
	/* The host stays untouched: rulesets go into a lab namespace, never the
	 * caller's own (the host's, for the CLI) nor init's. */
	if (same_ns(nsfd, "/proc/thread-self/ns/net") || same_ns(nsfd, "/proc/1/ns/net")) {
		snprintf(why, why_len, "nftables: refusing to change the caller's own (host) namespace");
		return -EPERM;
	}
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		err = -errno;
		snprintf(why, why_len, "nftables: open own namespace: %s", strerror(errno));
		return err;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		err = -errno;
		snprintf(why, why_len, "nftables: enter namespace: %s", strerror(errno));
		close(self);
		return err;
	}
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl) {
		err = -errno;
		snprintf(why, why_len, "nftables: netlink socket: %s", strerror(errno));
	}
	if (setns(self, CLONE_NEWNET) < 0)
		abort(); /* the thread would keep running in the lab's namespace */
	close(self);
	if (err)
		return err;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		snprintf(why, why_len, "nftables: bind: %s", strerror(errno));
		mnl_socket_close(nl);
		return err;
	}
	*out = nl;
	return 0;
}

/*
 * Closing a netfilter socket right after a commit waits for the commit's
 * deferred destroy work (an RCU grace period, ~12 ms here), far longer than
 * a small commit (~0.3 ms). So sockets stay open, one per namespace, for the
 * next commit there; with more namespaces than slots the least recently used
 * is closed (its work is long done by then). An open socket pins its
 * namespace: vl_nft_release() closes them all (process exit does too).
 */
#define SOCKET_SLOTS 16

static struct slot {
	struct mnl_socket *nl;
	dev_t dev;
	ino_t ino;
	unsigned long used;
} slots[SOCKET_SLOTS];
static unsigned long slot_clock;

static void slot_close(struct slot *s)
{
	if (s->nl)
		mnl_socket_close(s->nl);
	memset(s, 0, sizeof(*s));
}

/**
 * vl_nft_release - close the netfilter sockets kept open between commits
 */
void vl_nft_release(void)
{
	size_t i;

	for (i = 0; i < SOCKET_SLOTS; i++)
		slot_close(&slots[i]);
}

static struct slot *socket_for(int nsfd, struct mnl_socket **out, char *why, size_t why_len, int *err)
{
	struct slot *victim = &slots[0];
	struct stat st;
	size_t i;

	*err = 0;
	if (nsfd >= 0 && fstat(nsfd, &st) == 0) {
		for (i = 0; i < SOCKET_SLOTS; i++)
			if (slots[i].nl && slots[i].dev == st.st_dev && slots[i].ino == st.st_ino) {
				slots[i].used = ++slot_clock;
				*out = slots[i].nl;
				return &slots[i];
			}
	} else {
		memset(&st, 0, sizeof(st));
	}
	for (i = 0; i < SOCKET_SLOTS; i++) {
		if (!slots[i].nl) {
			victim = &slots[i];
			break;
		}
		if (slots[i].used < victim->used)
			victim = &slots[i];
	}
	*err = open_in_ns(nsfd, out, why, why_len);
	if (*err)
		return NULL;
	slot_close(victim);
	victim->nl = *out;
	victim->dev = st.st_dev;
	victim->ino = st.st_ino;
	victim->used = ++slot_clock;
	return victim;
}

static void drain(int fd)
{
	char buf[8192];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int vlnft_batch_send(struct vlnft_batch *b, int nsfd, char *why, size_t why_len)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE * 4];
	uint32_t last_seq =
	    b->last_msg == (size_t)-1 ? 0 : ((struct nlmsghdr *)(b->buf + b->last_msg))->nlmsg_seq;
	struct mnl_socket *nl;
	struct slot *slot;
	int err, fd, first_err = 0, sndbuf;
	uint32_t err_seq = 0;
	bool acked = false;
	ssize_t n;

	if (b->err) {
		snprintf(why, why_len, "nftables: building the batch: %s", strerror(-b->err));
		return b->err;
	}
	if (b->last_msg == (size_t)-1)
		return 0;
	slot = socket_for(nsfd, &nl, why, why_len, &err);
	if (!slot)
		return err;
	fd = mnl_socket_get_fd(nl);
	drain(fd); /* leftovers of an earlier transaction */
	/* The whole batch must fit one skb; root may exceed wmem_max. */
	sndbuf = (int)(b->len + 4096);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	n = mnl_socket_sendto(nl, b->buf, b->len);
	if (n < 0 || (size_t)n != b->len) {
		err = n < 0 ? -errno : -EMSGSIZE;
		snprintf(why, why_len, "nftables: send %zu bytes: %s", b->len, strerror(-err));
		goto out;
	}
	/* nfnetlink processes the batch inside sendmsg: every reply is queued now. */
	while (!acked) {
		struct nlmsghdr *nlh;
		int left;

		n = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				err = -errno;
				snprintf(why, why_len, "nftables: receive: %s", strerror(errno));
				goto out;
			}
			break;
		}
		left = (int)n;
		for (nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error && !first_err) {
				first_err = e->error;
				err_seq = e->msg.nlmsg_seq;
			}
			if (e->msg.nlmsg_seq == last_seq)
				acked = true;
		}
	}
	if (first_err) {
		err = first_err;
		snprintf(why, why_len, "nftables: %s: %s", label_of(b, err_seq), strerror(-first_err));
	} else if (!acked) {
		err = -EIO;
		snprintf(why, why_len, "nftables: no acknowledgement for the transaction");
	} else {
		err = 0;
	}
out:
	if (err < 0 && err != first_err)
		slot_close(slot); /* the socket itself failed: start afresh next time */
	return err;
}

/*
 * Send a dump request on the namespace's cached socket and hand every reply
 * message to one(); stops at NLMSG_DONE or the first error. 0 or -errno.
 */
static int run_dump(int nsfd, const struct nlmsghdr *req, const char *what,
		    int (*one)(const struct nlmsghdr *nlh, void *arg), void *arg, char *why, size_t why_len)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE * 4];
	struct mnl_socket *nl;
	struct slot *slot;
	bool done = false;
	int err = 0, fd;

	slot = socket_for(nsfd, &nl, why, why_len, &err);
	if (!slot)
		return err;
	fd = mnl_socket_get_fd(nl);
	drain(fd);
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0) {
		err = -errno;
		snprintf(why, why_len, "nftables: %s: %s", what, strerror(-err));
		slot_close(slot);
		return err;
	}
	while (!done && !err) {
		ssize_t got = recv(fd, rbuf, sizeof(rbuf), 0);
		struct nlmsghdr *nlh;
		int left;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		left = (int)got;
		for (nlh = (struct nlmsghdr *)rbuf; !err && mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				err = e->error ? e->error : -EIO;
				break;
			}
			/* An interrupted dump is incomplete: the caller retries from a full commit. */
			err = nlh->nlmsg_flags & NLM_F_DUMP_INTR ? -EINTR : one(nlh, arg);
		}
	}
	if (err)
		snprintf(why, why_len, "nftables: %s: %s", what, strerror(-err));
	return err;
}

/*
 * The names of one kind of object of table ip vnetlab, from a dump: fixed-width entries (width
 * bytes each, NUL-terminated), those keep() accepts, sorted. Sets and chains number their table
 * and name attributes differently, hence the ids.
 */
struct names {
	char *v;
	size_t width, n, cap;
	uint16_t table_attr, name_attr;
	bool (*keep)(const char *name);
};

struct names_tb {
	const struct names *d;
	const struct nlattr *table, *name;
};

static int names_attr_cb(const struct nlattr *attr, void *data)
{
	struct names_tb *t = data;
	uint16_t type = mnl_attr_get_type(attr);

	/* The names are read as C strings (strlen, strcmp): only NUL-terminated ones. */
	if ((type != t->d->table_attr && type != t->d->name_attr) || mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_OK;
	if (type == t->d->table_attr)
		t->table = attr;
	else
		t->name = attr;
	return MNL_CB_OK;
}

static int names_one(const struct nlmsghdr *nlh, void *arg)
{
	struct names *d = arg;
	struct names_tb t = {d, NULL, NULL};
	const char *name;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), names_attr_cb, &t) < 0 || !t.name || !t.table ||
	    strcmp(mnl_attr_get_str(t.table), VL_NFT_TABLE))
		return 0;
	name = mnl_attr_get_str(t.name);
	if (strlen(name) >= d->width || !d->keep(name))
		return 0; /* not a name vnetlab makes */
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		char *v = realloc(d->v, cap * d->width);

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	memcpy(d->v + d->n++ * d->width, name, strlen(name) + 1);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Dump the objects of type `type` (NFT_MSG_GETSET, _GETCHAIN) of the table, collecting their names
 * into d. */
static int dump_names(int nsfd, uint16_t type, const char *what, struct names *d, char *why, size_t why_len)
{
	char req[512];
	struct nlmsghdr *nlh =
	    nftnl_nlmsg_build_hdr(req, type, NFPROTO_IPV4, NLM_F_DUMP, (uint32_t)time(NULL) ^ (0x5e70u + type));
	int err;

	mnl_attr_put_strz(nlh, d->table_attr, VL_NFT_TABLE);
	err = run_dump(nsfd, nlh, what, names_one, d, why, why_len);
	if (err) {
		free(d->v);
		d->v = NULL;
		d->n = 0;
		return err;
	}
	if (d->n > 1)
		qsort(d->v, d->n, d->width, cmp_name);
	return 0;
}

static bool any_name(const char *name)
{
	(void)name;
	return true;
}

/**
 * vlnft_dump_sets - names of the list sets of table ip vnetlab, sorted
 */
int vlnft_dump_sets(int nsfd, char (**out)[VLNFT_SET_NAME_MAX], size_t *n, char *why, size_t why_len)
{
	struct names d = {NULL, VLNFT_SET_NAME_MAX, 0, 0, NFTA_SET_TABLE, NFTA_SET_NAME, vlnft_is_list_set};
	int err = dump_names(nsfd, NFT_MSG_GETSET, "list sets", &d, why, why_len);

	*out = (char(*)[VLNFT_SET_NAME_MAX])d.v;
	*n = d.n;
	return err;
}

/**
 * vlnft_dump_chains - names of the chains of table ip vnetlab, sorted
 */
int vlnft_dump_chains(int nsfd, char (**out)[VLNFT_CHAIN_NAME_MAX], size_t *n, char *why, size_t why_len)
{
	struct names d = {NULL, VLNFT_CHAIN_NAME_MAX, 0, 0, NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME, any_name};
	int err = dump_names(nsfd, NFT_MSG_GETCHAIN, "list chains", &d, why, why_len);

	*out = (char(*)[VLNFT_CHAIN_NAME_MAX])d.v;
	*n = d.n;
	return err;
}

/* The rules of one chain, in order: handle and fingerprint (VLNFT_UDATA_RULE_FP, 0 without). */
struct rules_dump {
	const char *chain;
	struct vlnft_krule *v;
	size_t n, cap;
};

struct rule_tb {
	const struct nlattr *table, *chain, *handle, *udata;
};

static int rule_attr_cb(const struct nlattr *attr, void *data)
{
	struct rule_tb *t = data;

	switch (mnl_attr_get_type(attr)) {
	case NFTA_RULE_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			t->table = attr;
		break;
	case NFTA_RULE_CHAIN:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			t->chain = attr;
		break;
	case NFTA_RULE_HANDLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U64) >= 0)
			t->handle = attr;
		break;
	case NFTA_RULE_USERDATA:
		t->udata = attr;
		break;
	}
	return MNL_CB_OK;
}

/* The fingerprint in a rule's userdata (type-length-value records), 0 if it has none. */
static uint64_t udata_fp(const struct nlattr *a)
{
	const uint8_t *p = a ? mnl_attr_get_payload(a) : NULL;
	size_t len = a ? mnl_attr_get_payload_len(a) : 0, i = 0;
	uint64_t fp = 0;

	while (i + 2 <= len && i + 2 + p[i + 1] <= len) {
		if (p[i] == VLNFT_UDATA_RULE_FP && p[i + 1] == sizeof(fp)) {
			memcpy(&fp, p + i + 2, sizeof(fp));
			return fp;
		}
		i += 2 + (size_t)p[i + 1];
	}
	return 0;
}

static int rules_one(const struct nlmsghdr *nlh, void *arg)
{
	struct rules_dump *d = arg;
	struct rule_tb t = {NULL, NULL, NULL, NULL};

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), rule_attr_cb, &t) < 0 || !t.table || !t.chain ||
	    !t.handle || strcmp(mnl_attr_get_str(t.table), VL_NFT_TABLE) ||
	    strcmp(mnl_attr_get_str(t.chain), d->chain))
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct vlnft_krule *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n].handle = be64toh(mnl_attr_get_u64(t.handle));
	d->v[d->n].fp = udata_fp(t.udata);
	d->n++;
	return 0;
}

/**
 * vlnft_dump_rules - handles and fingerprints of the rules of one chain of table ip vnetlab
 */
int vlnft_dump_rules(int nsfd, const char *chain, struct vlnft_krule **out, size_t *n, char *why,
		     size_t why_len)
{
	char req[512];
	struct nlmsghdr *nlh;
	struct rules_dump d = {chain, NULL, 0, 0};
	int err;

	*out = NULL;
	*n = 0;
	if (strlen(chain) >= VLNFT_CHAIN_NAME_MAX)
		return -ENAMETOOLONG;
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP,
				    (uint32_t)time(NULL) ^ (0x5e70u + NFT_MSG_GETRULE));
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, VL_NFT_TABLE);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
	err = run_dump(nsfd, nlh, "list rules", rules_one, &d, why, why_len);
	if (err) {
		free(d.v);
		return err;
	}
	*out = d.v;
	*n = d.n;
	return 0;
}
