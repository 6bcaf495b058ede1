// SPDX-License-Identifier: MIT
/*
 * Errors never quote an imported file's content (finding 11): a topology that
 * imports /etc/shadow must not print root's password hash. Through the CLI
 * (`vnetlab validate`, no root), with a stand-in file full of SECRET markers.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"

static const char *const imported[] = {
    /* /etc/shadow itself: each line a YAML "key" */
    "root:$6$SECRETSALT$SECRETHASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
    /* values where numbers, words, rules or default rules are expected */
    "{\"name\": \"n\", \"securityRules\": [{\"name\": \"r\", \"priority\": \"SECRET1\"}]}",
    "[{\"name\": \"r\", \"priority\": 100, \"direction\": \"SECRET2\"}]",
    "[{\"name\": \"SECRET3\", \"priority\": 100, \"direction\": \"Inbound\", \"access\": \"Allow\","
    " \"protocol\": \"Tcp\", \"sourceAddressPrefix\": \"SECRET4\", \"sourcePortRange\": \"*\","
    " \"destinationAddressPrefix\": \"*\", \"destinationPortRange\": \"80\"}]",
    "[{\"name\": \"SECRET5\", \"priority\": 100}]",
    "{\"name\": \"n\", \"defaultSecurityRules\": [{\"name\": \"SECRET6\"}]}",
    "{\"SECRET7 with spaces\": 1}",
    "{\"SECRET8\\u001b]0;title\\u0007\": 1}",
};

Test(quote, imported_content_is_never_quoted)
{
	for (size_t i = 0; i < sizeof(imported) / sizeof(imported[0]); i++) {
		char *imp = th_write_temp(imported[i]), *topo_text, *topo, *out;
		int st;

		cr_assert(asprintf(&topo_text,
				   "name: q\nvnets: []\nnetworkSecurityGroups:\n  - name: n\n    import: %s\n",
				   imp) > 0);
		topo = th_write_temp(topo_text);
		out = th_run(&st, "%s validate %s 2>&1", th_vnetlab(), topo);
		cr_expect_neq(st, 0, "case %zu loaded: %s", i, out);
		cr_expect_null(strstr(out, "SECRET"), "case %zu quotes the imported file: %s", i, out);
		cr_expect_null(strchr(out, '\033'), "case %zu prints a terminal escape: %s", i, out);
		cr_expect_not_null(strstr(out, imp), "case %zu does not say which file: %s", i, out);
		free(out);
		unlink(imp);
		unlink(topo);
		free(imp);
		free(topo);
		free(topo_text);
	}
}
