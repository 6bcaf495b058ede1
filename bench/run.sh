#!/usr/bin/env bash
# make bench: one table, each figure the median of several runs, side by side with the same 100
# hosts built by a plain `ip` script (and by Mininet when `mn` is installed) in the same run, and
# an SVG plot of up time against endpoints.
# Usage: bench/run.sh BUILD/vnetlab   (root; every lab and namespace it makes is removed)
#   RUNS=N         runs of each figure (default 5; the 5,000-VM lab: RUNS_5K, default 3)
#   QUICK=1        for development: 1 run each, no 5,000-VM lab, no Mininet
#   BASELINE=BIN   another build (say, of an older commit): its up/down of the VM labs, its runs
#                  interleaved with this build's so both see the same machine
#   BENCH_SVG=F    where the plot goes (default docs/bench-up.svg); BENCH_MD=F the table
#                  (default build/bench.md)
set -euo pipefail
VL=${1:-build/vnetlab}
BASE=${BASELINE:-}
BIN=$(dirname "$VL")/bench
RUNS=${RUNS:-5}
RUNS_5K=${RUNS_5K:-3}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then RUNS=1; fi
SVG=${BENCH_SVG:-docs/bench-up.svg}
MD=${BENCH_MD:-$(dirname "$VL")/bench.md}
N_LABS=20
tmp=$(mktemp -d /tmp/vnetlab-bench.XXXXXX)
LABS="bs100 bs1k bs5k bk1k bv100 bd100 ba20 ba1k bn1k"
for k in $(seq 0 $((N_LABS - 1))); do LABS+=" bw$k"; done
cleanup() {
	local v l
	for v in $VL $BASE; do
		for l in $LABS benchr1k; do $v down "$l" >/dev/null 2>&1 || true; done
	done
	[ -x "${RL:-}" ] && "$RL" down benchr1k >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
if [ "$(id -u)" != 0 ]; then echo "make bench needs root (it builds labs)"; exit 2; fi
if [ -n "$BASE" ] && [ ! -x "$BASE" ]; then echo "BASELINE=$BASE: not an executable"; exit 2; fi

median() { sort -g | awk '{a[NR]=$1} END {if (!NR) {printf "-"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f\n", b-a}'; }
say() { echo "bench: $*" >&2; } # progress on stderr; the table on stdout
# The kernel frees torn-down namespaces in the background (cleanup_net, under the RTNL lock, several
# seconds of CPU for 5,000): wait until the count of live namespaces (slab net_namespace) is back
# near where the bench started or has stopped falling, so the next figure does not pay for it.
netns_live() { awk '$1 == "net_namespace" {print $2}' /proc/slabinfo 2>/dev/null || echo 0; }
NETNS0=$(netns_live)
settle() {
	local n prev=-1 same=0 i
	sleep "${1:-0.5}"
	for i in $(seq 120); do
		n=$(netns_live)
		[ "$n" -le $((NETNS0 + 20)) ] && return 0
		if [ "$n" -ge "$prev" ] && [ "$prev" -ge 0 ]; then same=$((same + 1)); else same=0; fi
		[ "$same" -ge 4 ] && return 0
		prev=$n
		sleep 0.5
	done
}

# The table: rows of "measure|value|goal|ip script|Mininet|note", printed at the end.
rows=()
row() { rows+=("$1|$2|${3:-}|${4:-}|${5:-}|${6:-}"); }

gen_vms() { # LAB N: one VNet, one subnet, N VMs
	echo "name: $1"
	echo "vnets: [{name: v, addressSpace: [10.230.0.0/16], subnets: [{name: s, addressPrefix: 10.230.0.0/18}]}]"
	echo "vms:"
	for i in $(seq 0 $(($2 - 1))); do echo "  - {name: vm$i, subnet: s}"; done
}
gen_apps() { # LAB N APP PORT: N VMs running APP
	echo "name: $1"
	echo "vnets: [{name: v, addressSpace: [10.220.0.0/16], subnets: [{name: s, addressPrefix: 10.220.0.0/20}]}]"
	echo "vms:"
	for i in $(seq 0 $(($2 - 1))); do echo "  - {name: vm$i, subnet: s, app: $3, ports: [$4]}"; done
}
gen_kubenet() { # LAB NODES PODS
	echo "name: $1"
	echo "vnets: [{name: v, addressSpace: [10.201.0.0/16], subnets: [{name: aks, addressPrefix: 10.201.0.0/24}]}]"
	echo "aksClusters:"
	echo "  - {name: k, subnet: aks, networkPlugin: kubenet, nodeCount: $2, pods: [{name: p, replicas: $3}]}"
}

# time_labs NAME:BIN:FILE:LAB ... -> per lab "NAME up down rss": medians of R rounds (R=$R);
# each round ups and downs every lab in turn, so the machine's noise falls on all alike.
# rss: the largest peak RSS of `up` (KiB).
time_labs() {
	local spec name bin file lab s e r
	declare -A ups downs rss
	for _ in $(seq "$R"); do
		for spec in "$@"; do
			IFS=: read -r name bin file lab <<<"$spec"
			s=$(now)
			/usr/bin/time -f %M -o "$tmp/rss" "$bin" up "$file" >/dev/null
			e=$(now)
			ups[$name]+="$(elapsed "$s" "$e")"$'\n'
			r=$(tail -1 "$tmp/rss")
			[ "$r" -gt "${rss[$name]:-0}" ] && rss[$name]=$r
			s=$(now)
			"$bin" down "$lab" >/dev/null
			e=$(now)
			downs[$name]+="$(elapsed "$s" "$e")"$'\n'
			settle
		done
	done
	for spec in "$@"; do
		name=${spec%%:*}
		echo "$name $(printf %s "${ups[$name]}" | median) $(printf %s "${downs[$name]}" | median) ${rss[$name]}"
	done
}
ms() { awk -v t="$1" 'BEGIN {printf "%.0f ms", t * 1000}'; }
sec() { awk -v t="$1" 'BEGIN {printf "%.2f s", t}'; }
per_ep() { awk -v t="$1" -v n="$2" 'BEGIN {printf "%.3f", t * 1000 / n}'; } # SECONDS N -> ms
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
agent_rss() { # LAB -> the agent's resident memory, KiB
	local pid
	pid=$(awk '{print $1}' "/run/vnetlab/$1/agent.pid")
	awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"
}

echo "== vnetlab bench: $(nproc) cores, $(uname -r), RUNS=$RUNS$([ "$QUICK" = 1 ] && echo ' (QUICK)'), $(date -u +%Y-%m-%dT%H:%MZ)" >&2

# -- up and down against the number of endpoints, and the same 100 hosts with one `ip` per step
declare -A UP DOWN RSS BUP
sizes="100 1000 5000"
[ "$QUICK" = 1 ] && sizes="100 1000"
for n in $sizes; do
	case $n in 100) lab=bs100 ;; 1000) lab=bs1k ;; 5000) lab=bs5k ;; esac
	gen_vms "$lab" "$n" >"$tmp/s$n.yaml"
	R=$RUNS
	[ "$n" = 5000 ] && [ "$QUICK" != 1 ] && R=$RUNS_5K
	say "$n VMs: $R run(s)"
	while read -r who up down rss; do
		case $who in
		new) UP[$n]=$up; DOWN[$n]=$down; RSS[$n]=$rss ;;
		base) BUP[$n]="$up / $down" ;;
		esac
	done < <(time_labs "new:$VL:$tmp/s$n.yaml:$lab" ${BASE:+"base:$BASE:$tmp/s$n.yaml:$lab"})
	settle
done
ipu=""; ipd=""
say "ip script, 100 hosts: $RUNS run(s)"
for _ in $(seq "$RUNS"); do
	read -r u d < <(bash bench/ip_baseline.sh 100 | sed -n 's/.*up \([0-9.]*\) s, down \([0-9.]*\) s.*/\1 \2/p')
	ipu+="$u"$'\n'; ipd+="$d"$'\n'
	settle
done
IPU=$(printf %s "$ipu" | median); IPD=$(printf %s "$ipd" | median)

# Mininet, when installed: its lxbr switches are bridges in the root namespace, so its links are
# compared before and after; `mn -c` is never run (it deletes what it did not make).
MNT=""
if command -v mn >/dev/null && [ "$QUICK" != 1 ]; then
	before=$(ip -o link | awk -F': ' '{print $2}' | sort)
	mnt=""
	say "Mininet, 100 hosts: 3 run(s)"
	for _ in 1 2 3; do
		s=$(now)
		mn --topo single,100 --switch lxbr --controller none --test none >/dev/null 2>&1 || true
		e=$(now)
		mnt+="$(elapsed "$s" "$e")"$'\n'
	done
	after=$(ip -o link | awk -F': ' '{print $2}' | sort)
	MNT=$(printf %s "$mnt" | median)
	if [ "$before" != "$after" ]; then
		echo "bench: Mininet left the root namespace's links changed:" >&2
		diff <(echo "$before") <(echo "$after") >&2 || true
	fi
fi

b100=${BUP[100]:-}; b1k=${BUP[1000]:-}; b5k=${BUP[5000]:-}
row "up, 100 VMs" "$(sec "${UP[100]}")" "" "$(sec "$IPU")" "${MNT:+$(sec "$MNT") (up + down)}" \
	"${b100:+baseline up / down: $b100 s}"
row "down, 100 VMs" "$(sec "${DOWN[100]}")" "" "$(sec "$IPD")"
row "up, 1,000 VMs" "$(sec "${UP[1000]}")" "" "" "" "$(per_ep "${UP[1000]}" 1000) ms per endpoint${b1k:+; baseline up / down: $b1k s}"
row "down, 1,000 VMs" "$(sec "${DOWN[1000]}")"
if [ -n "${UP[5000]:-}" ]; then
	ratio=$(awk -v a="${UP[5000]}" -v b="${UP[1000]}" 'BEGIN {printf "%.2f", (a / 5000) / (b / 1000)}')
	row "up, 5,000 VMs" "$(sec "${UP[5000]}")" "< 5 s" "" "" \
		"$(per_ep "${UP[5000]}" 5000) ms per endpoint, ${ratio}x that at 1,000 (goal <= 1.25x)${b5k:+; baseline up / down: $b5k s}"
	row "down, 5,000 VMs" "$(sec "${DOWN[5000]}")" "< 0.5 s"
	row "peak RSS of vnetlab up, 5,000 VMs" "$(mib "${RSS[5000]}")" "< 64 MiB"
fi

# -- 1,000 kubenet pods on 10 nodes
gen_kubenet bk1k 10 1000 >"$tmp/k.yaml"
R=$RUNS
say "kubenet 1,000 pods: $R run(s)"
read -r _ ku kd _ < <(time_labs "k:$VL:$tmp/k.yaml:bk1k")
row "up, kubenet 10 nodes x 1,000 pods" "$(sec "$ku")" "< 1.5 s"
row "down, kubenet 1,000 pods" "$(sec "$kd")" "< 0.3 s"
settle

# -- a workshop: 20 labs of 20 endpoints (the same addresses in each), brought up at once; then
# each must work: one probe each, to its own VM (echo on 7)
for k in $(seq 0 $((N_LABS - 1))); do gen_apps "bw$k" 20 echo 7 >"$tmp/w$k.yaml"; done
wu=""; wd=""; wok=0
say "$N_LABS labs x 20 endpoints at once: $RUNS run(s)"
for _ in $(seq "$RUNS"); do
	s=$(now)
	for k in $(seq 0 $((N_LABS - 1))); do $VL up "$tmp/w$k.yaml" >/dev/null & done
	wait
	e=$(now)
	wu+="$(elapsed "$s" "$e")"$'\n'
	wok=0
	for k in $(seq 0 $((N_LABS - 1))); do
		$VL probe "bw$k" vm0 vm19:7 >/dev/null 2>&1 && wok=$((wok + 1))
	done
	s=$(now)
	for k in $(seq 0 $((N_LABS - 1))); do $VL down "bw$k" >/dev/null & done
	wait
	e=$(now)
	wd+="$(elapsed "$s" "$e")"$'\n'
	settle
done
row "up, $N_LABS labs x 20 VMs at once (total)" "$(sec "$(printf %s "$wu" | median)")" "< 2 s" "" "" \
	"probes that worked after the last run: $wok of $N_LABS"
row "down, $N_LABS labs at once (total)" "$(sec "$(printf %s "$wd" | median)")"

# -- verify: every flow of 100 VMs running hello (100 x 99 = 9,900 TCP flows)
gen_apps bv100 100 hello 80 >"$tmp/v100.yaml"
$VL up "$tmp/v100.yaml" >/dev/null
vs=""; flows=0; dis=0
say "verify 100 VMs: $RUNS run(s)"
for _ in $(seq "$RUNS"); do
	out=$($VL verify bv100 -o json || true)
	flows=$(sed -n 's/.*"flows": *\([0-9]*\).*/\1/p' <<<"$out")
	dis=$(sed -n 's/.*"disagreements": *\([0-9]*\).*/\1/p' <<<"$out")
	vs+="$(sed -n 's/.*"seconds": *\([0-9.]*\).*/\1/p' <<<"$out")"$'\n'
done
$VL down bv100 >/dev/null
row "verify, 100 VMs ($flows flows)" "$(sec "$(printf %s "$vs" | median)")" "< 1 s" "" "" "$dis disagreements"
settle

# -- the same 9,900 flows, every one denied by the subnet's NSG: each drop known from its record
gen_denied() { # LAB N: N VMs running hello behind an NSG that denies every flow between them
	gen_apps "$1" "$2" hello 80 | sed 's/addressPrefix: 10.220.0.0\/20}/addressPrefix: 10.220.0.0\/20, networkSecurityGroup: n}/'
	echo "networkSecurityGroups: [{name: n, securityRules: [{name: deny-vnet, priority: 100, direction: Inbound, access: Deny, protocol: '*', sourceAddressPrefix: VirtualNetwork, sourcePortRange: '*', destinationAddressPrefix: '*', destinationPortRange: '*'}]}]"
}
gen_denied bd100 100 >"$tmp/d100.yaml"
$VL up "$tmp/d100.yaml" >/dev/null
vs=""; flows=0; dis=0; dropped=0
say "verify 100 VMs, all denied: $RUNS run(s)"
for _ in $(seq "$RUNS"); do
	out=$($VL verify bd100 -o json || true)
	flows=$(sed -n 's/.*"flows": *\([0-9]*\).*/\1/p' <<<"$out")
	dis=$(sed -n 's/.*"disagreements": *\([0-9]*\).*/\1/p' <<<"$out")
	dropped=$(sed -n 's/.*"dropped": *\([0-9]*\).*/\1/p' <<<"$out")
	vs+="$(sed -n 's/.*"seconds": *\([0-9.]*\).*/\1/p' <<<"$out")"$'\n'
done
$VL down bd100 >/dev/null
row "verify, 100 VMs, every flow denied ($flows flows)" "$(sec "$(printf %s "$vs" | median)")" "< 1 s" "" "" \
	"$dis disagreements, $dropped drops attributed (last run)"
settle

# -- the agent's resident memory: a 20-endpoint lab and a 1,000-endpoint lab (apps on every VM)
gen_apps ba20 20 hello 80 >"$tmp/a20.yaml"
gen_apps ba1k 1000 hello 80 >"$tmp/a1k.yaml"
$VL up "$tmp/a20.yaml" >/dev/null
sleep 1
row "agent RSS, 20-endpoint lab" "$(mib "$(agent_rss ba20)")" "< 4 MiB"
$VL down ba20 >/dev/null
$VL up "$tmp/a1k.yaml" >/dev/null
sleep 1
row "agent RSS, 1,000-endpoint lab" "$(mib "$(agent_rss ba1k)")" "< 32 MiB"
$VL down ba1k >/dev/null
settle

# -- rootless against root mode: the same 1,000 VMs brought up by nobody (setpriv) in a user
# namespace of its own (docs/rootless.md), rounds interleaved with root's. Skipped where
# unprivileged user namespaces are refused.
if setpriv --reuid=65534 --regid=65534 --clear-groups unshare -Ur true 2>/dev/null; then
	say "rootless"
	chmod 755 "$tmp"
	mkdir -m 700 "$tmp/xdg" && chown 65534:65534 "$tmp/xdg"
	cp "$VL" "$tmp/vnetlab" && chmod 755 "$tmp/vnetlab"
	RL=$tmp/vl-rootless
	printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin XDG_RUNTIME_DIR=%s %s "$@"\n' \
		"$tmp/xdg" "$tmp/vnetlab" >"$RL"
	chmod 755 "$RL"
	gen_vms benchr1k 1000 >"$tmp/r1k.yaml"
	chmod 644 "$tmp/r1k.yaml"
	rup='' rlu='' rld=''
	while read -r who up down _; do
		case $who in
		root) rup=$up ;;
		rootless) rlu=$up rld=$down ;;
		esac
	done < <(R=3 time_labs "root:$VL:$tmp/r1k.yaml:benchr1k" "rootless:$RL:$tmp/r1k.yaml:benchr1k")
	row "up, 1,000 VMs rootless" "$(sec "$rlu")" "<= 1.2x root" "" "" \
		"root mode in the same rounds: $(sec "$rup"); $(awk -v a="$rlu" -v b="$rup" 'BEGIN {printf "%.2f", a / b}')x"
	row "down, 1,000 VMs rootless" "$(sec "$rld")"
else
	say "rootless: skipped (unprivileged user namespaces are refused here)"
fi

# -- nftables: a 1,000-rule NSG committed, and a one-rule live edit (medians of 10 in nft_bench)
if [ -x "$BIN/nft_bench" ]; then
	say "nft commits"
	nout=$("$BIN/nft_bench" 2>&1 || true)
	read -r nf ne < <(sed -n 's/.*commit-1000 \([0-9.]*\) ms, edit-1 \([0-9.]*\) ms (simple.*/\1 \2/p' <<<"$nout")
	nt=$(sed -n 's/.*nft -f: \([0-9.]*\) ms.*/\1/p' <<<"$nout")
	read -r mf me < <(sed -n 's/.*commit-1000 \([0-9.]*\) ms, edit-1 \([0-9.]*\) ms (mixed.*/\1 \2/p' <<<"$nout")
	nb=$(sed -n 's/.*alone: \([0-9.]*\) ms simple.*/\1/p' <<<"$nout")
	row "NSG commit, 1,000 rules" "${nf:-?} ms" "< 10 ms" "" "" \
		"one address and port a rule (keyed chunks: a map lookup for up to 128 rules), of which ${nb:-?} ms building the transaction and the rest the kernel's; mixed rules (~1,300 nft rules, sets): ${mf:-?} ms, \`nft -f\` of those: ${nt:-?} ms"
	row "NSG one-rule edit" "${ne:-?} ms" "< 2 ms" "" "" "mixed rules: ${me:-?} ms"
fi

# -- the same edit as a user makes it: \`vnetlab nsg rule update\` of a running lab whose subnet NSG
# has 1,000 rules (the whole command: load the lab and its journal, validate, commit, record)
gen_nsg1k() { # LAB: 20 VMs behind one 1,000-rule NSG (bench/nft_bench.c's simple rules)
	echo "name: $1"
	echo "vnets: [{name: v, addressSpace: [10.240.0.0/16], subnets: [{name: s, addressPrefix: 10.240.0.0/22, networkSecurityGroup: big}]}]"
	echo "networkSecurityGroups:"
	echo "  - name: big"
	echo "    securityRules:"
	for i in $(seq 0 999); do
		echo "      - {name: r$i, priority: $((100 + i / 2)), direction: $([ $((i % 2)) = 1 ] && echo Outbound || echo Inbound), access: $([ $((i % 5)) = 0 ] && echo Deny || echo Allow), protocol: Tcp, sourceAddressPrefix: 172.17.$((i / 256)).$((i % 256))/32, sourcePortRange: '*', destinationAddressPrefix: '*', destinationPortRange: '$((1000 + i))'}"
	done
	echo "vms:"
	for i in $(seq 0 19); do echo "  - {name: vm$i, subnet: s}"; done
}
say "NSG edits through the CLI"
gen_nsg1k bn1k >"$tmp/bn1k.yaml"
# RUNS rounds of a fresh lab and 40 edits in a row (r500 flipped Allow, Deny, ...: each edit changes
# the rule), each recorded in the lab's journal: the 1st, 15th and 40th edit's medians over the rounds
# (an edit replays the journal before it: the cost must not grow with the edits made before)
N_EDITS=40
ce1=() ce15=() ce40=()
for r in $(seq "$RUNS"); do
	"$VL" up "$tmp/bn1k.yaml" >/dev/null 2>&1 || break
	for i in $(seq $N_EDITS); do
		acc=$([ $((i % 2)) = 1 ] && echo Allow || echo Deny)
		t0=$(now)
		"$VL" nsg rule update bn1k big r500 --access "$acc" -o none >/dev/null 2>&1
		t=$(elapsed "$t0" "$(now)")
		case $i in 1) ce1+=("$t") ;; 15) ce15+=("$t") ;; $N_EDITS) ce40+=("$t") ;; esac
	done
	"$VL" down bn1k >/dev/null 2>&1
done
if [ ${#ce40[@]} -gt 0 ]; then
	ms() { printf '%s\n' "$@" | median | awk '{printf "%.0f ms", $1 * 1000}'; }
	row "\`nsg rule update\`, 1,000-rule NSG (the whole command), 40th edit" "$(ms "${ce40[@]}")" "" "" "" \
		"1st edit: $(ms "${ce1[@]}"), 15th: $(ms "${ce15[@]}"); ${N_EDITS} edits in a row, each recorded in the lab's journal, medians of ${#ce40[@]} labs"
fi

# -- the table
{
	echo "| measure | vnetlab | goal | \`ip\` script | Mininet | note |"
	echo "|---|---|---|---|---|---|"
	for r in "${rows[@]}"; do echo "| ${r//|/ | } |"; done
} >"$tmp/table.md"
cat "$tmp/table.md"
mkdir -p "$(dirname "$MD")"
cp "$tmp/table.md" "$MD"

# -- the plot: up time against endpoints (log-log), with the line of a cost per endpoint equal
# to that at 1,000 and the `ip` script's 100 hosts
mkdir -p "$(dirname "$SVG")"
{
	for n in $sizes; do echo "v $n ${UP[$n]}"; done
	echo "i 100 $IPU"
	[ -z "$MNT" ] || echo "m 100 $MNT"
} | awk -v title="vnetlab up: seconds against endpoints ($(nproc) cores, medians)" '
	function lx(n) { return 80 + (log(n) - log(50)) / (log(10000) - log(50)) * 480 }
	function ly(t) { return 330 - (log(t) - log(0.01)) / (log(100) - log(0.01)) * 290 }
	{ k[NR] = $1; n[NR] = $2; t[NR] = $3; if ($1 == "v" && $2 == 1000) per = $3 / 1000 }
	END {
		printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"400\" font-family=\"sans-serif\" font-size=\"12\">\n"
		printf "<rect width=\"640\" height=\"400\" fill=\"white\"/>\n"
		printf "<text x=\"320\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n", title
		split("0.01 0.1 1 10 100", ys, " ")
		for (i = 1; i <= 5; i++) {
			printf "<line x1=\"80\" x2=\"560\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", ly(ys[i]), ly(ys[i])
			printf "<text x=\"72\" y=\"%.1f\" text-anchor=\"end\">%s s</text>\n", ly(ys[i]) + 4, ys[i]
		}
		split("100 1000 5000", xs, " ")
		for (i = 1; i <= 3; i++) {
			printf "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"40\" y2=\"330\" stroke=\"#ddd\"/>", lx(xs[i]), lx(xs[i])
			printf "<text x=\"%.1f\" y=\"348\" text-anchor=\"middle\">%s</text>\n", lx(xs[i]), xs[i]
		}
		printf "<text x=\"320\" y=\"372\" text-anchor=\"middle\">endpoints (VMs in one subnet)</text>\n"
		if (per > 0)
			printf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"5,4\"/>\n", lx(60), ly(per * 60), lx(8000), ly(per * 8000)
		path = ""
		for (i = 1; i <= NR; i++) if (k[i] == "v") path = path (path == "" ? "M" : " L") sprintf("%.1f %.1f", lx(n[i]), ly(t[i]))
		printf "<path d=\"%s\" fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\"/>\n", path
		for (i = 1; i <= NR; i++) {
			c = k[i] == "v" ? "#1565c0" : k[i] == "i" ? "#c62828" : "#2e7d32"
			printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>", lx(n[i]), ly(t[i]), c
			printf "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%.2f s</text>\n", lx(n[i]) + 7, ly(t[i]) + 4, c, t[i]
		}
		printf "<g font-size=\"11\"><circle cx=\"366\" cy=\"262\" r=\"4\" fill=\"#1565c0\"/><text x=\"374\" y=\"266\">vnetlab up</text>"
		printf "<line x1=\"360\" y1=\"280\" x2=\"372\" y2=\"280\" stroke=\"#999\" stroke-dasharray=\"5,4\"/><text x=\"374\" y=\"284\">cost per endpoint as at 1,000</text>"
		printf "<circle cx=\"366\" cy=\"298\" r=\"4\" fill=\"#c62828\"/><text x=\"374\" y=\"302\">the same hosts, one ip call per step</text>"
		printf "<circle cx=\"366\" cy=\"316\" r=\"4\" fill=\"#2e7d32\"/><text x=\"374\" y=\"320\">Mininet (up + down), when installed</text></g>\n"
		printf "</svg>\n"
	}' >"$SVG"
echo "bench: table in $MD, plot in $SVG" >&2
exit 0
