#!/bin/sh
# dhclient -6 hook (ramdisk/dhcp6.sh): puts the leased address on the interface and the DNS servers
# into RESOLV_CONF. Routes are the router advertisements' business, as on any IPv6 host.
resolv=${RESOLV_CONF:-/etc/resolv.conf}
case "$reason" in
  BOUND6|RENEW6|REBIND6|REBOOT6)
    if [ -n "$old_ip6_address" ] && [ "$old_ip6_address" != "$new_ip6_address" ]; then
      ip -6 addr del "$old_ip6_address/${old_ip6_prefixlen:-128}" dev "$interface" 2>/dev/null
    fi
    # nodad: the server leased it to this client alone; the agent may start at once.
    [ -n "$new_ip6_address" ] && { ip -6 addr add "$new_ip6_address/${new_ip6_prefixlen:-128}" dev "$interface" nodad 2>/dev/null || true; }
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
