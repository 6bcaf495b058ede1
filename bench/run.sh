#!/usr/bin/env bash
# make bench: medians of several runs, side by side with a plain `ip` script in the same run.
# Usage: bench/run.sh BUILD/vnetlab   (root; every lab and namespace it makes is removed)
set -euo pipefail
VL=${1:-build/vnetlab}
BIN=$(dirname "$VL")/bench
RUNS=${RUNS:-5}
tmp=$(mktemp -d /tmp/vnetlab-bench.XXXXXX)
cleanup() { $VL down bench200 >/dev/null 2>&1 || true; $VL down bench1k >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
if [ "$(id -u)" != 0 ]; then echo "make bench needs root (it builds labs)"; exit 2; fi

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

time_lab() { # FILE LAB → "up down" medians; also peak RSS of up in KiB
	local ups="" downs="" rss=0 s e
	for _ in $(seq "$RUNS"); do
		s=$(now); /usr/bin/time -f %M -o "$tmp/rss" $VL up "$1" >/dev/null; e=$(now)
		ups+="$(elapsed "$s" "$e")"$'\n'
		r=$(cat "$tmp/rss"); [ "$r" -gt "$rss" ] && rss=$r
		s=$(now); $VL down "$2" >/dev/null; e=$(now)
		downs+="$(elapsed "$s" "$e")"$'\n'
		sleep 0.5 # let the kernel finish freeing the namespaces
	done
	echo "$(printf %s "$ups" | median) $(printf %s "$downs" | median) $rss"
}

echo "== vnetlab bench ($(nproc) cores, $RUNS runs each, medians)"
gen_vms 200 >"$tmp/vms.yaml"
read -r up down rss < <(time_lab "$tmp/vms.yaml" bench200)
echo "200 VMs, one subnet:        up ${up} s   down ${down} s   (peak RSS of up: ${rss} KiB)"

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
read -r up down rss < <(RUNS=3 time_lab "$tmp/k.yaml" bench1k)
echo "kubenet 10 nodes x 100 pods: up ${up} s   down ${down} s   (peak RSS of up: ${rss} KiB)"

# The kernel frees torn-down namespaces in the background (kworker netns cleanup); let it finish
# so it does not compete with the micro-benchmarks below.
sleep 5
for b in nft_bench eval_bench probe_bench; do
	[ -x "$BIN/$b" ] && "$BIN/$b"
done
exit 0
