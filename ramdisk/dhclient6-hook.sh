#!/bin/sh
# dhclient -6 hook (ramdisk/dhcp6.sh): puts the leased address on the interface and the DNS servers
# into RESOLV_CONF. Routes are the router advertisements' business, as on any IPv6 host.
resolv=${RESOLV_CONF:-/etc/resolv.conf}
# dhclient gives its script a PATH of its own; dhcp6.sh hands over the caller's (the ramdisk's busybox).
[ -n "$HOOK_PATH" ] && PATH=$HOOK_PATH
case "$reason" in
  BOUND6|RENEW6|REBIND6|REBOOT6)
    if [ -n "$old_ip6_address" ] && [ "$old_ip6_address" != "$new_ip6_address" ]; then
      ip -6 addr del "$old_ip6_address/${old_ip6_prefixlen:-128}" dev "$interface" 2>/dev/null
    fi
    # (busybox's ip has no nodad: the address is usable once duplicate address detection ends, a second later.)
    if [ -n "$new_ip6_address" ] && ! ip -6 addr show dev "$interface" | grep -q "inet6 $new_ip6_address/"; then
      ip -6 addr add "$new_ip6_address/${new_ip6_prefixlen:-128}" dev "$interface"
    fi
    ;;
  EXPIRE6|RELEASE6|STOP6)
    [ -n "$old_ip6_address" ] && ip -6 addr del "$old_ip6_address/${old_ip6_prefixlen:-128}" dev "$interface" 2>/dev/null
    ;;
esac
case "$reason" in
  BOUND6|RENEW6|REBIND6|REBOOT6|INFORM6)
    for ns in $new_dhcp6_name_servers; do
      grep -qx "nameserver $ns" "$resolv" 2>/dev/null || echo "nameserver $ns" >> "$resolv"
    done
    ;;
esac
exit 0
