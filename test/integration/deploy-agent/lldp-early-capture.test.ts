// The LLDP captures the ramdisk's init.sh starts before DHCP, read by the agent (lldp-capture.ts):
// what they heard before the agent started counts, their time listening and the link's time up (the
// files' times) count towards the link wait, the agent stops them, and a NIC whose capture is gone
// gets a tcpdump of the agent's. On the loopback NIC (its carrier reads up), with a `sleep` standing
// for init.sh's tcpdump.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { captureLldp } from '../../../deploy-agent/lldp-capture.ts';
import { FRAME, pcap } from '../../helpers/lldp-pcap.ts';

const NIC = 'lo';
let dir: string;
let stand: ChildProcess | null = null;

beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-lldp-early-')); });
afterEach(() => { stand?.kill('SIGKILL'); stand = null; });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

/** init.sh's files for NIC: a running stand-in for its tcpdump, what it wrote, opened and the link up `agoMs` before now. */
async function earlyCapture(pcapBytes: Buffer, agoMs: number): Promise<ChildProcess> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const base = path.join(dir, NIC);
  await writeFile(`${base}.pid`, `${child.pid}\n`);
  await writeFile(`${base}.pcap`, pcapBytes);
  await writeFile(`${base}.log`, `tcpdump: listening on ${NIC}, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n`);
  await writeFile(`${base}.link`, '');
  const then = new Date(Date.now() - agoMs);
  await utimes(`${base}.log`, then, then);
  await utimes(`${base}.link`, then, then);
  return child;
}

const exited = (child: ChildProcess) => new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));

/** The capture's outcome, or 'still listening' `ms` on. */
const within = <T>(work: Promise<T>, ms: number) => Promise.race([work, new Promise<'still listening'>((resolve) => setTimeout(() => resolve('still listening'), ms))]);

describe('LLDP captures started by the ramdisk', () => {
  it('a frame heard before the agent started is the NIC\'s neighbour, and the capture is stopped', async () => {
    stand = await earlyCapture(pcap([FRAME]), 3000);
    const gone = exited(stand);
    const heard = await captureLldp([NIC], { timeoutMs: 10_000, linkWaitMs: 2000, logger: silentLogger, earlyCaptureDir: dir });
    expect(heard.get(NIC)).toEqual([[1, '045254001eaf01'], [2, '0574617030'], [3, '0078'], [5, Buffer.from('leaf-1').toString('hex')]]);
    expect(await gone).toBe('SIGTERM');
    expect(existsSync(path.join(dir, `${NIC}.pid`))).toBe(false);
  });

  it('a capture that has listened the link wait with its link up, before the agent started, ends at once with nothing heard', async () => {
    stand = await earlyCapture(pcap([]), 30_000);
    const gone = exited(stand);
    // A link wait of 20 s counted from the agent's start would still be listening after 5 s.
    expect(await within(captureLldp([NIC], { timeoutMs: 60_000, linkWaitMs: 20_000, logger: silentLogger, earlyCaptureDir: dir }), 5000)).toEqual(new Map());
    expect(await gone).toBe('SIGTERM');
  });

  it('a capture that opened just now listens the whole link wait, and a frame arriving meanwhile is heard', async () => {
    stand = await earlyCapture(pcap([]), 0);
    const listening = captureLldp([NIC], { timeoutMs: 60_000, linkWaitMs: 20_000, logger: silentLogger, earlyCaptureDir: dir });
    expect(await within(listening, 1000)).toBe('still listening');
    // tcpdump -U appends the frame it heard.
    await writeFile(path.join(dir, `${NIC}.pcap`), pcap([FRAME]));
    expect((await within(listening, 5000) as Map<string, unknown>).get(NIC)).toBeDefined();
  });

  it('a NIC whose early capture is gone (its pid is no process) gets a tcpdump of the agent\'s', async () => {
    const dead = spawn('true');
    await exited(dead);
    await writeFile(path.join(dir, `${NIC}.pid`), `${dead.pid}\n`);
    const said: string[] = [];
    const logger = { ...silentLogger, info: (_o: unknown, msg: string) => { said.push(msg); } } as unknown as typeof silentLogger;
    expect(await captureLldp([NIC], { timeoutMs: 10_000, linkWaitMs: 300, logger, earlyCaptureDir: dir })).toEqual(new Map());
    expect(said).toEqual([`no LLDP frame on ${NIC} in 300 ms with its link up`]);
  });
});
