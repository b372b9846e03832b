#!/usr/bin/env bash
# Installs what Anvil's tests need on a fresh Debian 12 machine: Debian's tools (the real peers the
# tests talk to), the npm packages from the lock file, and a PostgreSQL (scripts/setup-postgres.sh).
# Safe to run again.
# With --no-postgres it installs what `npm start` needs and leaves PostgreSQL and RabbitMQ alone (the main job
# runs on SQLite, without notifications).
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
declare -A NEED=(
  [ipmitool]=ipmitool [ipmi_sim]=openipmi [baremetal]=python3-ironicclient [socat]=socat
  [dhcrelay]=isc-dhcp-relay [dhclient]=isc-dhcp-client [tftp]=tftp-hpa [atftp]=atftp
  [qemu-img]=qemu-utils [xorriso]=xorriso [genisoimage]=genisoimage [isoinfo]=genisoimage
  [qemu-system-x86_64]=qemu-system-x86 [ip]=iproute2 [busybox]=busybox-static [tcpdump]=tcpdump
  [sfdisk]=fdisk [mkfs.ext4]=e2fsprogs [debugfs]=e2fsprogs [file]=file [radvd]=radvd [dnsmasq]=dnsmasq-base [curl]=curl
  [lldpd]=lldpd [zstd]=zstd [strip]=binutils [htpasswd]=apache2-utils [chromium]=chromium [openssl]=openssl [keystone-manage]=python3-keystone [sysctl]=procps
  [ovs-vsctl]=openvswitch-switch [ovs-vswitchd]=openvswitch-switch [ovsdb-server]=openvswitch-switch [sshd]=openssh-server [ssh-keygen]=openssh-client
  [prometheus]=prometheus [promtool]=prometheus [syslinux]=syslinux [tgtd]=tgt [tgtadm]=tgt
  [grub-mkstandalone]=grub-common [jq]=jq [mcopy]=mtools [mmd]=mtools [mkfs.vfat]=dosfstools
  [tempest]=python3-tempest [stestr]=python3-stestr [subunit2csv]=subunit
)
missing=()
for cmd in "${!NEED[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}"); done
/usr/bin/python3 -c 'import ironic_tempest_plugin' 2>/dev/null || missing+=(ironic-tempest-plugin)
/usr/bin/python3 -c 'import sushy' 2>/dev/null || missing+=(python3-sushy)
/usr/bin/python3 -c 'import pyghmi' 2>/dev/null || missing+=(python3-pyghmi)
/usr/bin/python3 -c "import gi; gi.require_version('GoVirt', '1.0')" 2>/dev/null || missing+=(python3-gi gir1.2-govirt-1.0)
[ -e /usr/lib/syslinux/mbr/mbr.bin ] || missing+=(syslinux-common)
[ -e /usr/share/qemu/pxe-virtio.rom ] || [ -e /usr/lib/ipxe/qemu/pxe-virtio.rom ] || missing+=(ipxe-qemu)
# Boot ISOs (images/boot-iso.ts) and UEFI machines (simulators/qemu): loaders and firmware are files, not commands.
[ -e /usr/lib/grub/x86_64-efi/linux.mod ] || missing+=(grub-efi-amd64-bin)
# The e2e CoreOS image's BIOS GRUB (test/helpers/coreos-image.ts).
[ -e /usr/lib/grub/i386-pc/boot.img ] || missing+=(grub-pc-bin)
[ -e /usr/lib/ISOLINUX/isolinux.bin ] || missing+=(isolinux)
[ -e /usr/lib/syslinux/modules/bios/ldlinux.c32 ] || missing+=(syslinux-common)
[ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || missing+=(ovmf)
# iPXE's EFI loaders (snponly.efi), which the UEFI HTTP boot e2e test serves over HTTP.
[ -e /usr/lib/ipxe/snponly.efi ] || missing+=(ipxe)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Native modules (better-sqlite3) build against the headers that came with Node, when its prebuilt
# binary cannot be downloaded, instead of fetching the headers from nodejs.org.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[ -n "${npm_config_nodedir:-}" ] || [ ! -f "$node_prefix/include/node/node.h" ] || export npm_config_nodedir=$node_prefix

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
# The production entry, dist/anvil.mjs (scripts/bundle.ts; npm ci's prepare builds it too): rebuilt
# when a source is newer, so it never runs older code than the tree holds.
if [ ! -f dist/anvil.mjs ] || [ -n "$(find bin common db drivers images services simulators deploy-agent -name '*.ts' -newer dist/anvil.mjs -print -quit)" ]; then
  echo "setup: building dist/anvil.mjs"
  node --import tsx scripts/bundle.ts >/dev/null
fi

# The web console (console/) is bundled here, at install time, so nothing is fetched when it is served;
# again whenever a source is newer than the bundle.
if [ ! -f console/dist/index.html ] || [ -n "$(find console/src console/index.html console/vite.config.ts package-lock.json -newer console/dist/index.html 2>/dev/null | head -1)" ]; then
  echo "setup: building the web console"
  npm run --silent build:console
fi

[ "${1:-}" = "--no-postgres" ] || bash scripts/setup-postgres.sh
[ "${1:-}" = "--no-postgres" ] || bash scripts/setup-rabbitmq.sh
