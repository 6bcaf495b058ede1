#!/usr/bin/env bash
# The 200-VM layout of vnetlab (a fabric + N endpoints, one veth each, proxy ARP,
# /32 routes, default routes) built with one `ip` call per step, for comparison
# with `vnetlab up`. Root only. Usage: bench/ip_baseline.sh [N]   (default 200)
set -euo pipefail

n=${1:-200}
pfx=vlbench-ip-$$
fab=$pfx-fabric

if [ "$(id -u)" != 0 ]; then
	echo "ip-script: skipped (needs root)"
	exit 0
fi
if [ "$n" -gt 250 ]; then
	echo "ip-script: at most 250 endpoints fit 10.9.1.0/24" >&2
	exit 2
fi

cleanup() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep "^$pfx-" || true); do
		ip netns del "$ns" 2>/dev/null || true
	done
}
trap cleanup EXIT

now() { date +%s.%N; }

noipv6() {
	ip netns exec "$1" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6'
}

t0=$(now)
ip netns add "$fab"
noipv6 "$fab"
ip netns exec "$fab" sh -c 'echo 1 >/proc/sys/net/ipv4/conf/all/forwarding; echo 1 >/proc/sys/net/ipv4/conf/all/proxy_arp'
ip -n "$fab" link set lo up
for ((i = 0; i < n; i++)); do
	ep=$pfx-e$i
	ip=10.9.1.$((4 + i))
	ip netns add "$ep"
	noipv6 "$ep"
	ip -n "$ep" link set lo up
	ip -n "$fab" link add "n$i" type veth peer name eth0 netns "$ep"
	ip -n "$fab" link set "n$i" up
	ip -n "$ep" link set eth0 up
	ip -n "$fab" addr add 10.9.1.1/32 dev "n$i"
	ip -n "$ep" addr add "$ip/24" dev eth0
	ip -n "$fab" route add "$ip/32" dev "n$i"
	ip -n "$ep" route add default via 10.9.1.1 dev eth0
done
t1=$(now)
cleanup
t2=$(now)
trap - EXIT
awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$n" \
	'BEGIN { printf "ip-script: up %.2f s, down %.2f s (%d endpoints)\n", b - a, c - b, n }'
