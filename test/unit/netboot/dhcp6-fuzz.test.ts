// Property-based and hostile-input tests of DHCPv6: random messages of every type, nested in up to
// four relays, round-trip through the codec; their truncations and bit flips either decode or are
// refused with a Dhcp6DecodeError, and what decodes the policy answers or ignores; a flood of them at
// the running server is counted and dropped while a relayed client keeps being served. fast-check
// with fixed seeds, so every run is the same.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import {
  Dhcp6DecodeError, Msg, Opt6, decodeMessage, duidLl, encodeMessage, iaAddrOption, iaNaOption, isRelay, lengthPrefixed, statusOption, u16,
  vendorClassOption, type Dhcp6Message, type Option6,
} from '../../../services/netboot/dhcp6/codec.ts';
import { databaseLeases6 } from '../../../services/netboot/dhcp6/leases.ts';
import { decide6, type Policy6View } from '../../../services/netboot/dhcp6/policy.ts';
import { startNetboot, type Netboot } from '../../../services/netboot/index.ts';
import { text6 } from '../../../services/netboot/net6.ts';
import { databaseTargets } from '../../../services/netboot/targets.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { enrollNode } from '../../integration/netboot/fixtures.ts';
import { anvilConfig } from './config-fixture.ts';
import { client6, relayed } from './requests6.ts';

const MAC = '52:54:00:fe:00:06';
const LEAF6 = { name: 'leaf6', prefix: '2001:db8:1::/64', range: { start: '2001:db8:1::100', end: '2001:db8:1::1ff' }, dns: [], ntp: [], preferredLifetime: 600, validLifetime: 900 };
const LINK = '2001:db8:1::1';
const SERVER_DUID = Buffer.from('0004' + '00'.repeat(16), 'hex');

const bytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const address = fc.oneof(
  fc.constantFrom('::', LINK, '2001:db8:1::1234', 'fe80::5054:ff:fefe:6', 'fe80::1', '2001:db8:9::9'),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => text6(Buffer.from(a))),
);
const mac = fc.oneof(fc.constant(MAC), fc.uint8Array({ minLength: 6, maxLength: 6 }).map((a) => [...a].map((b) => b.toString(16).padStart(2, '0')).join(':')));
const duid = fc.oneof(
  mac.map(duidLl),
  fc.tuple(fc.nat(), mac).map(([t, m]) => Buffer.concat([u16(1), u16(1), Buffer.from([t >>> 24, t >>> 16, t >>> 8, t].map((x) => x & 255)), Buffer.from(m.replace(/:/g, ''), 'hex')])),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.concat([u16(4), Buffer.from(a)])),
  fc.tuple(fc.nat(), bytes(20)).map(([en, id]) => Buffer.concat([u16(2), Buffer.from([en >>> 24, en >>> 16, en >>> 8, en].map((x) => x & 255)), id, Buffer.from([1])])),
);
const text = fc.string({ maxLength: 24 });

/** One option of a client message, in its valid wire shape (or an opaque unknown code). */
const clientOption: fc.Arbitrary<Option6> = fc.oneof(
  duid.map((d): Option6 => [Opt6.CLIENTID, d]),
  duid.map((d): Option6 => [Opt6.SERVERID, d]),
  fc.tuple(fc.nat(), fc.array(address, { maxLength: 2 }), fc.boolean()).map(([iaid, addrs, withStatus]) =>
    iaNaOption(iaid, 0, 0, [...addrs.map((a) => iaAddrOption(a, 100, 200)), ...(withStatus ? [statusOption(0, 'ok')] : [])])),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 6 }).map((codes): Option6 => [Opt6.ORO, Buffer.concat(codes.map(u16))]),
  fc.integer({ min: 0, max: 0xffff }).map((n): Option6 => [Opt6.ELAPSED_TIME, u16(n)]),
  fc.constant<Option6>([Opt6.RAPID_COMMIT, Buffer.alloc(0)]),
  fc.array(fc.oneof(fc.constant('iPXE'), text), { maxLength: 3 }).map((items): Option6 => [Opt6.USER_CLASS, lengthPrefixed(items)]),
  fc.tuple(fc.nat(), fc.array(fc.oneof(fc.constantFrom('HTTPClient:Arch:00016:UNDI:003001', 'PXEClient:Arch:00007:UNDI:003016'), text), { maxLength: 2 }))
    .map(([en, items]) => vendorClassOption(en, items)),
  fc.array(fc.oneof(fc.constantFrom(0, 7, 9, 11, 16, 19), fc.integer({ min: 0, max: 0xffff })), { minLength: 1, maxLength: 3 })
    .map((archs): Option6 => [Opt6.CLIENT_ARCH_TYPE, Buffer.concat(archs.map(u16))]),
  fc.tuple(fc.integer({ min: 100, max: 4000 }), bytes(40)).map(([code, d]): Option6 => [code, d]),
);
const relayOption: fc.Arbitrary<Option6> = fc.oneof(
  text.map((t): Option6 => [Opt6.INTERFACE_ID, Buffer.from(t || 'swp1')]),
  mac.map((m): Option6 => [Opt6.CLIENT_LINKLAYER_ADDR, Buffer.concat([u16(1), Buffer.from(m.replace(/:/g, ''), 'hex')])]),
);
const clientMessage = fc.record({
  type: fc.integer({ min: Msg.SOLICIT, max: Msg.INFORMATION_REQUEST }),
  transactionId: fc.integer({ min: 0, max: 0xffffff }),
  options: fc.array(clientOption, { maxLength: 8 }),
});
/** A client message of any type inside up to four relays. */
const message: fc.Arbitrary<Dhcp6Message> = fc.tuple(clientMessage, fc.array(fc.record({
  type: fc.constantFrom(Msg.RELAY_FORW, Msg.RELAY_FORW, Msg.RELAY_REPL),
  hopCount: fc.integer({ min: 0, max: 255 }),
  linkAddress: address,
  peerAddress: address,
  options: fc.array(relayOption, { maxLength: 2 }),
}), { maxLength: 4 })).map(([client, relays]) => relays.reduce<Dhcp6Message>((inner, r) => ({ ...r, message: inner }), client));

/** What real clients of the known MAC send (any type, iPXE or UEFI), directly or through a relay on the leaf. */
const plausible: fc.Arbitrary<Dhcp6Message> = fc.record({
  type: fc.constantFrom('SOLICIT', 'REQUEST', 'CONFIRM', 'RENEW', 'REBIND', 'RELEASE', 'DECLINE', 'INFORMATION_REQUEST') as fc.Arbitrary<Parameters<typeof client6>[0]['type']>,
  ipxe: fc.boolean(),
  arch: fc.constantFrom(undefined, 0, 7, 9, 16),
  addresses: fc.array(fc.constantFrom('2001:db8:1::150', '2001:db8:2::150', '2001:db8:9::1'), { maxLength: 2 }),
  withServerId: fc.boolean(),
  viaRelay: fc.boolean(),
}).map(({ withServerId, viaRelay, ...c }) => {
  const m = client6({ ...c, mac: MAC, serverId: withServerId ? SERVER_DUID : undefined });
  return viaRelay ? relayed(m, { linkAddress: LINK, peerAddress: 'fe80::5054:ff:fefe:6', interfaceId: 'eth9' }) : m;
});

/** A valid message's bytes as they are, cut short, bit-flipped, or with a length field rewritten. */
const mangled = fc.tuple(fc.oneof(message, plausible), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 3 }))
  .map(([m, cut, flips, kind]) => {
    const b = encodeMessage(m);
    if (kind === 3) return b;
    if (kind === 0) return b.subarray(0, cut % b.length);
    const out = Buffer.from(b);
    for (const [at, bit] of flips) out[at % out.length] ^= 1 << bit;
    if (kind === 2 && out.length > 6) out.writeUInt16BE(cut & 0xffff, 4 + ((cut >> 16) % Math.max(1, out.length - 6)));
    return out;
  });

describe('fuzzing the DHCPv6 codec, policy and server', () => {
  let dir: string;
  let tdb: TestDatabase;
  let netboot: Netboot;
  let view: Policy6View;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-fuzz6-'));
    tdb = await createTestDatabase('sqlite');
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const config = anvilConfig({
      serverAddress: '127.0.0.1',
      serverAddress6: '2001:db8::1',
      dhcp: { enabled: false },
      dhcp6: { listen: '[::1]:0' },
      tftp: { enabled: false },
      http: { enabled: false },
      subnets6: [LEAF6],
    });
    netboot = await startNetboot({ db: tdb.db, config: { ...config, dataDir: dir }, logger: silentLogger });
    // The policy alone also gets a direct link (the server would join ff02::1:2 on it, which lo cannot).
    const direct = { ...netboot.config, subnets6: [LEAF6, { ...LEAF6, name: 'lo6', prefix: '2001:db8:2::/64', interface: 'lo', range: { start: '2001:db8:2::100', end: '2001:db8:2::1ff' } }] } as typeof netboot.config;
    view = { config: direct, targets: databaseTargets(tdb.db.knex, direct), leases: databaseLeases6(tdb.db.knex), serverDuid: SERVER_DUID, now: Date.now };
  });
  afterAll(async () => {
    await netboot?.close();
    await tdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips every message type in up to four relays', () => {
    fc.assert(fc.property(message, (m) => {
      expect(decodeMessage(encodeMessage(m))).toEqual(m);
    }), { seed: 6001, numRuns: 1500 });
  });

  it('decodes or refuses every truncated, bit-flipped or re-lengthed message, and the policy answers or ignores what decodes', async () => {
    let refused = 0;
    let decided = 0;
    let answered = 0;
    await fc.assert(fc.asyncProperty(mangled, fc.constantFrom(
      { address: '2001:db8:ff::2', port: 547 }, { address: 'fe80::5054:ff:fefe:6%lo', port: 546 }, { address: '2001:db8:1::1234', port: 546 },
    ), async (b, from) => {
      let m: Dhcp6Message;
      try {
        m = decodeMessage(b);
      } catch (err) {
        if (!(err instanceof Dhcp6DecodeError)) throw err;
        refused++;
        return;
      }
      const d = await decide6(m, from, view);
      expect('ignored' in d || 'reply' in d).toBe(true);
      if ('reply' in d) {
        expect(decodeMessage(encodeMessage(d.reply))).toEqual(d.reply);
        answered++;
      }
      decided++;
    }), { seed: 6002, numRuns: 1500 });
    expect(refused).toBeGreaterThan(300);
    expect(decided).toBeGreaterThan(300);
    expect(answered).toBeGreaterThan(20);
  });

  it('keeps answering a relayed client after 3000 hostile datagrams', async () => {
    const server = netboot.dhcp6!;
    const relay = dgram.createSocket('udp6');
    relay.bind(0, '::1');
    await once(relay, 'listening');
    const replies: Buffer[] = [];
    relay.on('message', (m) => replies.push(m));
    const flood = fc.sample(fc.oneof(mangled, bytes(600)), { seed: 6003, numRuns: 3000 });
    for (const [i, p] of flood.entries()) {
      relay.send(p, server.port, '::1');
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 300));
    const solicit = encodeMessage(relayed(client6({ type: 'SOLICIT', mac: MAC, transactionId: 0x600d }), { linkAddress: LINK, peerAddress: 'fe80::5054:ff:fefe:6', interfaceId: 'eth9' }));
    const mine = (): Dhcp6Message | undefined => replies.map((r) => decodeMessage(r)).find((r) => isRelay(r) && !isRelay(r.message) && r.message.transactionId === 0x600d);
    for (let i = 0; i < 750 && !mine(); i++) {
      if (i % 50 === 0) relay.send(solicit, server.port, '::1');
      await new Promise((r) => setTimeout(r, 20));
    }
    relay.close();
    const reply = mine();
    if (!reply || !isRelay(reply) || isRelay(reply.message)) throw new Error('no ADVERTISE came back');
    expect(reply.message.type).toBe(Msg.ADVERTISE);
    const { stats } = server;
    const settled = (): boolean => stats.received === stats.malformed + stats.ignored + stats.replied + stats.errors;
    for (let i = 0; i < 100 && !settled(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(stats.malformed).toBeGreaterThan(500);
    expect(stats.received).toBe(stats.malformed + stats.ignored + stats.replied);
    expect(stats.errors).toBe(0);
  }, 60000);
});
