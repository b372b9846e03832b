import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MessageType, Opt, RELAY_LINK_SELECTION, clientMac, encodeSubOptions, ips, optionIp, optionString, subOptions, u16, type DhcpPacket } from '../../../services/netboot/dhcp/codec.ts';
import { listLeases } from '../../../db/dhcp-leases.ts';
import { databaseLeases } from '../../../services/netboot/dhcp/leases.ts';
import { decide, type Decision, type PolicyView } from '../../../services/netboot/dhcp/policy.ts';
import { databaseTargets } from '../../../services/netboot/targets.ts';
import { setBootRecords } from '../../../db/boot-records.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { enrollNode } from '../../integration/netboot/fixtures.ts';
import { netbootConfig } from './config-fixture.ts';
import { request } from './requests.ts';

const MAC = '52:54:00:aa:bb:01';
const AGENT = encodeSubOptions([[1, Buffer.from('swp7')], [2, Buffer.from('leaf1-tor')]]);

function replied(d: Decision): Extract<Decision, { reply: DhcpPacket }> {
  if ('ignored' in d) throw new Error(`expected a reply, got silence: ${d.ignored}`);
  return d;
}

describe.each(BACKENDS)('DHCP policy with leases on %s', (backend) => {
  let tdb: TestDatabase;
  let view: PolicyView;
  let clock = 1_000_000;

  function makeView(netboot: Record<string, unknown> = {}): PolicyView {
    const config = netbootConfig(netboot);
    return { config, targets: databaseTargets(tdb.db.knex, config), leases: databaseLeases(tdb.db.knex), now: () => clock };
  }

  beforeEach(async () => {
    tdb = await createTestDatabase(backend);
    clock = Date.now();
    view = makeView();
  });
  afterEach(async () => tdb.drop());

  it('offers a relayed client an address of the pool of its relay, answered to the relay with option 82 echoed', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const d = replied(await decide(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.2.1', options: [[Opt.RELAY_AGENT, AGENT]] }), view));
    expect(d.to).toEqual({ address: '10.1.2.1', port: 67 });
    expect(d.broadcast).toBe(false);
    expect(d.subnet).toBe('leaf2');
    const r = d.reply;
    expect(r.options.get(Opt.MESSAGE_TYPE)![0]).toBe(MessageType.OFFER);
    expect(r.yiaddr).toBe('10.1.2.10');
    expect(r.giaddr).toBe('10.1.2.1');
    expect(r.siaddr).toBe('10.0.0.1');
    expect(r.file).toBe('undionly.kpxe');
    expect(clientMac(r)).toBe(MAC);
    expect(optionIp(r, Opt.SERVER_ID)).toBe('10.0.0.1');
    expect(optionIp(r, Opt.ROUTER)).toBe('10.1.2.1');
    expect(optionIp(r, Opt.SUBNET_MASK)).toBe('255.255.255.0');
    expect(r.options.get(Opt.LEASE_TIME)!.readUInt32BE(0)).toBe(3600);
    expect(r.options.get(Opt.RELAY_AGENT)).toEqual(AGENT);
  });

  it('picks the pool from RFC 3527 link selection over giaddr', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'cleaning' });
    const agent = encodeSubOptions([[RELAY_LINK_SELECTION, ips(['10.1.1.0'])]]);
    const d = replied(await decide(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.2.1', options: [[Opt.RELAY_AGENT, agent]] }), view));
    expect(d.subnet).toBe('leaf1');
    expect(d.reply.yiaddr).toBe('10.1.1.10');
    expect(d.to.address).toBe('10.1.2.1');
  });

  it('broadcasts to a direct client and chooses the loader by architecture', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'inspect wait' });
    const files: Array<[number | undefined, string]> = [[undefined, 'undionly.kpxe'], [0, 'undionly.kpxe'], [7, 'ipxe.efi'], [9, 'ipxe.efi'], [11, 'ipxe-arm64.efi']];
    for (const [arch, file] of files) {
      const options: Array<[number, Buffer]> = [[Opt.VENDOR_CLASS, Buffer.from('PXEClient:Arch:00000:UNDI:002001')]];
      if (arch !== undefined) options.push([Opt.CLIENT_ARCH, u16(arch)]);
      const d = replied(await decide(request({ mac: MAC, type: 'DISCOVER', options }), view));
      expect(d.to).toEqual({ address: '255.255.255.255', port: 68 });
      expect(d.broadcast).toBe(true);
      expect(d.subnet).toBe('prov');
      expect(d.reply.file).toBe(file);
      expect(optionString(d.reply, Opt.VENDOR_CLASS)).toBe('PXEClient');
      expect(subOptions(d.reply.options.get(Opt.VENDOR_SPECIFIC)!).get(6)).toEqual(Buffer.from([8]));
      expect(d.reply.options.has(Opt.IPXE_ENCAP)).toBe(false);
    }
  });

  it('chains iPXE to the node script by HTTP and tells it to skip the ProxyDHCP wait (175.176 = 1)', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'wait call-back' });
    const d = replied(await decide(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.1.1', options: [[Opt.USER_CLASS, Buffer.from('iPXE')], [Opt.CLIENT_ARCH, u16(7)]] }), view));
    expect(d.reply.file).toBe(`http://10.0.0.1:8080/boot/${MAC}.ipxe`);
    expect(subOptions(d.reply.options.get(Opt.IPXE_ENCAP)!).get(176)).toEqual(Buffer.from([1]));
  });

  it('serves exactly the boot record: its boot file to the firmware, nothing once it expired or was withdrawn', async () => {
    const node = await enrollNode(tdb.db, { mac: MAC, state: 'deploying', booting: null });
    const ramdisk = { kind: 'ramdisk', mac: MAC, portId: null, purpose: 'deploy', kernel: null, initrd: null, kernelArgs: '', ipxeScript: null } as const;
    const discover = (options: Array<[number, Buffer]> = []) => decide(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.1.1', options }), view);
    expect(await discover()).toEqual({ ignored: 'MAC is not being provisioned', mac: MAC });
    await setBootRecords(tdb.db.knex, node, [{ ...ramdisk, bootFile: 'shimx64.efi', expiresAt: null }]);
    expect(replied(await discover([[Opt.CLIENT_ARCH, u16(7)]])).reply.file).toBe('shimx64.efi');
    // iPXE, once running, still gets the node's script.
    expect(replied(await discover([[Opt.USER_CLASS, Buffer.from('iPXE')]])).reply.file).toBe(`http://10.0.0.1:8080/boot/${MAC}.ipxe`);
    await setBootRecords(tdb.db.knex, node, [{ ...ramdisk, bootFile: null, expiresAt: Date.now() - 1 }]);
    expect(await discover()).toEqual({ ignored: 'MAC is not being provisioned', mac: MAC });
    await setBootRecords(tdb.db.knex, node, [{ ...ramdisk, bootFile: null, expiresAt: Date.now() + 60_000 }]);
    expect(replied(await discover()).reply.file).toBe('undionly.kpxe');
    await setBootRecords(tdb.db.knex, node, []);
    expect(await discover()).toEqual({ ignored: 'MAC is not being provisioned', mac: MAC });
  });

  it('gives UEFI HTTP boot clients a URL and the HTTPClient vendor class', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const d = replied(await decide(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.1.1', options: [[Opt.VENDOR_CLASS, Buffer.from('HTTPClient:Arch:00016:UNDI:003001')], [Opt.CLIENT_ARCH, u16(16)]] }), view));
    expect(d.reply.file).toBe('http://10.0.0.1:8080/ipxe.efi');
    expect(optionString(d.reply, Opt.VENDOR_CLASS)).toBe('HTTPClient');
  });

  it('ACKs a REQUEST for the offered address, keeps it across a restart, and NAKs another client asking for it', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const offer = replied(await decide(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.1.1' }), view));
    const ack = replied(await decide(request({ mac: MAC, type: 'REQUEST', giaddr: '10.1.1.1', requested: offer.reply.yiaddr, serverId: '10.0.0.1', options: [[Opt.RELAY_AGENT, AGENT], [Opt.HOSTNAME, Buffer.from('node-a')]] }), view));
    expect(ack.reply.options.get(Opt.MESSAGE_TYPE)![0]).toBe(MessageType.ACK);
    expect(ack.reply.yiaddr).toBe(offer.reply.yiaddr);
    expect(ack.reply.options.get(Opt.LEASE_TIME)!.readUInt32BE(0)).toBe(1200);
    expect(ack.reply.options.get(Opt.RELAY_AGENT)).toEqual(AGENT);
    expect(await listLeases(tdb.db.knex)).toEqual([expect.objectContaining({ ip: offer.reply.yiaddr, mac: MAC, state: 'bound', subnet: 'leaf1', hostname: 'node-a' })]);

    // A new server process on the same database: the client keeps its address.
    const restarted = makeView();
    const again = replied(await decide(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.1.1' }), restarted));
    expect(again.reply.yiaddr).toBe(offer.reply.yiaddr);

    const other = '52:54:00:aa:bb:02';
    await enrollNode(tdb.db, { mac: other, state: 'deploying' });
    const nak = replied(await decide(request({ mac: other, type: 'REQUEST', giaddr: '10.1.1.1', requested: offer.reply.yiaddr }), restarted));
    expect(nak.reply.options.get(Opt.MESSAGE_TYPE)![0]).toBe(MessageType.NAK);
    expect(nak.reply.yiaddr).toBe('0.0.0.0');
    expect(nak.reply.flags & 0x8000).toBe(0x8000);
    expect(optionString(nak.reply, Opt.MESSAGE)).toContain('not available');
    const wrongNet = replied(await decide(request({ mac: other, type: 'REQUEST', giaddr: '10.1.1.1', requested: '10.1.2.15' }), restarted));
    expect(optionString(wrongNet.reply, Opt.MESSAGE)).toContain('not on subnet 10.1.1.0/24');
  });

  it('renews by unicast to ciaddr, stays silent when the client chose another server, and answers INFORM without a lease', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const offer = replied(await decide(request({ mac: MAC, type: 'DISCOVER' }), view));
    replied(await decide(request({ mac: MAC, type: 'REQUEST', requested: offer.reply.yiaddr, serverId: '10.0.0.1' }), view));
    const renew = replied(await decide(request({ mac: MAC, type: 'REQUEST', ciaddr: offer.reply.yiaddr }), view));
    expect(renew.to).toEqual({ address: offer.reply.yiaddr, port: 68 });
    expect(renew.reply.ciaddr).toBe(offer.reply.yiaddr);
    expect(await decide(request({ mac: MAC, type: 'REQUEST', requested: offer.reply.yiaddr, serverId: '10.0.0.9' }), view)).toEqual({ ignored: 'client chose server 10.0.0.9', mac: MAC });
    const inform = replied(await decide(request({ mac: MAC, type: 'INFORM', ciaddr: offer.reply.yiaddr }), view));
    expect(inform.reply.yiaddr).toBe('0.0.0.0');
    expect(inform.reply.options.has(Opt.LEASE_TIME)).toBe(false);
    expect(inform.to.address).toBe(offer.reply.yiaddr);
  });

  it('frees a released address and withholds a declined one', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const first = replied(await decide(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.1.1' }), view));
    replied(await decide(request({ mac: MAC, type: 'REQUEST', giaddr: '10.1.1.1', requested: first.reply.yiaddr }), view));
    await decide(request({ mac: MAC, type: 'DECLINE', giaddr: '10.1.1.1', requested: first.reply.yiaddr }), view);
    const second = replied(await decide(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.1.1' }), view));
    expect(second.reply.yiaddr).not.toBe(first.reply.yiaddr);
    replied(await decide(request({ mac: MAC, type: 'REQUEST', giaddr: '10.1.1.1', requested: second.reply.yiaddr }), view));
    await decide(request({ mac: MAC, type: 'RELEASE', giaddr: '10.1.1.1', ciaddr: second.reply.yiaddr }), view);
    const lease = (await listLeases(tdb.db.knex)).find((l) => l.ip === second.reply.yiaddr)!;
    expect(lease.expires_at).toBeLessThanOrEqual(Date.now());
  });

  it('stays silent when the pool is exhausted', async () => {
    const macs = ['52:54:00:00:01:01', '52:54:00:00:01:02', '52:54:00:00:01:03', '52:54:00:00:01:04'];
    for (const mac of macs) await enrollNode(tdb.db, { mac, state: 'deploying' });
    const got = [];
    for (const mac of macs) got.push(await decide(request({ mac, type: 'DISCOVER', giaddr: '10.1.1.1' }), view));
    expect(got.slice(0, 3).map((d) => replied(d).reply.yiaddr)).toEqual(['10.1.1.10', '10.1.1.11', '10.1.1.12']);
    expect(got[3]).toEqual({ ignored: 'no free address left in subnet leaf1', mac: macs[3] });
  });

  it('answers only MACs being provisioned, static hosts, and unknown MACs when discovery is on', async () => {
    await enrollNode(tdb.db, { mac: '52:54:00:00:02:01', state: 'active' });
    await enrollNode(tdb.db, { mac: '52:54:00:00:02:02', state: 'available' });
    // Deploying, but through virtual media: its boot interface wrote no boot record.
    await enrollNode(tdb.db, { mac: '52:54:00:00:02:03', state: 'deploying', booting: null });
    for (const mac of ['52:54:00:00:02:01', '52:54:00:00:02:02', '52:54:00:00:02:03', '52:54:00:00:02:04']) {
      expect(await decide(request({ mac, type: 'DISCOVER', giaddr: '10.1.1.1' }), view)).toEqual({ ignored: 'MAC is not being provisioned', mac });
    }
    expect(await decide(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.9.9.1' }), view)).toEqual({ ignored: 'no subnet configured for relay 10.9.9.1', mac: MAC });

    const withHosts = makeView({ hosts: [{ mac: '52:54:00:00:02:04', purpose: 'deploy' }], dhcp: { discovery: false } });
    expect(replied(await decide(request({ mac: '52:54:00:00:02:04', type: 'DISCOVER', giaddr: '10.1.1.1' }), withHosts)).subnet).toBe('leaf1');
    const discovery = makeView({ dhcp: { discovery: true } });
    expect(replied(await decide(request({ mac: '52:54:00:00:02:05', type: 'DISCOVER', giaddr: '10.1.1.1' }), discovery)).subnet).toBe('leaf1');
    // A MAC already on a node is never discovered, whatever its node's state.
    for (const mac of ['52:54:00:00:02:01', '52:54:00:00:02:02', '52:54:00:00:02:03']) {
      expect(await decide(request({ mac, type: 'DISCOVER', giaddr: '10.1.1.1' }), discovery)).toEqual({ ignored: 'MAC is not being provisioned', mac });
    }
    expect(await discovery.targets.lookup('52:54:00:00:02:05')).toMatchObject({ purpose: 'inspect', cmdline: expect.stringContaining('ipa-collect-lldp=1') });
  });
});
