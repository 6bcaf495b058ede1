// SPDX-License-Identifier: MIT
/* agent.pid's text, "<pid> <start time>\n" (pure: the stopper and the fuzz target parse it). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/agent.h"

int vl_agent_parse_pidfile(const char *text, pid_t *pid, unsigned long long *start)
{
	char *end;
	long p;

	errno = 0;
	p = strtol(text, &end, 10);
	if (errno || end == text || *end != ' ' || p <= 1 || p > 0x3fffffff)
		return -EINVAL;
	text = end + 1;
	if (*text < '0' || *text > '9')
		return -EINVAL;
	*start = strtoull(text, &end, 10);
	if (errno || (*end && strcmp(end, "\n")))
		return -EINVAL;
	*pid = (pid_t)p;
	return 0;
}
