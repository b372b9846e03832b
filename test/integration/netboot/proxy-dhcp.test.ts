// ProxyDHCP beside the site's DHCP server, in network namespaces: Debian's dnsmasq leases the leaf's
// addresses (and knows nothing of booting), Anvil runs `netboot.dhcp.mode: proxy`, and the leaf's ISC
// dhcrelay forwards every request to both. dhclient gets its address from dnsmasq; a scripted PXE
// client hears both offers (dnsmasq's address, Anvil's boot file without one) and asks Anvil's PXE
// port 4011 again from its address, as iPXE does; an unknown MAC hears only dnsmasq.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLeases } from '../../../db/dhcp-leases.ts';
import { Opt } from '../../../services/netboot/dhcp/codec.ts';
import { enrollNode } from './fixtures.ts';
import { canUseNetns } from './netns.ts';
import { startSiteDhcp, type SiteDhcp } from './site-dhcp.ts';
import { HTTP_PORT, SERVER, buildTopology, clientScript, parseEnv, randomMac, type Topology } from './topology.ts';

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dhcp-probe.ts');
const PXE_BIOS = 'PXEClient:Arch:00000:UNDI:002001';

interface Heard { phase: string; from: string; type: string; yiaddr: string; siaddr: string; file: string; serverId: string; vendorClass: string | null; router: string | null }

async function waitFor(what: string, ms: number, ready: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > until) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('ProxyDHCP beside dnsmasq, through a relay that forwards to both', () => {
  let topo: Topology;
  let site: SiteDhcp;

  const probe = async (mac: string, vendorClass: string, pxeRequest?: { ciaddr: string }): Promise<Heard[]> => {
    const args = {
      mac, listenMs: 2500,
      options: [[Opt.VENDOR_CLASS, Buffer.from(vendorClass).toString('hex')], [Opt.CLIENT_ARCH, vendorClass.includes('00016') ? '0010' : '0000']],
      ...(pxeRequest ? { pxeRequest: { server: SERVER, port: 4011, ciaddr: pxeRequest.ciaddr } } : {}),
    };
    return JSON.parse(await topo.ns.run('node', [process.execPath, '--import', 'tsx', PROBE, JSON.stringify(args)], { timeout: 20_000 })) as Heard[];
  };

  beforeAll(async () => {
    const problem = await canUseNetns();
    if (problem) throw new Error(problem);
    topo = await buildTopology({ dhcp: { mode: 'proxy' } });
    site = await startSiteDhcp(topo.ns, { leaf: 'leaf', net: '172.30.4', dir: topo.dir, subnets: [{ cidr: '172.30.1.0/24', start: '172.30.1.160', end: '172.30.1.170', router: '172.30.1.1' }] });
    // What a real leaf needs in proxy mode: its relay names both servers.
    topo.ns.spawn('leaf', ['dhcrelay', '-4', '-d', '-a', '--no-pid', '-id', 'l1', '-iu', 'l0', '-iu', 'l9', SERVER, site.address]);
    await new Promise((r) => setTimeout(r, 500));
  }, 90_000);

  afterAll(async () => {
    await topo?.stop();
  }, 20_000);

  it('a PXE client gets its address from dnsmasq and its boot file from Anvil, on port 67 and again on 4011', async () => {
    const mac = randomMac();
    await enrollNode(topo.db, { mac, state: 'deploying' });
    await topo.ns.run('node', ['ip', 'link', 'set', 'n0', 'address', mac]);
    // dhclient as the PXE ROM's address phase: it needs a netmask, which only the site server's offer has.
    const { script, result } = clientScript(topo.dir, 'proxy-dhclient');
    const conf = path.join(topo.dir, 'proxy-dhclient.conf');
    writeFileSync(conf, `timeout 15;\nretry 1;\ninitial-interval 1;\nsend vendor-class-identifier "${PXE_BIOS}";\nrequire subnet-mask;\nrequest subnet-mask, routers;\n`);
    const dhclient = topo.ns.spawn('node', ['dhclient', '-4', '-d', '-1', '-cf', conf, '-sf', script, '-lf', path.join(topo.dir, 'proxy-dhclient.leases'), '-pf', path.join(topo.dir, 'proxy-dhclient.pid'), 'n0']);
    await waitFor('dhclient lease', 20_000, () => existsSync(result));
    dhclient.kill('SIGTERM');
    await dhclient;
    const env = parseEnv(readFileSync(result, 'utf8'));
    expect(env.new_ip_address).toMatch(/^172\.30\.1\.1(6\d|70)$/);
    expect(env.new_dhcp_server_identifier).toBe(site.address);
    expect(env.new_routers).toBe('172.30.1.1');
    expect(site.log()).toContain(`DHCPACK(s0) ${env.new_ip_address} ${mac}`);
    // Anvil leased nothing and never ACKed the site server's address.
    expect(await listLeases(topo.db.knex)).toEqual([]);

    const heard = await probe(mac, PXE_BIOS, { ciaddr: env.new_ip_address });
    const siteOffer = heard.find((h) => h.serverId === site.address);
    expect(siteOffer, JSON.stringify(heard)).toMatchObject({ phase: 'discover', type: 'OFFER', yiaddr: env.new_ip_address, file: '', vendorClass: null, router: '172.30.1.1' });
    const proxyOffers = heard.filter((h) => h.serverId === SERVER);
    expect(proxyOffers, JSON.stringify(heard)).toEqual([
      expect.objectContaining({ phase: 'discover', type: 'OFFER', from: '172.30.1.1:67', yiaddr: '0.0.0.0', siaddr: SERVER, file: 'undionly.kpxe', vendorClass: 'PXEClient', router: null }),
      expect.objectContaining({ phase: 'pxe', type: 'ACK', from: `${SERVER}:4011`, yiaddr: '0.0.0.0', siaddr: SERVER, file: 'undionly.kpxe', vendorClass: 'PXEClient' }),
    ]);
  }, 60_000);

  it('a UEFI HTTP boot client gets the loader URL from Anvil beside the site server\'s address', async () => {
    const mac = randomMac();
    await enrollNode(topo.db, { mac, state: 'inspect wait' });
    const heard = await probe(mac, 'HTTPClient:Arch:00016:UNDI:003001');
    expect(heard.find((h) => h.serverId === site.address), JSON.stringify(heard)).toMatchObject({ type: 'OFFER', yiaddr: expect.stringMatching(/^172\.30\.1\./) });
    expect(heard.filter((h) => h.serverId === SERVER), JSON.stringify(heard)).toEqual([
      expect.objectContaining({ type: 'OFFER', yiaddr: '0.0.0.0', file: `http://${SERVER}:${HTTP_PORT}/ipxe.efi`, vendorClass: 'HTTPClient' }),
    ]);
  }, 30_000);

  it('an unknown MAC hears only the site server', async () => {
    const mac = randomMac();
    const heard = await probe(mac, PXE_BIOS);
    expect(heard.filter((h) => h.serverId === site.address), JSON.stringify(heard)).toHaveLength(1);
    expect(heard.filter((h) => h.serverId === SERVER), JSON.stringify(heard)).toEqual([]);
    await waitFor('Anvil logging its silence', 5_000, () => topo.log().includes(`"mac":"${mac}","type":"DISCOVER","reason":"MAC is not being provisioned"`));
  }, 30_000);
});
