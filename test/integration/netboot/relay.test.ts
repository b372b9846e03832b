// Anvil's DHCP, TFTP and HTTP boot against real peers in network namespaces: ISC dhcrelay on a leaf
// router, dhclient and busybox udhcpc as clients, tftp-hpa and atftp as TFTP clients, curl for HTTP.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLeases } from '../../../db/dhcp-leases.ts';
import { enrollNode } from './fixtures.ts';
import { canUseNetns } from './netns.ts';
import { DIRECT_SERVER, HTTP_PORT, SERVER, buildTopology, clientScript, parseEnv, randomMac, type Topology } from './topology.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function waitForFile(file: string, ms: number): Promise<string> {
  const until = Date.now() + ms;
  while (!existsSync(file)) {
    if (Date.now() > until) throw new Error(`${file} did not appear within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return readFileSync(file, 'utf8');
}

describe('netboot in network namespaces (routed leaf through dhcrelay, and a direct link)', () => {
  let topo: Topology;
  const loader = randomBytes(300 * 1024 + 17);
  const efiLoader = randomBytes(150 * 1024);

  beforeAll(async () => {
    const problem = await canUseNetns();
    if (problem) throw new Error(problem);
    topo = await buildTopology();
    writeFileSync(path.join(topo.tftpRoot, 'undionly.kpxe'), loader);
    writeFileSync(path.join(topo.tftpRoot, 'ipxe.efi'), efiLoader);
    // ISC's relay between the leaf subnet (l1, down) and the provisioning network (l0, up), adding option 82.
    topo.ns.spawn('leaf', ['dhcrelay', '-4', '-d', '-a', '--no-pid', '-id', 'l1', '-iu', 'l0', SERVER]);
    await new Promise((r) => setTimeout(r, 500));
  }, 60000);

  afterAll(async () => {
    await topo?.stop();
  }, 20000);

  it('leases a relayed client an address of the leaf pool with next-server and boot file, then serves TFTP and its iPXE script', async () => {
    const mac = randomMac();
    const node = await enrollNode(topo.db, { mac, state: 'deploying', driver_info: { kernel_append_params: 'console=ttyS0' } });
    await topo.ns.run('node', ['ip', 'link', 'set', 'n0', 'address', mac]);
    const { script, result } = clientScript(topo.dir, 'dhclient');
    const conf = path.join(topo.dir, 'dhclient.conf');
    writeFileSync(conf, 'timeout 15;\nretry 1;\ninitial-interval 1;\nrequest subnet-mask, broadcast-address, routers, domain-name-servers;\n');
    topo.ns.spawn('node', ['dhclient', '-4', '-d', '-1', '-cf', conf, '-sf', script, '-lf', path.join(topo.dir, 'dhclient.leases'), '-pf', path.join(topo.dir, 'dhclient.pid'), 'n0']);
    const env = parseEnv(await waitForFile(result, 15000));
    expect(env.new_ip_address).toMatch(/^172\.30\.1\.(1[0-4]\d|150)$/);
    expect(env.new_routers).toBe('172.30.1.1');
    expect(env.new_domain_name_servers).toBe('172.30.1.1');
    expect(env.new_filename).toBe('undionly.kpxe');
    expect(env.new_next_server).toBe(SERVER);
    expect(env.new_dhcp_server_identifier).toBe(SERVER);

    const leases = await listLeases(topo.db.knex);
    expect(leases).toContainEqual(expect.objectContaining({ mac, ip: env.new_ip_address, subnet: 'leaf1', state: 'bound' }));
    // The relay's option 82 (circuit id = its downstream interface) reached the server.
    const acked = new RegExp(`"mac":"${mac}","subnet":"leaf1","type":"ACK","yiaddr":"${env.new_ip_address.replace(/\./g, '\\.')}","to":"172\\.30\\.1\\.1","circuitId":"l1"`);
    for (let i = 0; i < 100 && !acked.test(topo.log()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(topo.log()).toMatch(acked);

    // tftp-hpa (512-byte blocks) fetches the boot file across the router.
    const out = path.join(topo.dir, 'fetched.kpxe');
    await topo.ns.run('node', ['tftp', '-m', 'binary', env.new_next_server, '-c', 'get', env.new_filename, out]);
    expect(sha(readFileSync(out))).toBe(sha(loader));

    // The iPXE script iPXE would chain to.
    const ipxe = await topo.ns.run('node', ['curl', '-sf', `http://${SERVER}:${HTTP_PORT}/boot/${mac}.ipxe`]);
    expect(ipxe).toMatch(/^#!ipxe/);
    expect(ipxe).toContain(`kernel http://${SERVER}:${HTTP_PORT}/deploy.kernel initrd=ramdisk ipa-api-url=http://172.30.0.1:6385 ipa-node-uuid=${node.uuid} BOOTIF=${mac} console=ttyS0`);
    expect(ipxe).toContain(`initrd --name ramdisk http://${SERVER}:${HTTP_PORT}/deploy.initramfs`);
  }, 30000);

  it('leases a directly attached UEFI PXE client by broadcast and serves ipxe.efi to atftp with a negotiated blksize', async () => {
    const mac = randomMac();
    await enrollNode(topo.db, { mac, state: 'clean wait' });
    await topo.ns.run('dnode', ['ip', 'link', 'set', 'd0', 'address', mac]);
    const { script, result } = clientScript(topo.dir, 'udhcpc');
    await topo.ns.run('dnode', ['busybox', 'udhcpc', '-f', '-q', '-n', '-t', '4', '-T', '1', '-i', 'd0', '-s', script,
      '-V', 'PXEClient:Arch:00007:UNDI:003016', '-x', '0x5d:0007'], { timeout: 15000 });
    const env = parseEnv(readFileSync(result, 'utf8'));
    expect(env.ip).toMatch(/^172\.30\.2\.(5\d|60)$/);
    expect(env.siaddr).toBe(DIRECT_SERVER);
    expect(env.boot_file).toBe('ipxe.efi');
    expect(env.serverid).toBe(DIRECT_SERVER);
    expect(env.router).toBe(DIRECT_SERVER);

    const out = path.join(topo.dir, 'fetched.efi');
    await topo.ns.run('dnode', ['atftp', '--get', '-r', env.boot_file, '-l', out, '--option', 'blksize 1428', '--option', 'tsize 0', env.siaddr]);
    expect(sha(readFileSync(out))).toBe(sha(efiLoader));
    const leases = await listLeases(topo.db.knex);
    expect(leases).toContainEqual(expect.objectContaining({ mac, ip: env.ip, subnet: 'prov', state: 'bound' }));
    const ipxe = await topo.ns.run('dnode', ['curl', '-sf', `http://${SERVER}:${HTTP_PORT}/boot/${mac}.ipxe`]);
    expect(ipxe).toContain(`BOOTIF=${mac}`);
  }, 30000);

  it('answers neither an unknown MAC nor the MAC of an active node', async () => {
    const active = randomMac();
    await enrollNode(topo.db, { mac: active, state: 'active' });
    const unknown = randomMac();
    for (const [role, ifname, mac] of [['node', 'n0', active], ['dnode', 'd0', unknown]] as const) {
      await topo.ns.run(role, ['ip', 'link', 'set', ifname, 'address', mac]);
      const { script, result } = clientScript(topo.dir, `silent-${mac.replace(/:/g, '')}`);
      await expect(topo.ns.run(role, ['busybox', 'udhcpc', '-f', '-q', '-n', '-t', '2', '-T', '1', '-i', ifname, '-s', script], { timeout: 15000 })).rejects.toThrow();
      expect(existsSync(result)).toBe(false);
      // The server heard the request and chose silence (its log may lag behind on a busy machine).
      const silence = new RegExp(`"mac":"${mac}"[^\\n]*MAC is not being provisioned`);
      for (let i = 0; i < 100 && !silence.test(topo.log()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(topo.log()).toMatch(silence);
    }
    const leases = await listLeases(topo.db.knex);
    expect(leases.map((l) => l.mac)).not.toContain(active);
    expect(leases.map((l) => l.mac)).not.toContain(unknown);
  }, 30000);
});
