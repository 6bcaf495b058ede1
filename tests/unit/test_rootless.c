// SPDX-License-Identifier: MIT
/* The one message for a host that refuses unprivileged user namespaces, read from a fake /proc/sys. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnetlab/rootless.h"

struct knob {
	char file[64], value[16], named[64]; /* named: the setting the message must name, "": none */
};

static char dir[64];

static void put(const char *file, const char *value)
{
	char path[256], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdir(path, 0700);
	*slash = '/';
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%s\n", value);
	fclose(f);
}

ParameterizedTestParameters(rootless, forbidden)
{
	static struct knob k[] = {
	    {"kernel/unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone"},
	    {"kernel/unprivileged_userns_clone", "1", ""},
	    {"user/max_user_namespaces", "0", "user.max_user_namespaces"},
	    {"user/max_user_namespaces", "63000", ""},
	    {"kernel/apparmor_restrict_unprivileged_userns", "1",
	     "kernel.apparmor_restrict_unprivileged_userns"},
	    {"kernel/apparmor_restrict_unprivileged_userns", "0", ""},
	};

	return cr_make_param_array(struct knob, k, sizeof(k) / sizeof(k[0]));
}

ParameterizedTest(struct knob *k, rootless, forbidden)
{
	char buf[512] = "";
	bool no;

	snprintf(dir, sizeof(dir), "/tmp/vl-procsys-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	put(k->file, k->value);
	no = vl_userns_forbidden(dir, buf, sizeof(buf));
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		cr_assert_eq(system(cmd), 0);
	}
	if (!k->named[0]) {
		cr_assert_not(no, "%s=%s does not forbid: %s", k->file, k->value, buf);
		return;
	}
	cr_assert(no, "%s=%s forbids", k->file, k->value);
	cr_assert(strstr(buf, k->named), "the message names the setting: %s", buf);
	cr_assert(strstr(buf, "sudo"), "and the way around it: %s", buf);
}

Test(rootless, nothing_to_read_forbids_nothing)
{
	char buf[64] = "";

	cr_assert_not(vl_userns_forbidden("/nonexistent", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "");
}
