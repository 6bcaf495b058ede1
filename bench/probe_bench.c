// SPDX-License-Identifier: MIT
/*
 * Agent start/stop time with N app endpoints, and probes per second.
 *   cc ... -o build/bench/probe_bench bench/probe_bench.c build/libvnetlab.a $(LIBS)
 *   sudo build/bench/probe_bench [N endpoints=1000] [P probes=1000]
 * Namespaces are named vl-pb<pid>-e<i> and deleted at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vnetlab/agent.h"
#include "vnetlab/ip.h"
#include "vnetlab/netns.h"
#include "vnetlab/plan.h"
#include "vnetlab/probe.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000, probes = argc > 2 ? atoi(argv[2]) : 1000;
	static uint16_t hello[] = {80}, echo[] = {7};
	char name[32], ns[VL_NS_NAME_MAX], dir[] = "/tmp/vl-bench-XXXXXX", why[512], cmd[256];
	struct vl_lab lab = {.name = name};
	struct vl_probe_result r;
	int ok = 0, rc = 1, fd;
	double t;

	snprintf(name, sizeof(name), "pb%d", getpid() % 100000);
	lab.eps = calloc((size_t)n, sizeof(*lab.eps));
	if (!lab.eps || !mkdtemp(dir))
		return 1;
	t = now();
	for (int i = 0; i < n; i++) {
		struct vl_endpoint *e = &lab.eps[i];

		e->name = malloc(16);
		snprintf(e->name, 16, "e%d", i);
		e->nic = i;
		e->app = i % 2 ? VL_APP_ECHO : VL_APP_HELLO;
		e->ports = i % 2 ? echo : hello;
		e->n_ports = 1;
		vl_ns_name(ns, name, e->name);
		if (vl_netns_create(ns, &fd) < 0) {
			fprintf(stderr, "create %s failed\n", ns);
			n = i;
			lab.n_eps = (size_t)i;
			goto out;
		}
		close(fd);
		lab.n_eps = (size_t)i + 1;
	}
	/* e0 probes itself over lo: measures the probe and agent path, not the fabric */
	vl_ip_parse("127.0.0.1", &lab.eps[0].ip);
	snprintf(cmd, sizeof(cmd), "ip -n vl-%s-e0 link set lo up", name);
	if (system(cmd) != 0)
		goto out;
	printf("namespaces: %d in %.3f s\n", n, now() - t);

	t = now();
	if (vl_agent_start(&lab, dir, why, sizeof(why)) < 0) {
		fprintf(stderr, "agent: %s\n", why);
		goto out;
	}
	printf("agent start: %d endpoints, %d listeners in %.3f s\n", n, n + n / 2, now() - t);

	t = now();
	for (int i = 0; i < probes; i++)
		if (vl_probe_run(&lab, dir, 0, lab.eps[0].ip, VL_PROTO_TCP, 80, 1000, &r) == 0 &&
		    r.status == VL_PROBE_CONNECTED && !strcmp(r.seen_source, "127.0.0.1"))
			ok++;
	t = now() - t;
	printf("tcp hello probes: %d/%d ok, %.0f probes/s (%.3f ms each)\n", ok, probes, probes / t,
	       t * 1e3 / probes);

	t = now();
	vl_agent_stop(dir);
	printf("agent stop: %.3f s\n", now() - t);
	rc = ok == probes ? 0 : 1;
out:
	vl_agent_stop(dir);
	t = now();
	for (size_t i = 0; i < lab.n_eps; i++) {
		vl_ns_name(ns, name, lab.eps[i].name);
		vl_netns_delete(ns);
		free(lab.eps[i].name);
	}
	printf("namespaces deleted in %.3f s\n", now() - t);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		rc = 1;
	free(lab.eps);
	return rc;
}
