/* SPDX-License-Identifier: MIT */
/* Between the agent's start-up (life.c) and its serving loop (agent.c); internal to lab/agent. */
#ifndef VNETLAB_AGENT_LIFE_H
#define VNETLAB_AGENT_LIFE_H

#include <sys/types.h>

#include "vnetlab/model.h"

/* The agent process itself: never returns. Reports "P<pid>", then "OK" or "E<errno> why" on pipefd. */
void vl_agent_main(const struct vl_lab *lab, const char *dir, int pipefd) __attribute__((noreturn));
void vl_agent_report(int pipefd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Lock the pid file the starter made (a POSIX write lock, held for life) and write
 * "<pid> <start time>" into it. -ESTALE when it was removed meanwhile (the lab went down).
 */
int vl_agent_claim_pidfile(const char *path, int *fd);
/* Field 22 of /proc/<pid>/stat (tells a recycled pid apart); -ESRCH when gone or a zombie. */
int vl_proc_start_time(pid_t pid, unsigned long long *start);

#endif
