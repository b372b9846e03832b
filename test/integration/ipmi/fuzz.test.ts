// Random, truncated and mutated packets thrown at a simulated BMC: it drops them without crashing
// and keeps answering valid clients, the native client and real ipmitool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { startIpmiSimulator, type IpmiSimulator } from '../../../simulators/ipmi-bmc/index.ts';
import { encodeRequest } from '../../../drivers/ipmi/protocol/message.ts';
import { encodeV15, encodeV20 } from '../../../drivers/ipmi/protocol/packet.ts';
import { encodeOpenSessionRequest, encodeRakp1, encodeRakp3 } from '../../../drivers/ipmi/protocol/rakp.ts';
import { NativeTransport } from '../../../drivers/ipmi/transport-native.ts';

let sim: IpmiSimulator;
const native = new NativeTransport();
const machine = new MemoryMachine('f0', randomUUID(), 'fuzz-0', sampleHardware(0));

beforeAll(async () => {
  sim = await startIpmiSimulator({ machines: [machine], firstPort: 0, username: 'admin', password: 'password' });
});
afterAll(async () => {
  await native.close();
  await sim?.close();
});

/** A deterministic PRNG so a failure can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Valid packets of every kind the BMC parses, to mutate and cut. */
const SEEDS: Buffer[] = [
  encodeV15({ sessionSeq: 0, sessionId: 0, payload: encodeRequest({ netFn: 6, cmd: 0x38, data: Buffer.from([0x8e, 4]), rqSeq: 1 }) }),
  encodeV20({ payloadType: 0, sessionId: 0, sessionSeq: 0, payload: encodeRequest({ netFn: 6, cmd: 0x54, data: Buffer.from([0x0e, 0, 0x80]), rqSeq: 2 }) }),
  encodeV20({ payloadType: 0x10, sessionId: 0, sessionSeq: 0, payload: encodeOpenSessionRequest({ tag: 1, maxPrivilege: 4, consoleSessionId: 5, auth: 1, integrity: 1, confidentiality: 1 }) }),
  encodeV20({ payloadType: 0x12, sessionId: 0, sessionSeq: 0, payload: encodeRakp1({ tag: 1, bmcSessionId: 7, consoleRandom: Buffer.alloc(16, 3), role: 0x14, username: Buffer.from('admin') }) }),
  encodeV20({ payloadType: 0x14, sessionId: 0, sessionSeq: 0, payload: encodeRakp3({ tag: 1, status: 0, bmcSessionId: 7, authCode: Buffer.alloc(20, 9) }) }),
  encodeV20({ payloadType: 0, sessionId: 1234, sessionSeq: 1, payload: encodeRequest({ netFn: 0, cmd: 2, data: Buffer.from([1]), rqSeq: 3 }) }),
];

function mutate(rand: () => number, seed: Buffer): Buffer {
  const pick = rand();
  if (pick < 0.25) return seed.subarray(0, Math.floor(rand() * seed.length));
  if (pick < 0.5) {
    const out = Buffer.from(seed);
    for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n; i++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
    return out;
  }
  if (pick < 0.75) return Buffer.concat([seed, Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)))]);
  return Buffer.from(Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
}

describe('the simulated BMC under fuzzing', () => {
  it('survives 5,000 random, truncated and mutated packets and still serves valid clients', async () => {
    const rand = prng(20261127);
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const target = { address: '127.0.0.1', port: sim.ports[0], username: 'admin', password: 'password', privilege: 4, cipherSuite: 3, protocolVersion: '2.0' as const, bridging: null, timeoutMs: 500, retries: 2 };
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 500; i++) socket.send(mutate(rand, SEEDS[Math.floor(rand() * SEEDS.length)]), sim.ports[0], '127.0.0.1');
      // every round, a valid client in the middle of the noise
      const res = await native.request(target, 0, 1, []);
      expect(res.completion).toBe(0);
    }
    socket.close();
    await machine.power('on');
    const out = await execa('ipmitool', ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(sim.ports[0]), '-U', 'admin', '-E', '-C', '3', 'chassis', 'power', 'status'], { env: { IPMI_PASSWORD: 'password' } });
    expect(out.stdout).toBe('Chassis Power is on');
    // The half-open sessions the noise created stay bounded.
    expect(sim.bmcs[0].sessionCount).toBeLessThanOrEqual(32);
  });
});
