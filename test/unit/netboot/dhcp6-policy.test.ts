import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Msg, Opt6, Status, decodeMessage, encodeMessage, first, iaAddresses, iaNas, isRelay, statusOf, vendorClasses,
  type ClientMessage, type Dhcp6Message, type RelayMessage,
} from '../../../services/netboot/dhcp6/codec.ts';
import { databaseLeases6, listLeases6 } from '../../../services/netboot/dhcp6/leases.ts';
import { decide6, type Decision6, type Peer, type Policy6View } from '../../../services/netboot/dhcp6/policy.ts';
import { databaseTargets } from '../../../services/netboot/targets.ts';
import { setBootRecords } from '../../../db/boot-records.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { enrollNode } from '../../integration/netboot/fixtures.ts';
import { netbootConfig } from './config-fixture.ts';
import { client6, relayed } from './requests6.ts';

const MAC = '52:54:00:aa:bb:01';
const SERVER_DUID = Buffer.from('0004' + '5a'.repeat(16), 'hex');
const RELAY: Peer = { address: '2001:db8:ff::2', port: 547 };
const LINK = '2001:db8:1::1';
const PEER = 'fe80::5054:ff:feaa:bb01';

const V6 = {
  serverAddress6: '2001:db8::1',
  subnets6: [
    { name: 'prov6', prefix: '2001:db8::/64', interface: 'eth0', range: { start: '2001:db8::100', end: '2001:db8::1ff' }, dns: ['2001:db8::53'] },
    { name: 'leaf6', prefix: '2001:db8:1::/64', range: { start: '2001:db8:1::1000', end: '2001:db8:1::1fff' }, dns: ['2001:db8:1::1'], preferredLifetime: 600, validLifetime: 900 },
    { name: 'tiny6', prefix: '2001:db8:2::/64', range: { start: '2001:db8:2::10', end: '2001:db8:2::10' }, serverAddress: '2001:db8:2::1' },
  ],
};

function replied(d: Decision6): Extract<Decision6, { reply: Dhcp6Message }> {
  if ('ignored' in d) throw new Error(`expected a reply, got silence: ${d.ignored}`);
  // What goes on the wire decodes to what the policy built.
  expect(decodeMessage(encodeMessage(d.reply))).toEqual(d.reply);
  return d;
}

function inner(m: Dhcp6Message): ClientMessage {
  return isRelay(m) ? inner(m.message) : m;
}

const bootUrl = (m: ClientMessage): string | undefined => first(m.options, Opt6.BOOTFILE_URL)?.toString();
const leasedAddress = (m: ClientMessage): string | undefined => iaAddresses(iaNas(m.options)[0]?.options ?? [])[0]?.address;

describe.each(BACKENDS)('DHCPv6 policy with leases on %s', (backend) => {
  let tdb: TestDatabase;
  let view: Policy6View;
  let clock = 0;

  beforeEach(async () => {
    tdb = await createTestDatabase(backend);
    clock = Date.now();
    const config = netbootConfig(V6);
    view = { config, targets: databaseTargets(tdb.db.knex, config), leases: databaseLeases6(tdb.db.knex), serverDuid: SERVER_DUID, now: () => clock };
  });
  afterEach(async () => tdb.drop());

  const viaRelay = (m: ClientMessage, link = LINK): RelayMessage => relayed(m, { linkAddress: link, peerAddress: PEER, interfaceId: 'swp7' });

  it('advertises a relayed iPXE client an address of its leaf and its script URL, answered in a RELAY-REPL with INTERFACE-ID', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const d = replied(await decide6(viaRelay(client6({ type: 'SOLICIT', mac: MAC, ipxe: true })), RELAY, view));
    expect(d.to).toEqual(RELAY);
    expect(d.subnet).toBe('leaf6');
    expect(d.type).toBe('ADVERTISE');
    const repl = d.reply as RelayMessage;
    expect(repl.type).toBe(Msg.RELAY_REPL);
    expect(repl.linkAddress).toBe(LINK);
    expect(repl.peerAddress).toBe(PEER);
    expect(first(repl.options, Opt6.INTERFACE_ID)!.toString()).toBe('swp7');
    const adv = inner(repl);
    expect(adv.type).toBe(Msg.ADVERTISE);
    expect(adv.transactionId).toBe(0xabcdef);
    expect(first(adv.options, Opt6.SERVERID)).toEqual(SERVER_DUID);
    expect(first(adv.options, Opt6.PREFERENCE)).toEqual(Buffer.from([255]));
    const [ia] = iaNas(adv.options);
    expect(ia).toMatchObject({ iaid: 7, t1: 300, t2: 480 });
    expect(iaAddresses(ia.options)[0]).toMatchObject({ preferred: 600, valid: 900 });
    expect(leasedAddress(adv)).toMatch(/^2001:db8:1::1[0-9a-f]{3}$/);
    expect(bootUrl(adv)).toBe(`http://[2001:db8::1]:8080/boot/${MAC}.ipxe`);
    expect(first(adv.options, Opt6.DNS_SERVERS)!.length).toBe(16);
  });

  it('binds the advertised address on REQUEST, renews and rebinds it, confirms it, and frees it on RELEASE', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'cleaning' });
    const adv = inner(replied(await decide6(viaRelay(client6({ type: 'SOLICIT', mac: MAC })), RELAY, view)).reply);
    const address = leasedAddress(adv)!;
    expect((await listLeases6(tdb.db.knex)).map((l) => [l.ip, l.state])).toEqual([[address, 'offered']]);

    const reply = inner(replied(await decide6(viaRelay(client6({ type: 'REQUEST', mac: MAC, serverId: SERVER_DUID, addresses: [address] })), RELAY, view)).reply);
    expect(reply.type).toBe(Msg.REPLY);
    expect(leasedAddress(reply)).toBe(address);
    const [lease] = await listLeases6(tdb.db.knex);
    expect(lease).toMatchObject({ ip: address, mac: MAC, subnet: 'leaf6', state: 'bound', duid: '00030001525400aabb01' });
    expect(lease.expires_at).toBe(clock + 900_000);

    clock += 400_000;
    for (const type of ['RENEW', 'REBIND'] as const) {
      const r = inner(replied(await decide6(viaRelay(client6({ type, mac: MAC, serverId: type === 'RENEW' ? SERVER_DUID : undefined, addresses: [address] })), RELAY, view)).reply);
      expect(leasedAddress(r)).toBe(address);
      expect((await listLeases6(tdb.db.knex))[0].expires_at).toBe(clock + 900_000);
    }
    const onLink = inner(replied(await decide6(viaRelay(client6({ type: 'CONFIRM', mac: MAC, addresses: [address] })), RELAY, view)).reply);
    expect(statusOf(onLink.options)?.code).toBe(Status.SUCCESS);
    const moved = inner(replied(await decide6(viaRelay(client6({ type: 'CONFIRM', mac: MAC, addresses: ['2001:db8:9::5'] })), RELAY, view)).reply);
    expect(statusOf(moved.options)?.code).toBe(Status.NOT_ON_LINK);

    const released = inner(replied(await decide6(viaRelay(client6({ type: 'RELEASE', mac: MAC, serverId: SERVER_DUID, addresses: [address] })), RELAY, view)).reply);
    expect(statusOf(released.options)?.code).toBe(Status.SUCCESS);
    expect((await listLeases6(tdb.db.knex))[0].expires_at).toBeLessThanOrEqual(Date.now());
  });

  it('gives an address the client renews on another link back with lifetimes 0, and a new one of this link', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const r = inner(replied(await decide6(viaRelay(client6({ type: 'RENEW', mac: MAC, serverId: SERVER_DUID, addresses: ['2001:db8:9::5'] })), RELAY, view)).reply);
    const addrs = iaAddresses(iaNas(r.options)[0].options);
    expect(addrs[0].address).toMatch(/^2001:db8:1::/);
    expect(addrs[1]).toMatchObject({ address: '2001:db8:9::5', preferred: 0, valid: 0 });
  });

  it('commits at once with Rapid Commit', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const d = replied(await decide6(viaRelay(client6({ type: 'SOLICIT', mac: MAC, options: [[Opt6.RAPID_COMMIT, Buffer.alloc(0)]] })), RELAY, view));
    const r = inner(d.reply);
    expect(d.type).toBe('REPLY');
    expect(first(r.options, Opt6.RAPID_COMMIT)).toEqual(Buffer.alloc(0));
    expect((await listLeases6(tdb.db.knex))[0]).toMatchObject({ ip: leasedAddress(r), state: 'bound' });
  });

  it('names the loader by architecture as a tftp:// or http:// URL on the server address of the link, and nothing to BIOS', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'inspect wait' });
    const cases: Array<[Parameters<typeof client6>[0], string | undefined]> = [
      [{ type: 'SOLICIT', mac: MAC, arch: 7 }, 'tftp://[2001:db8:2::1]/ipxe.efi'],
      [{ type: 'SOLICIT', mac: MAC, arch: 11 }, 'tftp://[2001:db8:2::1]/ipxe-arm64.efi'],
      [{ type: 'SOLICIT', mac: MAC }, 'tftp://[2001:db8:2::1]/ipxe.efi'],
      [{ type: 'SOLICIT', mac: MAC, arch: 16, vendorClass: 'HTTPClient:Arch:00016:UNDI:003001' }, 'http://[2001:db8:2::1]:8080/ipxe.efi'],
      [{ type: 'SOLICIT', mac: MAC, arch: 0 }, undefined],
      [{ type: 'SOLICIT', mac: MAC, arch: 0, ipxe: true }, `http://[2001:db8:2::1]:8080/boot/${MAC}.ipxe`],
    ];
    for (const [req, url] of cases) {
      const adv = inner(replied(await decide6(viaRelay(client6(req), '2001:db8:2::1'), RELAY, view)).reply);
      expect(bootUrl(adv)).toBe(url);
      expect(vendorClasses(adv.options)).toEqual(req.vendorClass ? ['HTTPClient'] : []);
    }
  });

  it('serves the boot record\'s own file with the command line as boot file parameters', async () => {
    const node = await enrollNode(tdb.db, { mac: MAC, state: 'deploying', booting: null });
    await setBootRecords(tdb.db.knex, node, [{ kind: 'ramdisk', mac: MAC, portId: null, expiresAt: null, purpose: 'deploy', kernel: null, initrd: null, kernelArgs: 'console=ttyS0', ipxeScript: null, bootFile: 'http://boot.example/vmlinuz.efi' }]);
    const adv = inner(replied(await decide6(viaRelay(client6({ type: 'SOLICIT', mac: MAC, arch: 16 })), RELAY, view)).reply);
    expect(bootUrl(adv)).toBe('http://boot.example/vmlinuz.efi');
    const params = first(adv.options, Opt6.BOOTFILE_PARAM)!;
    expect(params.subarray(2, 2 + params.readUInt16BE(0)).toString()).toBe('ipa-api-url=http://10.0.0.1:6385');
    expect(params.toString()).toContain('console=ttyS0');
  });

  it('answers a client on a direct link at its link-local address, knowing it by its EUI-64 address when its DUID is a UUID (iPXE)', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const from = { address: `${PEER}%eth0`, port: 546 };
    const d = replied(await decide6(client6({ type: 'SOLICIT', duid: Buffer.from('0004' + '77'.repeat(16), 'hex'), ipxe: true }), from, view));
    expect(d).toMatchObject({ to: from, subnet: 'prov6', mac: MAC, relayed: false });
    expect(leasedAddress(inner(d.reply))).toMatch(/^2001:db8::1[0-9a-f]{2}$/);
    const info = inner(replied(await decide6(client6({ type: 'INFORMATION_REQUEST', duid: Buffer.from('0004' + '77'.repeat(16), 'hex'), ipxe: true }), from, view)).reply);
    expect(iaNas(info.options)).toEqual([]);
    expect(bootUrl(info)).toBe(`http://[2001:db8::1]:8080/boot/${MAC}.ipxe`);
  });

  it('takes the MAC of RFC 6939 option 79 over the DUID', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const m = relayed(client6({ type: 'SOLICIT', mac: '52:54:00:00:00:99' }), { linkAddress: LINK, peerAddress: 'fe80::1', options: [[Opt6.CLIENT_LINKLAYER_ADDR, Buffer.from('0001525400aabb01', 'hex')]] });
    expect(replied(await decide6(m, RELAY, view)).mac).toBe(MAC);
  });

  it('hands out the last address of a full pool to nobody else, and says so', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    await enrollNode(tdb.db, { mac: '52:54:00:aa:bb:02', state: 'deploying' });
    const first1 = inner(replied(await decide6(viaRelay(client6({ type: 'SOLICIT', mac: MAC }), '2001:db8:2::1'), RELAY, view)).reply);
    expect(leasedAddress(first1)).toBe('2001:db8:2::10');
    const second = inner(replied(await decide6(viaRelay(client6({ type: 'SOLICIT', mac: '52:54:00:aa:bb:02' }), '2001:db8:2::1'), RELAY, view)).reply);
    expect(statusOf(iaNas(second.options)[0].options)).toEqual({ code: Status.NO_ADDRS_AVAIL, message: 'no free address left in tiny6' });
  });

  it('stays silent for unknown MACs, active nodes, other servers, unknown links and malformed exchanges', async () => {
    await enrollNode(tdb.db, { mac: MAC, state: 'active' });
    await enrollNode(tdb.db, { mac: '52:54:00:aa:bb:02', state: 'deploying' });
    const known = '52:54:00:aa:bb:02';
    const silent: Array<[Dhcp6Message, Peer, RegExp]> = [
      [viaRelay(client6({ type: 'SOLICIT', mac: MAC })), RELAY, /not being provisioned/],
      [viaRelay(client6({ type: 'SOLICIT', mac: '52:54:00:ff:ff:ff' })), RELAY, /not being provisioned/],
      [viaRelay(client6({ type: 'REQUEST', mac: known, serverId: Buffer.from('000300010000000000aa', 'hex') })), RELAY, /chose server/],
      [viaRelay(client6({ type: 'REQUEST', mac: known })), RELAY, /names no server/],
      [viaRelay(client6({ type: 'SOLICIT', mac: known, serverId: SERVER_DUID })), RELAY, /must not name a server/],
      [viaRelay(client6({ type: 'SOLICIT' })), RELAY, /without a Client Identifier/],
      [viaRelay(client6({ type: 'SOLICIT', mac: known }), '2001:db8:7::1'), RELAY, /no subnets6 prefix holds the relay's link-address 2001:db8:7::1/],
      [client6({ type: 'SOLICIT', mac: known }), { address: `${PEER}%eth9`, port: 546 }, /no subnets6 entry is on interface eth9/],
      [viaRelay(client6({ type: 'ADVERTISE', mac: known })), RELAY, /ADVERTISE is not a client message/],
      [{ ...viaRelay(client6({ type: 'SOLICIT', mac: known })), type: Msg.RELAY_REPL }, RELAY, /RELAY-REPL is for relays/],
      [viaRelay(client6({ type: 'SOLICIT', duid: Buffer.from('0004' + '77'.repeat(16), 'hex') })), RELAY, /cannot tell the client's MAC/],
    ];
    // The EUI-64 peer address of viaRelay belongs to MAC: give the DUID-UUID case a peer without one.
    (silent.at(-1)![0] as RelayMessage).peerAddress = 'fe80::1';
    for (const [m, from, reason] of silent) {
      const d = await decide6(m, from, view);
      expect('ignored' in d && d.ignored).toMatch(reason);
    }
    expect(await listLeases6(tdb.db.knex)).toEqual([]);
  });
});
