#!/usr/bin/env bash
# make bench: medians of several runs, side by side with a plain `ip` script in the same run.
# Usage: bench/run.sh BUILD/vnetlab   (root; every lab and namespace it makes is removed)
# BASELINE=OTHER/vnetlab (say, a build of an older commit) times that binary too, on the labs it
# can load, its runs interleaved with this one's so that both see the same machine.
set -euo pipefail
VL=${1:-build/vnetlab}
BASE=${BASELINE:-}
BIN=$(dirname "$VL")/bench
RUNS=${RUNS:-5}
LABS="bench200 bench1k bench1v bench5v benchv100 benchs100 benchs1k benchs5k benchr1k"
tmp=$(mktemp -d /tmp/vnetlab-bench.XXXXXX)
cleanup() {
	local v l
	for v in $VL $BASE ${RL:-}; do
		for l in $LABS; do $v down "$l" >/dev/null 2>&1 || true; done
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
if [ "$(id -u)" != 0 ]; then echo "make bench needs root (it builds labs)"; exit 2; fi
if [ -n "$BASE" ] && [ ! -x "$BASE" ]; then echo "BASELINE=$BASE: not an executable"; exit 2; fi

median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f\n", b-a}'; }

gen_vms() { # N
	echo "name: bench200"
	echo "vnets: [{name: v, addressSpace: [10.200.0.0/16], subnets: [{name: s, addressPrefix: 10.200.0.0/22}]}]"
	echo "vms:"
	for i in $(seq 0 $(($1 - 1))); do echo "  - {name: vm$i, subnet: s, app: echo, ports: [7]}"; done
}
gen_kubenet() { # NODES PODS_PER_NODE
	echo "name: bench1k"
	echo "vnets: [{name: v, addressSpace: [10.201.0.0/16], subnets: [{name: aks, addressPrefix: 10.201.0.0/24}]}]"
	echo "aksClusters:"
	echo "  - {name: k, subnet: aks, networkPlugin: kubenet, nodeCount: $1, pods: [{name: p, replicas: $(($1 * $2))}]}"
}
gen_peered() { # LAB VNETS VMS_PER_VNET: one subnet each, every pair peered (both sides declared)
	local v w i ref=s # one VNet: a bare subnet name, which builds from before routing domains load too
	echo "name: $1"
	echo "vnets:"
	for v in $(seq 0 $(($2 - 1))); do
		echo "  - name: v$v"
		echo "    addressSpace: [10.$((210 + v)).0.0/16]"
		echo "    subnets: [{name: s, addressPrefix: 10.$((210 + v)).0.0/22}]"
		[ "$2" -gt 1 ] && echo "    virtualNetworkPeerings:"
		for w in $(seq 0 $(($2 - 1))); do
			[ "$w" = "$v" ] || echo "      - {name: v$v-to-v$w, remoteVirtualNetwork: v$w}"
		done
	done
	echo "vms:"
	for v in $(seq 0 $(($2 - 1))); do
		[ "$2" -gt 1 ] && ref=v$v/s
		for i in $(seq 0 $(($3 - 1))); do echo "  - {name: v${v}vm$i, subnet: $ref}"; done
	done
}

# time_labs NAME:BIN:FILE:LAB ... → one line per lab, "NAME up down rss": medians of RUNS rounds;
# each round ups and downs every lab in turn, so noise from other work on the machine and the
# kernel's freeing of the last lab's namespaces fall on all of them alike. rss: peak of up, KiB.
time_labs() {
	local spec name bin file lab s e r
	declare -A ups downs rss
	for _ in $(seq "$RUNS"); do
		for spec in "$@"; do
			IFS=: read -r name bin file lab <<<"$spec"
			s=$(now); /usr/bin/time -f %M -o "$tmp/rss" "$bin" up "$file" >/dev/null; e=$(now)
			ups[$name]+="$(elapsed "$s" "$e")"$'\n'
			r=$(cat "$tmp/rss"); [ "$r" -gt "${rss[$name]:-0}" ] && rss[$name]=$r
			s=$(now); "$bin" down "$lab" >/dev/null; e=$(now)
			downs[$name]+="$(elapsed "$s" "$e")"$'\n'
			sleep 0.5 # let the kernel finish freeing the namespaces
		done
	done
	for spec in "$@"; do
		name=${spec%%:*}
		echo "$name $(printf %s "${ups[$name]}" | median) $(printf %s "${downs[$name]}" | median) ${rss[$name]}"
	done
}
# The same lab timed with this build and, if given, the baseline build.
with_base() { # FILE LAB
	echo "new:$VL:$1:$2"
	[ -z "$BASE" ] || echo "base:$BASE:$1:$2"
}
per_ep() { awk -v t="$1" -v n="$2" 'BEGIN {printf "%.2f", t * 1000 / n}'; } # SECONDS ENDPOINTS → ms

echo "== vnetlab bench ($(nproc) cores, $RUNS runs each, medians)"
[ -z "$BASE" ] || echo "baseline: $BASE (its runs interleaved with this build's)"
gen_vms 200 >"$tmp/vms.yaml"
while read -r who up down rss; do
	case $who in
	new) echo "200 VMs, one subnet:        up ${up} s   down ${down} s   (peak RSS of up: ${rss} KiB)" ;;
	base) echo "  baseline:                 up ${up} s   down ${down} s   (peak RSS of up: ${rss} KiB)" ;;
	esac
done < <(time_labs $(with_base "$tmp/vms.yaml" bench200))

ipu=""; ipd=""
for _ in $(seq 3); do
	read -r u d < <(bash bench/ip_baseline.sh 200 | sed -n 's/.*up \([0-9.]*\) s, down \([0-9.]*\) s.*/\1 \2/p')
	ipu+="$u"$'\n'; ipd+="$d"$'\n'
	sleep 0.5
done
echo "same layout, one ip per step: up $(printf %s "$ipu" | median) s   down $(printf %s "$ipd" | median) s"

$VL up "$tmp/vms.yaml" >/dev/null
n=300; s=$(now)
for i in $(seq $n); do $VL probe bench200 vm$((i % 200)) vm$(((i + 1) % 200)):7 >/dev/null; done
e=$(now)
echo "probes (CLI, one process each): $(awk -v n=$n -v t="$(elapsed "$s" "$e")" 'BEGIN {printf "%.0f", n/t}') probes/s"
$VL down bench200 >/dev/null

gen_kubenet 10 100 >"$tmp/k.yaml"
while read -r who up down rss; do
	case $who in
	new) echo "kubenet 10 nodes x 100 pods: up ${up} s   down ${down} s   (peak RSS of up: ${rss} KiB)" ;;
	base) echo "  baseline:                 up ${up} s   down ${down} s   (peak RSS of up: ${rss} KiB)" ;;
	esac
done < <(RUNS=3 time_labs $(with_base "$tmp/k.yaml" bench1k))

# Routing domains: one fabric per VNet must not cost more per endpoint than one big VNet.
gen_peered bench1v 1 1000 >"$tmp/1v.yaml"
gen_peered bench5v 5 200 >"$tmp/5v.yaml"
while read -r who up down rss; do
	case $who in
	1v) echo "1 VNet x 1,000 VMs:          up ${up} s   down ${down} s   (per endpoint: up $(per_ep "$up" 1000) ms, down $(per_ep "$down" 1000) ms; peak RSS ${rss} KiB)" ;;
	base) echo "  baseline:                  up ${up} s   down ${down} s   (per endpoint: up $(per_ep "$up" 1000) ms, down $(per_ep "$down" 1000) ms; peak RSS ${rss} KiB)" ;;
	5v) echo "5 peered VNets x 200 VMs:    up ${up} s   down ${down} s   (per endpoint: up $(per_ep "$up" 1000) ms, down $(per_ep "$down" 1000) ms; peak RSS ${rss} KiB)" ;;
	esac
done < <(RUNS=3 time_labs "1v:$VL:$tmp/1v.yaml:bench1v" ${BASE:+"base:$BASE:$tmp/1v.yaml:bench1v"} \
	"5v:$VL:$tmp/5v.yaml:bench5v")

# verify: every flow of 100 VMs running hello (100 x 99 = 9,900 TCP flows), median of RUNS.
gen_hello() { # LAB N
	echo "name: $1"
	echo "vnets: [{name: v, addressSpace: [10.220.0.0/16], subnets: [{name: s, addressPrefix: 10.220.0.0/20}]}]"
	echo "vms:"
	for i in $(seq 0 $(($2 - 1))); do echo "  - {name: vm$i, subnet: s, app: hello, ports: [80]}"; done
}
gen_hello benchv100 100 >"$tmp/v100.yaml"
$VL up "$tmp/v100.yaml" >/dev/null
vs=""; flows=0; dis=0
for _ in $(seq "$RUNS"); do
	out=$($VL verify benchv100 -o json || true)
	flows=$(sed -n 's/.*"flows":\([0-9]*\).*/\1/p' <<<"$out")
	dis=$(sed -n 's/.*"disagreements":\([0-9]*\).*/\1/p' <<<"$out")
	vs+="$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' <<<"$out")"$'\n'
done
echo "verify 100 VMs ($flows flows, $dis disagreements): $(printf %s "$vs" | median) s"
$VL down benchv100 >/dev/null
sleep 1

# Rootless against root mode: the same 1,000 VMs brought up by nobody (setpriv) in a user
# namespace of its own (docs/rootless.md), rounds interleaved with root's. Skipped where
# unprivileged user namespaces are refused.
if setpriv --reuid=65534 --regid=65534 --clear-groups unshare -Ur true 2>/dev/null; then
	chmod 755 "$tmp"
	mkdir -m 700 "$tmp/xdg" && chown 65534:65534 "$tmp/xdg"
	cp "$VL" "$tmp/vnetlab" && chmod 755 "$tmp/vnetlab"
	RL=$tmp/vl-rootless
	printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin XDG_RUNTIME_DIR=%s %s "$@"\n' \
		"$tmp/xdg" "$tmp/vnetlab" >"$RL"
	chmod 755 "$RL"
	{
		echo "name: benchr1k"
		echo "vnets: [{name: v, addressSpace: [10.231.0.0/16], subnets: [{name: s, addressPrefix: 10.231.0.0/18}]}]"
		echo "vms:"
		for i in $(seq 0 999); do echo "  - {name: vm$i, subnet: s}"; done
	} >"$tmp/r1k.yaml"
	chmod 644 "$tmp/r1k.yaml"
	while read -r who up down rss; do
		case $who in
		root) echo "1,000 VMs, root mode:       up ${up} s   down ${down} s   (peak RSS of up: ${rss} KiB)"; rup=$up ;;
		rootless) echo "1,000 VMs, rootless:        up ${up} s   down ${down} s   (peak RSS of up: ${rss} KiB; up $(awk -v a="$up" -v b="$rup" 'BEGIN {printf "%.2f", a / b}')x root's)" ;;
		esac
	done < <(RUNS=3 time_labs "root:$VL:$tmp/r1k.yaml:benchr1k" "rootless:$RL:$tmp/r1k.yaml:benchr1k")
	sleep 2
else
	echo "rootless: skipped (unprivileged user namespaces are refused here)"
fi

# Up and down against the number of endpoints: 100 and 1,000 VMs (median of 3), 5,000 (one run:
# it takes a while) unless BENCH_5K=0.
for n in 100 1000 5000; do
	[ "$n" = 5000 ] && [ "${BENCH_5K:-1}" = 0 ] && continue
	case $n in 100) lab=benchs100 ;; 1000) lab=benchs1k ;; 5000) lab=benchs5k ;; esac
	{
		echo "name: $lab"
		echo "vnets: [{name: v, addressSpace: [10.230.0.0/16], subnets: [{name: s, addressPrefix: 10.230.0.0/18}]}]"
		echo "vms:"
		for i in $(seq 0 $((n - 1))); do echo "  - {name: vm$i, subnet: s}"; done
	} >"$tmp/s$n.yaml"
	r=3; [ "$n" = 5000 ] && r=1
	while read -r who up down rss; do
		echo "$n VMs, one subnet ($r run(s)):  up ${up} s   down ${down} s   (per endpoint: up $(per_ep "$up" "$n") ms, down $(per_ep "$down" "$n") ms; peak RSS ${rss} KiB)"
	done < <(RUNS=$r time_labs "s:$VL:$tmp/s$n.yaml:$lab")
	sleep 2
done

# The kernel frees torn-down namespaces in the background (kworker netns cleanup); let it finish
# so it does not compete with the micro-benchmarks below.
sleep 5
for b in nft_bench eval_bench probe_bench; do
	[ -x "$BIN/$b" ] && "$BIN/$b"
done
exit 0
