/* SPDX-License-Identifier: MIT */
/*
 * The per-lab agent: one background process that serves the built-in apps
 * (hello, echo) from listening sockets held inside each endpoint namespace,
 * reads every VNet fabric's NFLOG group to attribute NSG drops, and answers
 * Azure-provided DNS at 168.63.129.16:53 (UDP and TCP) in each VNet fabric.
 *
 * State files under dir (/run/vnetlab/<lab>): agent.pid, agent.log (and agent.log.1), agent.sock.
 * Watchers get every drop; the log gets at most VL_AGENT_DROP_LINES_PER_S a second.
 * agent.sock (SOCK_SEQPACKET): a client sends "watch\n"; the agent then sends
 * one message per dropped packet: "drop <proto> <src> <sport> <dst> <dport> <nsg>/<rule>\n".
 */
#ifndef VNETLAB_AGENT_H
#define VNETLAB_AGENT_H

#include <sys/types.h>

#include "vnetlab/model.h"

#define VL_AGENT_LOG_MAX (1u << 20)	/* agent.log rotates to agent.log.1 past this */
#define VL_AGENT_DROP_LINES_PER_S 20 /* drops written to the log per second; the rest counted */
#define VL_AGENT_LISTENERS_MAX 20000  /* app sockets one agent holds; `up` refuses more */

/* The listening sockets the agent of lab would hold (one per TCP port, two for echo). */
size_t vl_agent_listener_count(const struct vl_lab *lab);

/*
 * Fork the agent (daemonised) for a lab that is up; returns once it is serving. 0 or -errno.
 * dir/agent.pid exists before the fork and the agent locks it before doing anything.
 */
int vl_agent_start(const struct vl_lab *lab, const char *dir, char *why, size_t why_len);
/*
 * Stop the agent that holds dir/agent.pid (SIGTERM by pidfd, then SIGKILL), and remove the
 * file under its lock so that no agent still starting can run. 0 when no agent can run any
 * more; -ESRCH when the holder is not the pid and start time recorded; -EBUSY when it outlived
 * SIGKILL.
 */
int vl_agent_stop(const char *dir);
/*
 * A pidfd of the agent that holds dir/agent.pid, once its pid and start time match the record
 * (rootless labs join its namespaces through it). -ESRCH when no such agent runs.
 */
int vl_agent_pidfd(const char *dir, int *pidfd);
/* Does a process hold dir/agent.pid's lock (an agent may run)? */
bool vl_agent_running(const char *dir);
/* "<pid> <start time>\n" as agent.pid holds it. 0 or -EINVAL. */
int vl_agent_parse_pidfile(const char *text, pid_t *pid, unsigned long long *start);

/*
 * The hello page and the echo reply, as the agent serves them (pure, for tests and probe parsing).
 * hello_page writes the whole HTTP/1.0 response; both return the length written or -ENOSPC.
 */
int vl_app_hello_page(char *buf, size_t len, const char *endpoint, const char *client_ip, int client_port);
int vl_app_echo_reply(char *buf, size_t len, const char *endpoint, const char *client_ip, int client_port);
/* Extract the client address an app reported from its reply; 0 or -ENOENT. */
int vl_app_parse_seen(const char *reply, char *ip, size_t len);
/* The endpoint name an app put in its reply (hello's Hostname, echo's first word). 0 or -ENOENT. */
int vl_app_parse_name(const char *reply, char *name, size_t len);

/* One NSG drop as the agent broadcasts it; addresses and ports in host order. */
struct vl_drop {
	enum vl_proto proto; /* TCP, UDP, ICMP; ANY for anything else */
	uint32_t src;
	uint16_t sport; /* ICMP echo: the echo id */
	uint32_t dst;
	uint16_t dport; /* ICMP: 0 */
	char nsg[96];
	char rule[96];
	uint64_t id; /* the rule id (vl_rule_id; from the mark or "~<id>"): nsg and rule "" until resolved */
	bool allowed; /* not a drop: the first packet of a flow an Allow rule admitted (flow log) */
};

/* "drop <proto> <src> <sport> <dst> <dport> <nsg>/<rule>\n"; length written or -ENOSPC. */
int vl_drop_format(char *buf, size_t len, const struct vl_drop *d);
/* Parse one such line (trailing newline optional). 0 or -EINVAL. */
int vl_drop_parse(const char *line, struct vl_drop *d);
/* A watcher of agent.sock gets its drop records as messages of whole lines, several a message
 * (those of one NFLOG batch), each message at most VL_WATCH_MSG_MAX bytes; the agent asks for a
 * send buffer of VL_WATCH_SNDBUF bytes for it. */
#define VL_WATCH_MSG_MAX 16384
#define VL_WATCH_SNDBUF (4 << 20)
/* Each drop record of a watch message of len bytes (msg[len] writable: it becomes '\0'), parsed,
 * to fn, until fn returns true; lines that do not parse are skipped. true if fn did. */
bool vl_drop_each(char *msg, size_t len, bool (*fn)(const struct vl_drop *d, void *arg), void *arg);
/* The protocol words of the wire lines (drop and flow records): tcp udp icmp esp ah ip. */
const char *vl_wire_proto_word(enum vl_proto p);
int vl_wire_proto_parse(const char *w, enum vl_proto *p);
/* Fill d's proto, addresses and ports from an IPv4 packet (as NFLOG copies it). 0 or -EINVAL. */
int vl_drop_from_packet(const void *pkt, size_t len, struct vl_drop *d);
/*
 * The reader of drop tags: "<nsg>/<rule>" into d->nsg and d->rule, or "~<16 hex>" into d->id.
 * 0 or -EINVAL.
 */
int vl_drop_set_prefix(struct vl_drop *d, const char *prefix);
/* Map d->id back to its NSG and rule names in lab (the lab as it is now; default rules
 * included). 0 or -ENOENT. */
int vl_drop_resolve(const struct vl_lab *lab, struct vl_drop *d);

/*
 * Azure-provided DNS (pure; the agent serves it, the probe asks it). It answers A
 * queries for the endpoint names of one VNet, NAME and NAME.internal.cloudapp.net,
 * case-insensitively; names do not resolve across a peering (spec section 12.2.5).
 */
#define VL_DNS_PORT 53
#define VL_DNS_TTL 10
#define VL_DNS_SUFFIX "internal.cloudapp.net"
#define VL_DNS_NAME_MAX 256 /* a name in dotted form, NUL included */

enum { VL_DNS_TYPE_A = 1, VL_DNS_TYPE_AAAA = 28, VL_DNS_TYPE_ANY = 255 };
enum { VL_DNS_CLASS_IN = 1, VL_DNS_CLASS_ANY = 255 };
enum { VL_DNS_NOERROR = 0, VL_DNS_FORMERR = 1, VL_DNS_NXDOMAIN = 3, VL_DNS_NOTIMP = 4 };

struct vl_dns_query {
	uint16_t id;
	uint16_t flags;
	char name[VL_DNS_NAME_MAX]; /* dotted, no trailing dot */
	uint16_t qtype, qclass;
	size_t qend; /* offset just past the question */
};

struct vl_dns_reply {
	uint16_t id;
	int rcode;
	char name[VL_DNS_NAME_MAX]; /* of the first question, "" if none */
	unsigned n_answers;
	bool has_a; /* the first A record of the answer section */
	uint32_t a; /* host order */
	uint32_t ttl;
};

/*
 * Parse a query's header and its one question. 0; -EINVAL when it is no query
 * at all (shorter than a header, or a response): send nothing back; -EOPNOTSUPP
 * for an opcode other than QUERY; -EBADMSG when the question is malformed.
 */
int vl_dns_query_parse(const void *msg, size_t len, struct vl_dns_query *q);
/*
 * The address of `name` (NAME or NAME.internal.cloudapp.net, trailing dot
 * allowed, any case) among the endpoints whose subnet is in VNet `vnet`;
 * hosts outside Azure (subnet VL_NONE) have no name. 0 or -ENOENT.
 */
int vl_dns_lookup(const struct vl_lab *lab, int vnet, const char *name, uint32_t *ip);
/*
 * The response to one UDP query, written to out: an A record (TTL VL_DNS_TTL)
 * for a known name, NOERROR without answer for another type of a known name,
 * NXDOMAIN for an unknown one, FORMERR or NOTIMP (header only) for a bad query.
 * The response length, -EINVAL when nothing should be sent, or -ENOSPC.
 */
int vl_dns_answer(const struct vl_lab *lab, int vnet, const void *query, size_t len, void *out,
		  size_t out_len);
/*
 * The same over TCP: in holds what the connection sent so far (a 2-byte length,
 * then the query); out gets the framed response. Its length, -EAGAIN while the
 * query is incomplete, -EINVAL when nothing should be sent, or -ENOSPC.
 */
int vl_dns_answer_tcp(const struct vl_lab *lab, int vnet, const void *in, size_t len, void *out,
		      size_t out_len);
/* A query (recursion desired, class IN) for name (trailing dot allowed). Its length, -EINVAL, -ENOSPC. */
int vl_dns_query_build(void *buf, size_t len, uint16_t id, const char *name, uint16_t qtype);
/* Parse a response (header, questions, answers; other sections ignored). 0 or -EINVAL. */
int vl_dns_reply_parse(const void *msg, size_t len, struct vl_dns_reply *r);

#endif
