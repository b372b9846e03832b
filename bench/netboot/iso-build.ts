// Boot ISO build time (images/boot-iso.ts): the real deploy kernel and initramfs (ramdisk/build.ts,
// cached) with an agent command line and a network_data.json, built N times into a fresh folder
// (the content cache is bypassed, so each run is a whole build: GRUB ESP, isolinux, xorriso).
// Run: npx tsx bench/netboot/iso-build.ts [runs=5]
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildBootIso } from '../../images/boot-iso.ts';
import { buildRamdisk } from '../../ramdisk/build.ts';

const runs = Number(process.argv[2] ?? 5);
const ramdisk = await buildRamdisk();
const dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-bench-iso-'));
try {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const dest = path.join(dir, `node-${i}.iso`);
    const started = process.hrtime.bigint();
    await buildBootIso({
      kernel: ramdisk.kernel, initramfs: ramdisk.initramfs,
      cmdline: `ipa-api-url=http://192.0.2.1:6385 ipa-node-uuid=00000000-0000-4000-8000-00000000000${i} BOOTIF=52:54:00:00:00:0${i} anvil.static_network console=ttyS0`,
      files: { 'openstack/latest/network_data.json': JSON.stringify({ links: [{ id: 'p', type: 'phy', ethernet_mac_address: `52:54:00:00:00:0${i}` }], networks: [] }) },
    }, dest);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    bytes = (await stat(dest)).size;
    await rm(dest);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({
    runs, kernelBytes: ramdisk.kernelBytes, initramfsBytes: ramdisk.initramfsBytes, isoBytes: bytes,
    msMin: Math.round(times[0]!), msMedian: Math.round(times[Math.floor(times.length / 2)]!), msMax: Math.round(times.at(-1)!),
    loadAverage: os.loadavg()[0]!.toFixed(1),
  }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
