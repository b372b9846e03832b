#!/bin/sh
# PID 1 of Anvil's deploy ramdisk: mounts the kernel filesystems, loads the drivers the hardware asks
# for, configures the network from the node's network_data.json on its boot CD (DHCP-less, when the
# command line has anvil.static_network) or by DHCP on the boot NIC (BOOTIF, else the first NIC that answers;
# DHCPv6 and router advertisements when the API URL is an IPv6 literal), starts the LLDP captures
# of an inspection before that, and runs the
# deploy agent, restarting it if it dies (PID 1 must never exit: the kernel would panic). After a
# rescue is finalized it offers a login for the rescue user on the serial console instead.
export PATH=/usr/sbin:/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run /tmp /var/tmp /var/log
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
say() { echo "anvil-ramdisk: [$(cut -d' ' -f1 /proc/uptime)] $*" > /dev/console; }
say "kernel $(uname -r) up, loading drivers"

# Drivers for every device present (its modalias); a driver can bring new devices (virtio_pci the
# virtio devices, a disk controller its disks), so look again for aliases not seen yet.
echo - > /run/aliases.seen  # busybox grep -f matches everything with an empty file
for pass in 1 2 3 4 5; do
  new=$(cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u | grep -vxF -f /run/aliases.seen)
  [ -z "$new" ] && break
  echo "$new" | xargs modprobe -a -q 2>/dev/null
  echo "$new" >> /run/aliases.seen
  [ $pass = 1 ] && xargs modprobe -a -q < /etc/anvil/modules-always
done
loaded=$(wc -l < /proc/modules)
say "$loaded modules loaded"

cmdline=" $(cat /proc/cmdline) "
arg() { for word in $cmdline; do case "$word" in "$1="*) echo "${word#*=}" ;; esac; done; }

if [ -z "${cmdline##* anvil.selftest *}" ]; then
  say "selftest: $(node -e 'process.stdout.write(`node ${process.version} ok`)' 2>&1)"
  say "selftest: $(qemu-img --version | head -n1)"
  say "selftest: cpus $(nproc) memory $(sed -n 's/MemTotal: *//p' /proc/meminfo) disks $(ls /sys/block | grep -v -e '^loop' -e '^ram' | tr '\n' ' ')"
  say "selftest: nics $(ls /sys/class/net | tr '\n' ' ')"
  say "selftest done, powering off"
  poweroff -f
fi

ip link set lo up
# BOOTIF is 01-aa-bb-cc-dd-ee-ff (pxelinux style) or a plain MAC (iPXE's ${mac}).
bootif=$(arg BOOTIF | sed -e 's/^01-//' -e 's/-/:/g' | tr 'A-F' 'a-f')
nics=""
for dev in /sys/class/net/*; do
  name=${dev##*/}
  [ "$name" = lo ] && continue
  [ -e "$dev/device" ] || continue
  if [ -n "$bootif" ] && [ "$(cat "$dev/address")" = "$bootif" ]; then nics="$name $nics"; else nics="$nics $name"; fi
done
# LLDP for the inspection (ipa-collect-lldp): a capture on every NIC from now on, so that listening for
# a neighbour's frame runs while the network comes up and the agent starts; the agent reads and stops
# them (deploy-agent/lldp-capture.ts, EARLY_CAPTURE_DIR). NIC.link is touched when the NIC's carrier
# first reads up (within 12 s): its time tells the agent how long the link has been up.
case "$(arg ipa-collect-lldp | tr 'A-Z' 'a-z')" in
  1|true|yes|on)
    mkdir -p /run/lldp
    for nic in $nics; do
      ip link set "$nic" up
      tcpdump -i "$nic" -U -w "/run/lldp/$nic.pcap" -Z root ether proto 0x88cc 2> "/run/lldp/$nic.log" &
      echo $! > "/run/lldp/$nic.pid"
      ( for wait in $(seq 1 60); do
          read -r up < "/sys/class/net/$nic/carrier" 2>/dev/null && [ "$up" = 1 ] && touch "/run/lldp/$nic.link" && break
          sleep 0.2
        done ) &
    done ;;
esac

# DHCP-less: the node's own boot ISO carries its network_data.json (drivers/in-band/boot-iso.ts).
configured=""
if [ -z "${cmdline##* anvil.static_network *}" ]; then
  mkdir -p /run/media
  for try in 1 2 3 4 5 6 7 8 9 10; do
    for cd in /dev/sr*; do
      [ -b "$cd" ] && mount -t iso9660 -o ro "$cd" /run/media 2>/dev/null || continue
      cp /run/media/openstack/latest/network_data.json /run/network_data.json 2>/dev/null
      umount /run/media
    done
    [ -f /run/network_data.json ] && break
    sleep 1
  done
  if [ ! -f /run/network_data.json ]; then say "no network_data.json on any CD ($(ls /dev/sr* 2>/dev/null)): trying DHCP"
  elif node /anvil-static-network.mjs /run/network_data.json > /dev/console 2>&1; then configured=1
  else say "the static network of network_data.json failed: trying DHCP"
  fi
fi
# The provisioning network's family is the API's: a bracketed IPv6 literal in ipa-api-url means an
# IPv6 network, configured from its router advertisements (SLAAC by the kernel) and DHCPv6 (dhcp6.sh,
# left running to renew); the first NIC with a global address wins. Anything else: DHCP over IPv4.
case "$(arg ipa-api-url)" in *://\[*) ipv6=1 ;; esac
while [ -n "$ipv6" ] && [ -z "$configured" ]; do
  for nic in $nics; do
    ip link set "$nic" up
    say "IPv6 (router advertisements, DHCPv6) on $nic ($(cat /sys/class/net/$nic/address))"
    /etc/anvil/dhcp6.sh "$nic" stateful > "/run/dhcp6.$nic.log" 2>&1 &
    for wait in $(seq 1 25); do
      address=$(ip -6 -o addr show dev "$nic" scope global | awk '{print $4}' | head -n1)
      [ -n "$address" ] && break
      sleep 1
    done
    if [ -n "$address" ]; then
      say "$nic has $address"
      configured=1
      break 2
    fi
    say "no IPv6 address on $nic; dhclient -6 said: $(tail -n 3 "/run/dhcp6.$nic.log" | tr '\n' ' ')"
  done
  say "no IPv6 address on any NIC ($nics), trying again"
  sleep 5
done
while [ -z "$configured" ]; do
  for nic in $nics; do
    ip link set "$nic" up
    say "DHCP on $nic ($(cat /sys/class/net/$nic/address))"
    if udhcpc -i "$nic" -s /etc/anvil/udhcpc.sh -n -q -t 6 -T 2 >/dev/null 2>&1; then
      say "$nic has $(ip -4 -o addr show dev "$nic" | awk '{print $4}')"
      break 2
    fi
  done
  say "no DHCP answer on any NIC ($nics), trying again"
  sleep 5
done

# The kernel sends from no address still in duplicate address detection (tentative, about a second
# after it is added, static or leased): an agent started before then finds only its link-local
# address towards the API and would be called back there. /proc/net/if_inet6: scope 00 is global,
# flags with 0x40 tentative.
for wait in $(seq 1 20); do
  awk '$4 == "00" && $5 ~ /^[4567cdef].$/ { found = 1 } END { exit !found }' /proc/net/if_inet6 2>/dev/null || break
  sleep 0.25
done

# The serial console: the last console= of the kernel command line (ttyS0 when none).
tty=ttyS0
for c in $(arg console); do tty=${c%%,*}; done

while :; do
  say "starting the agent"
  node /anvil-agent.cjs
  status=$?
  # Rescue finalized (the agent set the rescue user's password): a login on the serial console from now on.
  if [ -e /run/anvil/rescue ]; then
    say "rescue mode: log in as rescue on $tty"
    while :; do getty -L 115200 "$tty" vt100; sleep 1; done
  fi
  say "agent exited with status $status, restarting in 5 s"
  sleep 5
done
