/* SPDX-License-Identifier: MIT */
/*
 * The per-lab agent: one background process that serves the built-in apps
 * (hello, echo) from listening sockets held inside each endpoint namespace,
 * and reads the fabric's NFLOG group to attribute NSG drops.
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

/* One NSG drop as the agent broadcasts it; addresses and ports in host order. */
struct vl_drop {
	enum vl_proto proto; /* TCP, UDP, ICMP; ANY for anything else */
	uint32_t src;
	uint16_t sport; /* ICMP echo: the echo id */
	uint32_t dst;
	uint16_t dport; /* ICMP: 0 */
	char nsg[96];
	char rule[96];
	uint64_t id; /* the prefix was "~<id>" (names too long for it): nsg and rule are "" until resolved */
};

/* "drop <proto> <src> <sport> <dst> <dport> <nsg>/<rule>\n"; length written or -ENOSPC. */
int vl_drop_format(char *buf, size_t len, const struct vl_drop *d);
/* Parse one such line (trailing newline optional). 0 or -EINVAL. */
int vl_drop_parse(const char *line, struct vl_drop *d);
/* Fill d's proto, addresses and ports from an IPv4 packet (as NFLOG copies it). 0 or -EINVAL. */
int vl_drop_from_packet(const void *pkt, size_t len, struct vl_drop *d);
/*
 * The one reader of NFLOG prefixes (vlnft_log_prefix makes them): "<nsg>/<rule>" into d->nsg
 * and d->rule, or "~<16 hex>" into d->id. 0 or -EINVAL.
 */
int vl_drop_set_prefix(struct vl_drop *d, const char *prefix);
/* Map d->id back to its NSG and rule names in lab (the lab as it is now). 0 or -ENOENT. */
int vl_drop_resolve(const struct vl_lab *lab, struct vl_drop *d);

#endif
