#!/bin/sh
# DHCPv6 on one NIC of the ramdisk (busybox has no DHCPv6 client: ISC dhclient -6 does it):
#   dhcp6.sh IFACE [stateful|stateless]
# Waits until the NIC's link-local address is past duplicate address detection (dhclient binds to
# it), then asks once for an address (stateful) or only for DNS servers (stateless), giving up after
# dhclient6.conf's timeout (exit status non-zero). With a lease dhclient stays in the background and
# renews it; routes come from the router advertisements (the kernel's own autoconfiguration).
# RUNDIR (default /run) holds the lease and pid files; RESOLV_CONF (default /etc/resolv.conf) the DNS servers;
# the hook runs with this PATH (HOOK_PATH: the ramdisk's, busybox's ip).
dev=$1
mode=${2:-stateful}
here=$(dirname "$0")
run=${RUNDIR:-/run}
tries=0
# /proc/net/if_inet6: address, ifindex, prefix length, scope (20: link), flags (40: tentative), name.
until awk -v dev="$dev" '$6 == dev && $4 == "20" && $5 !~ /^[4567cdef].$/ { found = 1 } END { exit !found }' /proc/net/if_inet6; do
  tries=$((tries + 1))
  if [ $tries -gt 40 ]; then echo "dhcp6: $dev has no usable IPv6 link-local address (is IPv6 off?)" >&2; exit 1; fi
  sleep 0.25
done
stateless=""
[ "$mode" = stateless ] && stateless=-S
# DUID-LL: the client identifier carries the NIC's MAC, by which Anvil's DHCPv6 server knows the node.
exec dhclient -6 $stateless -1 -D LL -cf "$here/dhclient6.conf" -sf "$here/dhclient6-hook.sh" \
  -lf "$run/dhclient6.$dev.leases" -pf "$run/dhclient6.$dev.pid" -e "RESOLV_CONF=${RESOLV_CONF:-/etc/resolv.conf}" -e "HOOK_PATH=$PATH" "$dev"
