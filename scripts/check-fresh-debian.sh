#!/usr/bin/env bash
# The README's `npm test` as a new user runs it, on a fresh Debian 12 root: `debootstrap --variant=minbase
# bookworm`, this machine's Node 20 and npm copied in, python3 make g++ git curl, a fresh clone of this
# checkout's HEAD (no ../shared beside it), then `npm test` in a chroot. Run as root:
#   scripts/check-fresh-debian.sh [ROOT]            (default /srv/anvil-fresh; it is made anew)
# The chroot shares this machine's network namespace, so a PostgreSQL here on 127.0.0.1:5432 would answer
# the chroot's tests and the check would prove nothing: the tests' PostgreSQL goes to ANVIL_TEST_PG_PORT
# (default here 5433), where setup-postgres.sh must install and start Debian's own.
set -euo pipefail
root=${1:-/srv/anvil-fresh}
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
port=${ANVIL_TEST_PG_PORT:-5433}
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")

command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
if grep -q " $root[ /]" /proc/self/mountinfo; then echo "check: $root has mounts; not touching it" >&2; exit 1; fi
rm -rf "$root"
echo "check: debootstrap --variant=minbase bookworm $root"
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null

chroot_mounts() { grep " $root[ /]" /proc/self/mountinfo | awk '{ print $5 }' | sort -r; }
cleanup() {
  # The chroot's PostgreSQL clusters, then its mounts, deepest first (ip netns leaves /run/netns).
  [ -x "$root/usr/bin/pg_lsclusters" ] && chroot "$root" bash -c \
    'pg_lsclusters -h | while read -r v c _; do pg_ctlcluster --skip-systemctl-redirect "$v" "$c" stop || true; done'
  chroot_mounts | while read -r m; do umount "$m"; done
}
trap cleanup EXIT
# / must be a mount point inside the chroot too (ip netns remounts it rslave).
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount -t tmpfs shm "$root/dev/shm"
mount -t tmpfs run "$root/run"
cp /etc/resolv.conf "$root/etc/resolv.conf"

echo "check: python3 make g++ git curl; Node $(node -v) and npm $(npm -v) from $node_prefix"
chroot "$root" bash -c 'DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 make g++ git curl >/dev/null'
mkdir -p "$root/usr/bin" "$root/usr/lib/node_modules" "$root/usr/include"
cp -a "$node_prefix/bin/node" "$root/usr/bin/node"
cp -a "$node_prefix/lib/node_modules/npm" "$root/usr/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
cp -a "$node_prefix/include/node" "$root/usr/include/node"
# A machine behind a TLS-inspecting proxy trusts the proxy's CA; so must the fresh root.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1
fi

git clone -q "$repo" "$root/root/anvil"
echo "check: npm test in $root/root/anvil at $(git -C "$root/root/anvil" log --oneline -1 | cut -c1-80)"
status=0
chroot "$root" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt ANVIL_TEST_PG_PORT="$port" \
  bash -c 'cd /root/anvil && npm test' || status=$?
echo "check: npm test exited $status"
exit $status
