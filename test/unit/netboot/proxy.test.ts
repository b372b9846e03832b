import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MessageType, Opt, encodeSubOptions, optionIp, optionString, subOptions, u16, type DhcpPacket } from '../../../services/netboot/dhcp/codec.ts';
import { listLeases } from '../../../db/dhcp-leases.ts';
import { databaseLeases } from '../../../services/netboot/dhcp/leases.ts';
import type { Decision, PolicyView } from '../../../services/netboot/dhcp/policy.ts';
import { decideProxy } from '../../../services/netboot/dhcp/proxy.ts';
import { databaseTargets } from '../../../services/netboot/targets.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { enrollNode } from '../../integration/netboot/fixtures.ts';
import { netbootConfig } from './config-fixture.ts';
import { request } from './requests.ts';

const MAC = '52:54:00:aa:cc:01';
const PXE_BIOS: Array<[number, Buffer]> = [[Opt.VENDOR_CLASS, Buffer.from('PXEClient:Arch:00000:UNDI:002001')], [Opt.CLIENT_ARCH, u16(0)]];
const HTTP_UEFI: Array<[number, Buffer]> = [[Opt.VENDOR_CLASS, Buffer.from('HTTPClient:Arch:00016:UNDI:003001')], [Opt.CLIENT_ARCH, u16(16)]];
const IPXE_EFI: Array<[number, Buffer]> = [[Opt.VENDOR_CLASS, Buffer.from('PXEClient:Arch:00007:UNDI:003010')], [Opt.USER_CLASS, Buffer.from('iPXE')], [Opt.CLIENT_ARCH, u16(7)]];
const DHCP_PORT = { port: 'dhcp' } as const;

function replied(d: Decision): Extract<Decision, { reply: DhcpPacket }> {
  if ('ignored' in d) throw new Error(`expected a reply, got silence: ${d.ignored}`);
  return d;
}

/** A ProxyDHCP answer leaves addressing to the site's server: no address, lease or network settings. */
function expectNoAddressing(r: DhcpPacket): void {
  expect(r.yiaddr).toBe('0.0.0.0');
  for (const code of [Opt.LEASE_TIME, Opt.RENEWAL_TIME, Opt.REBINDING_TIME, Opt.SUBNET_MASK, Opt.ROUTER, Opt.DNS, Opt.BROADCAST, Opt.DOMAIN_NAME]) {
    expect(r.options.has(code), `option ${code}`).toBe(false);
  }
  // Not "no-pxedhcp": in proxy mode this server IS the ProxyDHCP server iPXE should wait for.
  expect(r.options.has(Opt.IPXE_ENCAP)).toBe(false);
}

describe.each(BACKENDS)('ProxyDHCP policy on %s', (backend) => {
  let tdb: TestDatabase;
  let view: PolicyView;

  beforeEach(async () => {
    tdb = await createTestDatabase(backend);
    const config = netbootConfig({ dhcp: { mode: 'proxy' } });
    view = { config, targets: databaseTargets(tdb.db.knex, config), leases: databaseLeases(tdb.db.knex), now: Date.now };
  });
  afterEach(async () => tdb.drop());

  it('offers a relayed PXE client its boot file without an address, for the relay to broadcast', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const agent = encodeSubOptions([[1, Buffer.from('swp3')]]);
    const uuid = Buffer.concat([Buffer.from([0]), Buffer.alloc(16, 0x5a)]);
    const d = replied(await decideProxy(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.2.1', options: [...PXE_BIOS, [Opt.RELAY_AGENT, agent], [Opt.UUID_GUID, uuid]] }), view, DHCP_PORT));
    expect(d.to).toEqual({ address: '10.1.2.1', port: 67 });
    expect(d.subnet).toBe('leaf2');
    const r = d.reply;
    expect(r.options.get(Opt.MESSAGE_TYPE)![0]).toBe(MessageType.OFFER);
    expectNoAddressing(r);
    expect(r.flags & 0x8000).toBe(0x8000);
    expect(r.siaddr).toBe('10.0.0.1');
    expect(optionIp(r, Opt.SERVER_ID)).toBe('10.0.0.1');
    expect(r.file).toBe('undionly.kpxe');
    expect(optionString(r, Opt.VENDOR_CLASS)).toBe('PXEClient');
    expect(subOptions(r.options.get(Opt.VENDOR_SPECIFIC)!).get(6)).toEqual(Buffer.from([8]));
    expect(r.options.get(Opt.UUID_GUID)).toEqual(uuid);
    expect(r.options.get(Opt.RELAY_AGENT)).toEqual(agent);
    // Nothing leased: the site's server owns the addresses.
    expect(await listLeases(tdb.db.knex)).toEqual([]);
  });

  it('gives a UEFI HTTP boot client its loader URL with HTTPClient, broadcast on the direct link', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'inspect wait' });
    const d = replied(await decideProxy(request({ mac: MAC, type: 'DISCOVER', options: HTTP_UEFI }), view, DHCP_PORT));
    expect(d.to).toEqual({ address: '255.255.255.255', port: 68 });
    expect(d.broadcast).toBe(true);
    expectNoAddressing(d.reply);
    expect(d.reply.file).toBe('http://10.0.0.1:8080/ipxe.efi');
    expect(optionString(d.reply, Opt.VENDOR_CLASS)).toBe('HTTPClient');
  });

  it('answers iPXE\'s REQUEST on the PXE port with an ACK to its own address, naming the node\'s script', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'clean wait' });
    const from = { address: '10.1.1.57', port: 68 };
    const offer = replied(await decideProxy(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.1.1', options: IPXE_EFI }), view, DHCP_PORT));
    expect(offer.reply.file).toBe(`http://10.0.0.1:8080/boot/${MAC}.ipxe`);
    expectNoAddressing(offer.reply);
    const ack = replied(await decideProxy(request({ mac: MAC, type: 'REQUEST', ciaddr: from.address, serverId: '10.0.0.1', options: IPXE_EFI }), view, { port: 'pxe', from }));
    expect(ack.reply.options.get(Opt.MESSAGE_TYPE)![0]).toBe(MessageType.ACK);
    expect(ack.to).toEqual(from);
    expect(ack.broadcast).toBe(false);
    expect(ack.reply.ciaddr).toBe(from.address);
    expect(ack.reply.file).toBe(`http://10.0.0.1:8080/boot/${MAC}.ipxe`);
    expectNoAddressing(ack.reply);
  });

  it('stays silent for unknown MACs, clients that do not network-boot, and what belongs to the site server', async () => {
    expect(await decideProxy(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.1.1', options: PXE_BIOS }), view, DHCP_PORT)).toEqual({ ignored: 'MAC is not being provisioned', mac: MAC });
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const plain = await decideProxy(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.1.1.1' }), view, DHCP_PORT);
    expect(plain).toEqual({ ignored: expect.stringContaining('not a PXE, UEFI HTTP boot or iPXE client'), mac: MAC });
    // The REQUEST for the site server's address, RELEASE and DECLINE are not this server's.
    for (const type of ['REQUEST', 'RELEASE', 'DECLINE'] as const) {
      const d = await decideProxy(request({ mac: MAC, type, giaddr: '10.1.1.1', requested: '10.1.1.60', serverId: '10.1.1.254', options: PXE_BIOS }), view, DHCP_PORT);
      expect(d).toEqual({ ignored: `proxy mode answers DISCOVER on the DHCP port, not ${type}`, mac: MAC });
    }
    const discoverOnPxe = await decideProxy(request({ mac: MAC, type: 'DISCOVER', options: PXE_BIOS }), view, { port: 'pxe', from: { address: '10.1.1.57', port: 68 } });
    expect(discoverOnPxe).toEqual({ ignored: 'proxy mode answers REQUEST on the PXE port, not DISCOVER', mac: MAC });
    // A relay of a leaf not in the configuration still gets the boot offer, from the top-level server address.
    const unlisted = replied(await decideProxy(request({ mac: MAC, type: 'DISCOVER', giaddr: '10.9.9.1', options: PXE_BIOS }), view, DHCP_PORT));
    expect(unlisted.subnet).toBe('relay 10.9.9.1');
    expect(unlisted.to).toEqual({ address: '10.9.9.1', port: 67 });
    expect(optionIp(unlisted.reply, Opt.SERVER_ID)).toBe('10.0.0.1');
  });
});

describe('netboot.dhcp.mode', () => {
  it('defaults to server with the PXE port 4011, and refuses an unknown mode', () => {
    expect(netbootConfig().dhcp).toMatchObject({ mode: 'server', pxePort: 4011 });
    expect(netbootConfig({ dhcp: { mode: 'proxy', pxePort: 14011 } }).dhcp).toMatchObject({ mode: 'proxy', pxePort: 14011 });
    expect(() => netbootConfig({ dhcp: { mode: 'relay' } })).toThrow('netboot.dhcp.mode must be one of server, proxy, got "relay"');
  });
});
