#!/bin/sh
# PID 1 of the e2e test's CoreOS image: its first boot does, for a few Ignition v3 fields, what
# Ignition does with the config coreos-installer (Anvil's install_coreos) left at ignition/config.ign
# on the file system labelled boot: storage.files (data: URLs, plain or base64, and mode),
# passwd.users (name, sshAuthorizedKeys) and systemd.units (an enabled unit's ExecStart is run), and
# reports each on the serial console ("anvil-coreos: ..." lines) for the test to read.
export PATH=/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /boot /etc
mount -t tmpfs tmpfs /run
say() { echo "anvil-coreos: $*" > /dev/console; }
say "kernel $(uname -r) up"
for m in $(cat /etc/anvil-os/modules); do modprobe -q "$m"; done
echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd

dev=""
for i in $(seq 1 50); do
  dev=$(findfs LABEL=boot 2>/dev/null) && break
  sleep 0.2
done
cfg=/boot/ignition/config.ign
if [ -z "$dev" ] || ! mount -t ext4 -o ro "$dev" /boot; then
  say "no file system labelled boot"
elif [ ! -f "$cfg" ]; then
  say "no Ignition config on $dev"
else
  say "Ignition config on $dev, version $(jq -r .ignition.version "$cfg")"
  # storage.files: the contents of a data: URL (RFC 2397), with the file's mode (decimal in Ignition).
  jq -c '.storage.files // [] | .[]' "$cfg" | while read -r f; do
    path=$(echo "$f" | jq -r .path)
    src=$(echo "$f" | jq -r '.contents.source // "data:,"')
    mkdir -p "$(dirname "$path")"
    case "$src" in
      data:*\;base64,*) echo "${src#*,}" | base64 -d > "$path" ;;
      data:*) httpd -d "${src#*,}" > "$path" ;;
      *) say "file $path: source not supported here: $src"; continue ;;
    esac
    chmod "$(printf '%o' "$(echo "$f" | jq '.mode // 420')")" "$path"
    say "file $path mode $(stat -c %a "$path"), $(wc -c < "$path") bytes"
  done
  [ -f /etc/hostname ] && hostname "$(cat /etc/hostname)"
  say "hostname $(hostname)"
  # passwd.users: an account with a home and its authorized SSH keys.
  uid=1000
  jq -c '.passwd.users // [] | .[]' "$cfg" | while read -r u; do
    name=$(echo "$u" | jq -r .name)
    echo "$name:x:$uid:$uid::/home/$name:/bin/sh" >> /etc/passwd
    mkdir -p "/home/$name/.ssh"
    echo "$u" | jq -r '.sshAuthorizedKeys // [] | .[]' > "/home/$name/.ssh/authorized_keys"
    chmod 600 "/home/$name/.ssh/authorized_keys"
    chown -R "$uid:$uid" "/home/$name"
    say "user $name uid $(id -u "$name"), $(wc -l < "/home/$name/.ssh/authorized_keys") SSH key(s)"
    uid=$((uid + 1))
  done
  # systemd.units: each enabled unit written out and its ExecStart run, as systemd would at boot.
  mkdir -p /etc/systemd/system
  jq -c '.systemd.units // [] | .[] | select(.enabled == true)' "$cfg" | while read -r unit; do
    name=$(echo "$unit" | jq -r .name)
    echo "$unit" | jq -r '.contents // ""' > "/etc/systemd/system/$name"
    exec_start=$(sed -n 's/^ExecStart=//p' "/etc/systemd/system/$name" | head -n 1)
    say "unit $name started: $exec_start"
    sh -c "$exec_start" 2>&1 | while read -r line; do say "unit $name: $line"; done
  done
fi
say "ignition done"
# PID 1 must never exit (the kernel would panic); the test powers the machine off.
while :; do sleep 3600; done
