#!/bin/sh
# PID 1 of the e2e test's instance OS: on its first boot it reads the config drive as cloud-init
# does (the ISO 9660 file system labelled config-2): the hostname of meta_data.json, the user_data
# script (run when it starts with #!), the static IPv4 addresses of network_data.json (on the NIC
# whose MAC its link names), and reports each on the serial console for the test to read.
export PATH=/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /mnt/config
mount -t tmpfs tmpfs /run
say() { echo "anvil-os: $*" > /dev/console; }
say "kernel $(uname -r) up"
# The kernel sees EFI runtime services only when UEFI firmware started it (GRUB), not on BIOS (SYSLINUX).
[ -d /sys/firmware/efi ] && say "firmware uefi" || say "firmware bios"
for m in $(cat /etc/anvil-os/modules); do modprobe -q "$m"; done

drive=""
for i in $(seq 1 50); do
  drive=$(findfs LABEL=config-2 2>/dev/null) && break
  sleep 0.2
done
if [ -z "$drive" ] || ! mount -t iso9660 -o ro "$drive" /mnt/config; then
  say "no config drive found"
else
  say "config drive $drive"
  dir=/mnt/config/openstack/latest
  # The first value of a JSON string field, wherever it sits: enough for the drives Anvil writes.
  field() { grep -o "\"$1\": *\"[^\"]*\"" "$2" 2>/dev/null | head -n 1 | sed 's/.*: *"\(.*\)"/\1/'; }
  name=$(field hostname "$dir/meta_data.json")
  [ -n "$name" ] && hostname "$name"
  say "hostname $(hostname)"
  if [ -f "$dir/network_data.json" ]; then
    mac=$(field ethernet_mac_address "$dir/network_data.json" | tr 'A-F' 'a-f')
    addr=$(field ip_address "$dir/network_data.json")
    mask=$(field netmask "$dir/network_data.json")
    for dev in /sys/class/net/*; do
      [ "$(cat "$dev/address")" = "$mac" ] || continue
      nic=${dev##*/}
      eval "$(ipcalc -p "$addr" "$mask")"
      ip link set "$nic" up
      ip addr add "$addr/$PREFIX" dev "$nic"
      say "address $nic $(ip -4 -o addr show dev "$nic" | sed -n 's/.* inet \([^ ]*\).*/\1/p')"
    done
  fi
  if head -c 2 "$dir/user_data" 2>/dev/null | grep -q '^#!'; then
    cp "$dir/user_data" /run/user-data
    chmod 700 /run/user-data
    /run/user-data 2>&1 | while read -r line; do say "user-data: $line"; done
  fi
fi
say "first boot done"
# PID 1 must never exit (the kernel would panic); the test powers the machine off.
while :; do sleep 3600; done
