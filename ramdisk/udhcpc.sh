#!/bin/sh
# udhcpc hook: applies the lease (address, default route, DNS) to the interface.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for gw in $router; do ip route replace default via "$gw" dev "$interface"; break; done
    : > /etc/resolv.conf
    [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
    for ns in $dns; do echo "nameserver $ns" >> /etc/resolv.conf; done
    ;;
esac
exit 0
