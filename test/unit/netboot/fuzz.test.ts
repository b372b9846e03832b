// Random, truncated and bit-flipped packets thrown at the DHCP and TFTP servers: they are counted
// and dropped, nothing crashes, and valid clients keep being served. Seeded, so every run is the same.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { DhcpDecodeError, MessageType, Opt, decodePacket, encodeSubOptions, u16 } from '../../../services/netboot/dhcp/codec.ts';
import { databaseLeases } from '../../../services/netboot/dhcp/leases.ts';
import { decide } from '../../../services/netboot/dhcp/policy.ts';
import { decideProxy } from '../../../services/netboot/dhcp/proxy.ts';
import { databaseTargets } from '../../../services/netboot/targets.ts';
import { TftpDecodeError, parsePacket } from '../../../services/netboot/tftp/packets.ts';
import { startNetboot, type Netboot } from '../../../services/netboot/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { enrollNode } from '../../integration/netboot/fixtures.ts';
import { anvilConfig } from './config-fixture.ts';
import { requestBytes } from './requests.ts';
import { RawTftp } from './tftp-client.ts';

function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random bytes, truncations and bit flips of the valid packets given. */
function garbage(valid: Buffer[], count: number, seed: number): Buffer[] {
  const rnd = prng(seed);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const base = valid[Math.floor(rnd() * valid.length)];
    const kind = i % 3;
    if (kind === 0) out.push(Buffer.from(Array.from({ length: Math.floor(rnd() * 600) + 1 }, () => Math.floor(rnd() * 256))));
    else if (kind === 1) out.push(base.subarray(0, Math.floor(rnd() * base.length)));
    else {
      const b = Buffer.from(base);
      for (let f = 0; f < 1 + Math.floor(rnd() * 8); f++) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
      out.push(b);
    }
  }
  return out;
}

const MAC = '52:54:00:fe:00:01';
const GIADDR = '127.0.2.1';

describe('fuzzing the DHCP and TFTP servers', () => {
  let dir: string;
  let tdb: TestDatabase;
  let netboot: Netboot;
  let relay: dgram.Socket;
  const replies: Buffer[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-fuzz-'));
    tdb = await createTestDatabase('sqlite');
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const config = anvilConfig({
      serverAddress: '127.0.0.1',
      dhcp: { listen: '127.0.0.1:0' },
      tftp: { listen: '127.0.0.1:0', root: path.join(dir, 'tftp') },
      http: { enabled: false },
      subnets: [{ name: 'leaf', cidr: '127.0.2.0/24', range: { start: '127.0.2.100', end: '127.0.2.200' } }],
    });
    netboot = await startNetboot({ db: tdb.db, config: { ...config, dataDir: dir }, logger: silentLogger });
    writeFileSync(path.join(dir, 'tftp', 'undionly.kpxe'), Buffer.alloc(5000, 7));
    // A fake relay agent on the leaf's gateway address, where the server sends its answers.
    relay = dgram.createSocket('udp4');
    relay.bind(netboot.dhcp!.port, GIADDR);
    await once(relay, 'listening');
    relay.on('message', (m) => replies.push(m));
  });
  afterAll(async () => {
    relay?.close();
    await netboot?.close();
    await tdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function discover(xid: number): Promise<Buffer> {
    const before = replies.length;
    const bytes = requestBytes({ mac: MAC, type: 'DISCOVER', xid, giaddr: GIADDR, options: [[Opt.RELAY_AGENT, encodeSubOptions([[1, Buffer.from('eth9')]])], [Opt.CLIENT_ARCH, u16(0)]] });
    // Sent again every second, as a client does, while the server works through the flood.
    // (Bit-flipped copies of valid requests in the flood get answers too: look for this xid.)
    const mine = (): Buffer | undefined => replies.slice(before).find((m) => decodePacket(m).xid === xid);
    for (let i = 0; i < 750 && !mine(); i++) {
      if (i % 50 === 0) relay.send(bytes, netboot.dhcp!.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 20));
    }
    const reply = mine();
    if (!reply) throw new Error('no OFFER came back');
    return reply;
  }

  it('decodes or rejects every one of 2000 mangled packets, and the policy only ever answers or stays silent', async () => {
    const valid = [
      requestBytes({ mac: MAC, type: 'DISCOVER', giaddr: GIADDR, options: [[Opt.RELAY_AGENT, encodeSubOptions([[1, Buffer.from('eth9')], [5, Buffer.from([127, 0, 2, 0])]])], [Opt.USER_CLASS, Buffer.from('iPXE')]] }),
      requestBytes({ mac: MAC, type: 'REQUEST', giaddr: GIADDR, requested: '127.0.2.100', serverId: '127.0.0.1' }),
      requestBytes({ mac: MAC, type: 'INFORM', ciaddr: '127.0.2.100' }),
    ];
    const view = { config: netboot.config, targets: databaseTargets(tdb.db.knex, netboot.config), leases: databaseLeases(tdb.db.knex), now: Date.now };
    let rejected = 0;
    let decided = 0;
    for (const p of garbage(valid, 2000, 1234)) {
      try {
        const d = await decide(decodePacket(p), view);
        expect('ignored' in d || 'reply' in d).toBe(true);
        decided++;
      } catch (err) {
        if (!(err instanceof DhcpDecodeError)) throw err;
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(400);
    expect(decided).toBeGreaterThan(100);
  });

  it('in proxy mode, answers or stays silent for 2000 mangled packets on either port, and never offers an address', async () => {
    const pxe = [[Opt.VENDOR_CLASS, Buffer.from('PXEClient:Arch:00007:UNDI:003016')], [Opt.CLIENT_ARCH, u16(7)]] as Array<[number, Buffer]>;
    const valid = [
      requestBytes({ mac: MAC, type: 'DISCOVER', giaddr: GIADDR, options: [...pxe, [Opt.RELAY_AGENT, encodeSubOptions([[1, Buffer.from('eth9')]])]] }),
      requestBytes({ mac: MAC, type: 'REQUEST', ciaddr: '127.0.2.100', serverId: '127.0.0.1', options: [...pxe, [Opt.USER_CLASS, Buffer.from('iPXE')]] }),
    ];
    const config = { ...netboot.config, dhcp: { ...netboot.config.dhcp, mode: 'proxy' as const } };
    const view = { config, targets: databaseTargets(tdb.db.knex, config), leases: databaseLeases(tdb.db.knex), now: Date.now };
    let answered = 0;
    for (const [i, p] of garbage(valid, 2000, 4321).entries()) {
      let req;
      try {
        req = decodePacket(p);
      } catch (err) {
        if (!(err instanceof DhcpDecodeError)) throw err;
        continue;
      }
      const arrival = i % 2 ? { port: 'dhcp' as const } : { port: 'pxe' as const, from: { address: '127.0.2.100', port: 68 } };
      const d = await decideProxy(req, view, arrival).catch((err) => {
        if (!(err instanceof DhcpDecodeError)) throw err;
        return { ignored: 'malformed option' };
      });
      if ('reply' in d) {
        answered++;
        expect(d.reply.yiaddr).toBe('0.0.0.0');
        expect(d.reply.options.has(Opt.LEASE_TIME)).toBe(false);
      }
    }
    expect(answered).toBeGreaterThan(20);
  });

  it('parses or rejects every one of 5000 mangled TFTP packets', () => {
    const rrq = Buffer.from('\x00\x01undionly.kpxe\x00octet\x00blksize\x001024\x00', 'latin1');
    let rejected = 0;
    for (const p of garbage([rrq, Buffer.from([0, 4, 0, 1]), Buffer.from([0, 5, 0, 1, 65, 0])], 5000, 99)) {
      try {
        parsePacket(p);
      } catch (err) {
        if (!(err instanceof TftpDecodeError)) throw err;
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(1000);
  });

  it('keeps answering a relayed client after 3000 malformed DHCP packets', async () => {
    const valid = [
      requestBytes({ mac: MAC, type: 'DISCOVER', giaddr: GIADDR }),
      requestBytes({ mac: MAC, type: 'REQUEST', giaddr: GIADDR, requested: '127.0.2.100', options: [[Opt.RELAY_AGENT, Buffer.from([1, 2, 65, 66])]] }),
    ];
    const sender = dgram.createSocket('udp4');
    for (const [i, p] of garbage(valid, 3000, 42).entries()) {
      sender.send(p, netboot.dhcp!.port, '127.0.0.1');
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 300));
    sender.close();
    const offer = decodePacket(await discover(0xfeed));
    expect(offer.options.get(Opt.MESSAGE_TYPE)![0]).toBe(MessageType.OFFER);
    expect(offer.file).toBe('undionly.kpxe');
    // UDP may drop some of a flood; what arrived was either answered, ignored or counted as malformed.
    const { stats } = netboot.dhcp!;
    const settled = (): boolean => stats.received === stats.malformed + stats.ignored + stats.replied + stats.errors;
    for (let i = 0; i < 100 && !settled(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(stats.malformed).toBeGreaterThan(0);
    expect(stats.received).toBe(stats.malformed + stats.ignored + stats.replied);
    expect(stats.errors).toBe(0);
  });

  it('keeps serving TFTP after malformed requests and stray packets', async () => {
    const rrq = Buffer.from('\x00\x01undionly.kpxe\x00octet\x00blksize\x001024\x00tsize\x000\x00', 'latin1');
    const sender = dgram.createSocket('udp4');
    for (const p of garbage([rrq, Buffer.from([0, 4, 0, 1]), Buffer.from([0, 5, 0, 1, 65, 0])], 1500, 7)) {
      // Bit flips can make valid requests; aim those at a missing file so nothing waits for ACKs.
      sender.send(p.includes(Buffer.from('undionly')) ? Buffer.from(p.toString('latin1').replace('undionly', 'nosuchfi'), 'latin1') : p, netboot.tftp!.port, '127.0.0.1');
    }
    await new Promise((r) => setTimeout(r, 300));
    sender.close();
    const c = await RawTftp.open();
    const { data } = await c.fetch(netboot.tftp!.port, 'undionly.kpxe', { blksize: '1024' });
    c.close();
    expect(data).toEqual(Buffer.alloc(5000, 7));
    expect(netboot.tftp!.stats.malformed).toBeGreaterThan(0);
  });
});
