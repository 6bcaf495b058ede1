#!/usr/bin/env bash
# make check-rootless: the lab tests once more as an unprivileged user (nobody, when run as root)
# against rootless labs, and the contract's groups that do not use `ip netns exec` (nsg, routing).
# Everything runs from a staged copy readable by that user, with a private XDG_RUNTIME_DIR.
# Usage: tests/rootless/run.sh BUILD_DIR LAB_TEST_BINARY...
set -u
build=$1; shift
uid=65534
stage=$(mktemp -d /tmp/vl-rootless.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/build/tests/lab" "$stage/xdg"
cp "$build/vnetlab" "$stage/build/"
cp "$@" "$stage/build/tests/lab/"
cp -r topologies tests docs README.md "$stage/"
[ -d ../shared/acceptance ] && cp -r ../shared/acceptance "$stage/acceptance"
chmod 700 "$stage/xdg"
as=()
if [ "$(id -u)" = 0 ]; then
	chown -R $uid:$uid "$stage"
	as=(setpriv --reuid=$uid --regid=$uid --clear-groups)
fi
if ! "${as[@]}" unshare --user --map-root-user true 2>/dev/null; then
	echo "check-rootless: skipped (this host refuses unprivileged user namespaces)"
	exit 0
fi
env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin XDG_RUNTIME_DIR="$stage/xdg" VNETLAB_TEST_ROOTLESS=1 VNETLAB=build/vnetlab)
# In-process tests (lab/kernel, lab/nft, the agent called directly) make namespaces themselves:
# they run as uid 0 of a user namespace with its own /run/netns, as vnetlab makes one.
inproc='mount --make-rprivate / && { mount -t tmpfs none /run/netns 2>/dev/null || { mount -t tmpfs none /run && mkdir /run/netns; }; } && exec "$0" --jobs 1'
cd "$stage"
fails=0
for t in build/tests/lab/test_*; do
	name=$(basename "$t")
	echo "== rootless $name"
	case $name in
	test_kernel | test_nft_lab | test_agent)
		"${as[@]}" "${env[@]}" unshare --user --map-root-user --mount --net sh -c "$inproc" "$t" || fails=1 ;;
	test_rootless) echo "(not here: it runs as root and becomes two users itself)" ;;
	*) "${as[@]}" "${env[@]}" "$t" --jobs 1 || fails=1 ;;
	esac
done
if [ -d acceptance ]; then
	for g in nsg routing; do
		echo "== rootless contract $g"
		"${as[@]}" "${env[@]}" bash acceptance/contract.sh $g build/vnetlab || fails=1
	done
fi
left=$(ls -A "$stage/xdg/vnetlab" 2>/dev/null)
[ -z "$left" ] || { echo "FAIL rootless state left: $left"; fails=1; }
exit $fails
