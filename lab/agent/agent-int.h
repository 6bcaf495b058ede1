/* SPDX-License-Identifier: MIT */
/* Internal to lab/agent: the agent's objects, shared by its event loop (agent.c) and its work in
 * the VNet fabrics (fabrics.c). */
#ifndef VNETLAB_AGENT_INTERNAL_H
#define VNETLAB_AGENT_INTERNAL_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "vnetlab/agent.h"
#include "vnetlab/flowlog.h"
#include "vnetlab/ip.h"
#include "vnetlab/model.h"
#include "vnetlab/plan.h"

#define HELLO_REQUEST_WAIT_MS 200
#define HELLO_LINGER_MS 1000
#define ECHO_IDLE_MS 60000
#define NFLOG_COPY 128 /* IPv4 header with options + L4 ports */
#define DNS_QUERY_WAIT_MS 5000

enum kind { K_TCP_LISTEN, K_UDP, K_DNS_UDP, K_CONN, K_CTL_LISTEN, K_CTL, K_NFLOG, K_SIGNAL };

struct obj {
	enum kind kind;
	int fd;
};

struct listener {
	struct obj o;
	int ep; /* VL_NONE for DNS */
	enum vl_app app;
	uint16_t port;
	bool dns;
	int vnet; /* DNS: the VNet whose names it answers */
};

/* A connection or a control client: on its list from accept to close. */
struct node {
	struct obj o;
	struct node *prev, *next;
};

struct conn {
	struct node n; /* first: a conn is its node */
	int ep;
	enum vl_app app;
	bool dns;
	int vnet; /* DNS: as its listener's, resolved */
	char peer[VL_IP_STRLEN];
	int peer_port;
	bool answered; /* hello: response sent, write side shut */
	uint32_t events;
	int64_t deadline;
	size_t in_len;
	size_t out_off, out_len;
	char in[1024];
	char out[4096];
};

struct ctl {
	struct node n; /* first: a ctl is its node */
	bool watching;
	/* Drop records for a watcher, sent as one message for each NFLOG batch (vlag_watch_flush). */
	char pend[VL_WATCH_MSG_MAX];
	size_t pend_len;
};

/* A VNet's fabric namespace: its NFLOG group and its DNS sockets. */
struct fabric {
	char ns[VL_NS_NAME_MAX];
	struct obj nflog_obj;
	struct mnl_socket *nflog;
	struct listener dns_udp, dns_tcp; /* fd -1: not served */
};

/* A flow record file, kept open; rotated past VL_FLOW_FILE_MAX. */
struct capped_file {
	int fd; /* -1: not open (yet) */
	off_t size;
};

struct agent {
	const struct vl_lab *lab;
	int epfd;
	int logfd;
	char log_path[4096];
	int64_t drop_sec;	  /* the second the drop lines below were counted in */
	unsigned drops_logged;	  /* drop lines written in that second */
	unsigned long suppressed; /* drops seen but not written in it */
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char pid_path[4096];
	struct listener *ls;
	size_t n_ls;
	struct node *conns; /* struct conn */
	struct node *ctls;  /* struct ctl */
	struct obj ctl_listen, sig_obj;
	struct fabric *fabrics;
	size_t n_fabrics;
	unsigned long drops, dns_queries;
	bool accept_paused_logged;
	char state_dir[4096];
	struct vl_lab *names; /* the lab as it is now, read again when a rule id is not in lab */
	int64_t names_at;     /* the journal (mtime, size) it was read from */
	struct vl_flow *pend; /* flows for the version 2 document, written per NFLOG read */
	size_t n_pend, cap_pend;
	unsigned long flows;
	struct capped_file flow_file, v2_file;
	int reserve_fd;	      /* given up to accept a control client at the descriptor limit */
	int64_t paused_until; /* TCP listeners off epoll until then (out of descriptors); 0: on */
	int backoff_ms;
};

int64_t vlag_now_ms(void);
void vlag_log(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vlag_ep_add(struct agent *a, struct obj *o, uint32_t events);
/* NFLOG and DNS in every VNet fabric that exists. 0 or -errno with why set. */
int vlag_open_fabrics(struct agent *a, char *why, size_t why_len);
void vlag_dns_udp(struct agent *a, struct listener *l);
void vlag_nflog_readable(struct agent *a, int fd);
/* Name f's rule with the lab as it is now (flows.c). 0 or -ENOENT. */
int vlag_name_rule(struct agent *a, struct vl_flow *f);
/* One flow the NSGs decided: its line now, its version 2 tuple at the next flush. */
void vlag_flow_open(struct agent *a); /* both flow files, at start-up */
void vlag_flow_record(struct agent *a, const struct vl_drop *d);
void vlag_flow_flush(struct agent *a);

#endif
