// Deploys through simulated agents, in one process: the API and a conductor on SQLite, N
// fake-power nodes whose machines boot the real agent code (simulators/ramdisk-agents) with files as
// disks. Every node deploys the same qcow2 with a config drive, then is undeployed (cleaned).
// Prints seconds per phase, nodes/second, how many times the image was downloaded (the agents'
// shared cache), and peak RSS. Figures only; nothing passes or fails.
//
//   npx tsx bench/agent-deploy.ts [N=20]
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { defaultConfig } from '../common/config.ts';
import { silentLogger } from '../common/logger.ts';
import { openDatabase } from '../db/index.ts';
import { stopImageServer } from '../drivers/in-band/image-source.ts';
import { startImageServer } from '../images/server.ts';
import { createApiServer } from '../services/api/server.ts';
import { Conductor } from '../services/conductor/conductor.ts';
import { FakePowerRack } from '../simulators/ramdisk-agents/fake-power-rack.ts';

const N = Number(process.argv[2] ?? 20);
const MIB = 1024 * 1024;
const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-bench-agent-'));

async function main(): Promise<void> {
  // A 64 MiB image with an MBR and 8 MiB of random data, as qcow2.
  const raw = path.join(dir, 'disk.raw');
  await execa('truncate', ['-s', '64M', raw]);
  await execa('sfdisk', ['-q', raw], { input: 'label: dos\nstart=2048, size=40960, type=83\n' });
  writeFileSync(path.join(dir, 'data'), randomBytes(8 * MIB));
  await execa('dd', [`if=${path.join(dir, 'data')}`, `of=${raw}`, 'bs=1M', 'seek=1', 'conv=notrunc', 'status=none']);
  const qcow2 = path.join(dir, 'disk.qcow2');
  await execa('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  const sha256 = createHash('sha256').update(await import('node:fs/promises').then((m) => m.readFile(qcow2))).digest('hex');
  const images = await startImageServer({ root: dir });
  let downloads = 0;
  images.server.on('request', (req) => { if (req.url === '/disk.qcow2') downloads++; });

  const config = defaultConfig(dir);
  config.database.url = `sqlite:${path.join(dir, 'anvil.sqlite')}`;
  Object.assign(config.conductor, { hostname: 'bench', pollInterval: 0.2, heartbeatInterval: 1, timeoutCheckInterval: 1, powerSyncInterval: 0 });
  Object.assign(config.agent, { powerOffWait: 0.5, powerOffPollInterval: 0.1 });
  const db = await openDatabase(config.database.url);
  const api = await createApiServer({ db, config, logger: silentLogger });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  const conductor = new Conductor({ db, config, logger: silentLogger });
  await conductor.start();
  const rack = new FakePowerRack({ apiUrl, diskDir: path.join(dir, 'disks'), logger: silentLogger, heartbeatIntervalMs: 1000, lookupRetryMs: 200 });

  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${apiUrl}${p}`, { method, headers: { 'x-openstack-ironic-api-version': '1.89', 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : {};
  };
  const states = async () => (await call('GET', '/v1/nodes?fields=uuid,provision_state,last_error&limit=1000')).nodes as { uuid: string; provision_state: string; last_error: string | null }[];
  const until = async (state: string) => {
    for (;;) {
      const all = await states();
      const failed = all.filter((n) => n.provision_state.includes('failed'));
      if (failed.length) throw new Error(`${failed.length} nodes failed, e.g. ${failed[0].last_error}`);
      if (all.every((n) => n.provision_state === state)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const timed = async (what: string, fn: () => Promise<void>) => {
    const t0 = performance.now();
    await fn();
    const s = (performance.now() - t0) / 1000;
    process.stdout.write(`${what.padEnd(36)} ${s.toFixed(1).padStart(7)} s  ${(N / s).toFixed(2).padStart(7)} nodes/s\n`);
  };

  process.stdout.write(`agent deploy bench: ${N} nodes, 64 MiB qcow2 (${(await import('node:fs')).statSync(qcow2).size} bytes), 128 MiB disks, ${os.cpus().length} CPUs\n`);
  const uuids: string[] = [];
  await timed('enroll + manage + provide (no clean)', async () => {
    for (let i = 0; i < N; i++) {
      const machine = rack.addMachine(`bench-${i}`, 128 * MIB);
      const node = await call('POST', '/v1/nodes', { name: `bench-${i}`, driver: 'fake-hardware', deploy_interface: 'direct', automated_clean: false });
      for (const nic of machine.hardware.nics) await call('POST', '/v1/ports', { node_uuid: node.uuid, address: nic.mac });
      uuids.push(node.uuid);
    }
    for (const u of uuids) await call('PUT', `/v1/nodes/${u}/states/provision`, { target: 'manage' });
    await until('manageable');
    for (const u of uuids) await call('PUT', `/v1/nodes/${u}/states/provision`, { target: 'provide' });
    await until('available');
  });
  await timed('deploy (qcow2 + config drive) → active', async () => {
    for (const u of uuids) {
      await call('PATCH', `/v1/nodes/${u}`, [
        { op: 'add', path: '/instance_info/image_source', value: `${images.url}/disk.qcow2` },
        { op: 'add', path: '/instance_info/image_os_hash_algo', value: 'sha256' },
        { op: 'add', path: '/instance_info/image_os_hash_value', value: sha256 },
      ]);
      await call('PUT', `/v1/nodes/${u}/states/provision`, { target: 'active', configdrive: { meta_data: { hostname: u }, user_data: '#cloud-config\n' } });
    }
    await until('active');
  });
  await timed('undeploy + clean (erase metadata)', async () => {
    await Promise.all(uuids.map((u) => db.knex('nodes').where({ uuid: u }).update({ automated_clean: true })));
    for (const u of uuids) await call('PUT', `/v1/nodes/${u}/states/provision`, { target: 'deleted' });
    await until('available');
  });
  process.stdout.write(`image downloads from the image server: ${downloads} (shared agent cache)\n`);
  process.stdout.write(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`);

  await rack.close();
  await conductor.stop();
  await api.close();
  await images.close();
  await stopImageServer();
  await db.close();
}

main().then(
  () => rmSync(dir, { recursive: true, force: true }),
  (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  },
);
