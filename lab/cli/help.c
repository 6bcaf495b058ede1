// SPDX-License-Identifier: MIT
/*
 * `vnetlab VERB --help`: what each verb does, each option with its default, and examples.
 * docs/vnetlab.1 says the same at more length; test_cli checks every verb has all three.
 */
#include <string.h>

#include "cli.h"

static const struct {
	const char *verb;
	const char *doc;
} docs[] = {
    {"up", "Build the lab of a topology file: one network namespace per endpoint, one fabric per VNet,\n"
	   "nftables rules for the NSGs, the lab's agent. Prints the endpoints and their addresses.\n"
	   "A terminal gets a progress line while a large lab is built.\n\n"
	   "Options:\n"
	   "  --name NAME   build the file's lab under another name, 1-12 of a-z0-9 (default: the\n"
	   "                file's name:), so one file gives every student a lab of their own\n"
	   "  --dry-run     print the plan (namespaces, links, routes, rulesets); build nothing,\n"
	   "                no root needed (default: off)\n"
	   "  -q, --quiet   print one line, not the endpoint table (default: off)\n\n"
	   "Examples:\n"
	   "  sudo vnetlab up topologies/vnet-basics.yaml\n"
	   "  sudo vnetlab up topologies/kubenet-outbound.yaml --name alice --quiet\n"
	   "  vnetlab up --dry-run topologies/kubenet-hybrid.yaml | less\n"},
    {"down", "Remove a lab: its agent, every namespace it recorded, its state. Idempotent: a lab that\n"
	     "is not up is fine, and a half-built one is finished off.\n\n"
	     "Options:\n"
	     "  --name NAME   with FILE: the lab built from it with up --name (default: the file's name:)\n"
	     "  --all         every lab that is up, whoever started it (default: off)\n\n"
	     "Examples:\n"
	     "  sudo vnetlab down basics\n"
	     "  sudo vnetlab down topologies/kubenet-outbound.yaml --name alice\n"},
    {"ls", "List the labs that are up, with their status (up, or broken: an up that was killed) and\n"
	   "the file each came from: root's labs for root, your own (rootless) labs for anyone else.\n\n"
	   "Options:\n"
	   "  -o table|json  output format (default: table)\n"
	   "  --all-users    root only: also every user's rootless labs, with a USER column\n"
	   "                 (found in /run/user/UID/vnetlab and /tmp/vnetlab-UID; default: off)\n\n"
	   "Examples:\n"
	   "  vnetlab ls\n"
	   "  vnetlab ls -o json\n"
	   "  sudo vnetlab ls --all-users\n"},
    {"show", "A lab's VNets, subnets, peerings, gateways and endpoints with their namespaces,\n"
	     "addresses and NSGs. A running lab is shown as it runs now (live edits included).\n\n"
	     "Options:\n"
	     "  -o table|json  output format (default: table)\n\n"
	     "Examples:\n"
	     "  vnetlab show basics\n"
	     "  vnetlab show topologies/kubenet-outbound.yaml -o json\n"},
    {"exec", "Run a command inside an endpoint's network namespace (or the lab's own: fabric,\n"
	     "fabric.<vnet>, internet). A rootless lab's command runs as uid 0 of the lab's user\n"
	     "namespace (your own uid outside it); 'ip netns exec' stays root's.\n\n"
	     "Options: none; everything after -- is the command.\n\n"
	     "Examples:\n"
	     "  sudo vnetlab exec basics web1 -- ip addr\n"
	     "  sudo vnetlab exec basics web1 -- curl -s 10.1.2.4\n"
	     "  vnetlab exec basics web1 -- ip addr          # a rootless lab: no sudo\n"},
    {"probe", "One real connection attempt from an endpoint: connected, refused, unreachable, timeout\n"
	      "or dropped (with the NSG rule that dropped it). Exit 0 when it connected.\n\n"
	      "Options:\n"
	      "  --proto tcp|udp|icmp  protocol (default: tcp)\n"
	      "  --timeout MS          give up after MS milliseconds (default: 2000)\n"
	      "  -o table|json         output format (default: table)\n\n"
	      "Examples:\n"
	      "  sudo vnetlab probe basics web1 hello:80\n"
	      "  sudo vnetlab probe basics hello web2:7 --proto udp -o json\n"},
    {"explain", "The static verdict of a flow, hop by hop: routes, NSGs, peerings, gateways, NAT, and\n"
		"the rule that decided. Needs no root and works on a file.\n\n"
		"Options:\n"
		"  --proto tcp|udp|icmp  protocol (default: tcp)\n"
		"  --source-port N       source port to evaluate (default: 50000)\n"
		"  -o table|json         output format (default: table)\n\n"
		"Examples:\n"
		"  vnetlab explain topologies/kubenet-outbound.yaml observer myContainerGroup:80\n"
		"  vnetlab explain basics web1 10.1.2.4:22 -o json\n"},
    {"nsg", "Show an NSG's rules like az network nsg rule list -o table, or edit a rule of a running\n"
	    "lab live: one nftables transaction per fabric; established connections survive.\n\n"
	    "Options:\n"
	    "  --include-default           show: also the six default rules (default: off)\n"
	    "  -o table|json               show: output format (default: table)\n"
	    "  --priority N                set/add: 100-4096 (add: required)\n"
	    "  --access Allow|Deny         set/add (add default: Allow)\n"
	    "  --direction Inbound|Outbound  set/add (add default: Inbound)\n"
	    "  --protocol P                set/add: Tcp Udp Icmp Esp Ah * (add default: *)\n"
	    "  --source-address-prefixes ...       set/add (add default: *)\n"
	    "  --source-port-ranges ...            set/add (add default: *)\n"
	    "  --destination-address-prefixes ...  set/add (add default: *)\n"
	    "  --destination-port-ranges ...       set/add (add default: 80, as az)\n"
	    "  --description TEXT          set/add (default: none)\n\n"
	    "Examples:\n"
	    "  vnetlab nsg show topologies/kubenet-outbound.yaml aciNsg --include-default\n"
	    "  sudo vnetlab nsg rule set kubenet aciNsg allow-aks-subnet --priority 400\n"
	    "  sudo vnetlab nsg rule add kubenet aciNsg no-ssh --priority 150 --access Deny "
	    "--destination-port-ranges 22\n"},
    {"routes", "An endpoint's effective routes, like az network nic show-effective-route-table.\n\n"
	       "Options:\n"
	       "  -o table|json  output format (default: table)\n\n"
	       "Examples:\n"
	       "  vnetlab routes topologies/kubenet-hybrid.yaml aks-node-0\n"},
    {"verify", "Every flow of a running lab (each ordered pair of endpoints, each port their apps listen\n"
	       "on) two ways: the evaluator's verdict and a real probe, all at once from one event loop.\n"
	       "Prints the counts and every disagreement with both sides; exit 1 on any.\n\n"
	       "Options:\n"
	       "  --from EP        only flows from this endpoint (default: all)\n"
	       "  --to EP          only flows to this endpoint (default: all)\n"
	       "  --timeout MS     a flow silent this long is a timeout (default: 1000)\n"
	       "  --deadline MS    stop after this long overall (default: 300000)\n"
	       "  -o table|json    output format; json has flows, allowed, denied, disagreements,\n"
	       "                   seconds (default: table)\n\n"
	       "Examples:\n"
	       "  vnetlab verify basics\n"
	       "  vnetlab verify basics --from web1 -o json\n"},
    {"capture", "Capture packets on an endpoint's eth0 with libpcap, from inside its namespace.\n\n"
		"Options:\n"
		"  -w FILE          write a pcap file (tcpdump -r, Wireshark; - for stdout) instead of one\n"
		"                   line per packet (default: lines)\n"
		"  --count N        stop after N packets (default: no limit)\n"
		"  --filter EXPR    a tcpdump filter expression (default: everything)\n"
		"  --timeout MS     stop after MS milliseconds (default: no limit; Ctrl-C stops too)\n\n"
		"Examples:\n"
		"  vnetlab capture basics web2 -w web2.pcap --count 20\n"
		"  vnetlab capture basics web2 --filter 'tcp port 7'\n"},
    {"check", "Run checks as real probes: PASS/FAIL each (a failed check prints its hint), the points,\n"
	      "exit 1 on any FAIL. A LAB is checked as it runs. A FILE whose lab is not up is built,\n"
	      "checked and removed; a FILE whose lab is up has its (possibly new) checks run against\n"
	      "that lab, with a warning when the file's resources no longer match the lab's.\n\n"
	      "Options:\n"
	      "  --checks FILE   run this checks file (checks: and scenario:, like a topology's) instead of\n"
	      "                  the lab's own checks: a teacher's hidden checks (default: the lab's)\n"
	      "  --name NAME     with a topology FILE: the lab built from it with up --name (default: the\n"
	      "                  file's name:)\n"
	      "  -o table|json   output format; json has each check's name, passed and points, and the\n"
	      "                  totals (default: table)\n\n"
	      "Examples:\n"
	      "  sudo vnetlab check topologies/azure-cni-nsg.yaml\n"
	      "  sudo vnetlab check alice --checks teacher/ex1-checks.yaml -o json\n"},
    {"score", "A scoreboard: one row per lab with its points, the checks it passed and the names of\n"
	      "those it failed. Exit 0 when every lab could be scored, 1 when one is down.\n\n"
	      "Options:\n"
	      "  --checks FILE        score with this checks file, e.g. the teacher's hidden one\n"
	      "                       (default: each lab's own checks)\n"
	      "  --all                every lab that is up (default: the labs named)\n"
	      "  -o table|json|tsv    output format (default: table)\n"
	      "  --watch              on a terminal, refresh until Ctrl-C; elsewhere score once\n"
	      "                       (default: off)\n"
	      "  --interval S         seconds between refreshes with --watch (default: 5)\n\n"
	      "Examples:\n"
	      "  sudo vnetlab score alice bob carol --checks teacher/ex1-checks.yaml\n"
	      "  sudo vnetlab score --all --checks teacher/ex1-checks.yaml --watch\n"
	      "  sudo vnetlab score alice bob -o tsv > scores.tsv\n"},
    {"reset", "Bring a running lab back to its file: the NSG rules of the file in every fabric (one\n"
	      "transaction per fabric; established connections survive) and no live edits left.\n"
	      "Much faster than down and up.\n\n"
	      "Options: none.\n\n"
	      "Examples:\n"
	      "  sudo vnetlab reset alice\n"},
    {"run", "Build the lab, run its scenario step by step with narration (say, check, set, add,\n"
	    "delete, wait, pause), and remove it. Exit 1 on any FAIL. A pause step waits for Enter on\n"
	    "a terminal and is skipped otherwise.\n\n"
	    "Options:\n"
	    "  --name NAME     build the lab under another name (default: the file's name:)\n"
	    "  --keep          leave the lab up at the end (default: off: it is removed)\n"
	    "  --checks FILE   the checks and scenario of this checks file instead of the topology's\n"
	    "                  (default: the topology's)\n\n"
	    "Examples:\n"
	    "  sudo vnetlab run topologies/kubenet-outbound.yaml\n"
	    "  sudo vnetlab run topologies/kubenet-outbound.yaml --keep --name demo1\n"},
    {"validate", "Load and validate a topology file; build nothing, no root needed. Errors name the file,\n"
		 "line and column.\n\n"
		 "Options: none.\n\n"
		 "Examples:\n"
		 "  vnetlab validate topologies/kubenet-hybrid.yaml\n"},
    {"graph", "The topology as a Graphviz dot graph.\n\n"
	      "Options: none.\n\n"
	      "Examples:\n"
	      "  vnetlab graph topologies/kubenet-hybrid.yaml | dot -Tsvg > hybrid.svg\n"},
    {"complete", "The words shell completion offers, one per line: labs that are up, a lab's or a file's\n"
		 "endpoints, NSGs, checks, an NSG's rules. Used by the bash completion script.\n\n"
		 "Options: none.\n\n"
		 "Examples:\n"
		 "  vnetlab complete labs\n"
		 "  vnetlab complete rules topologies/kubenet-outbound.yaml aciNsg\n"},
};

const char *verb_doc(const char *verb)
{
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		if (!strcmp(docs[i].verb, verb))
			return docs[i].doc;
	return "";
}
