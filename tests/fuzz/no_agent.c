// SPDX-License-Identifier: MIT
/*
 * The fuzz targets link lab/agent/life.c for vl_agent_pidfd (lab/state/root.c reads a lab's
 * agent through it) but never start an agent: its entry point, which would pull the whole agent
 * and the kernel layer in, is this abort.
 */
#include <stdlib.h>

#include "../../lab/agent/life.h"

void vl_agent_main(const struct vl_lab *lab, const char *dir, int pipefd)
{
	(void)lab;
	(void)dir;
	(void)pipefd;
	abort();
}
