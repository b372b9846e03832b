// Listening for LLDP on the machine's NICs: one tcpdump per NIC (Debian's, copied into the ramdisk;
// Node has no raw sockets), stopped at the first LLDP frame, when the NIC has listened `linkWaitMs`
// with its link up and heard nothing (lldpListening), or when `timeoutMs` is up. The ramdisk's
// init.sh starts the captures before DHCP (EARLY_CAPTURE_DIR), so that the wait runs while the
// network comes up and the agent starts: the agent reads what they wrote; a NIC without one (or whose
// tcpdump is gone: the agent restarted) gets a tcpdump of the agent's, writing pcap to its stdout.
// What each NIC heard is read by lldp-frame.ts.
import { execFile, spawn } from 'node:child_process';
import { open, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../common/logger.ts';
import { LLDP_ETHERTYPE, PcapReader, tlvsOfFrame } from './lldp-frame.ts';

const exec = promisify(execFile);

export type LldpTlvs = [number, string][];

/** How often a listening NIC's carrier is read (/sys/class/net/NIC/carrier), and an early capture's files. */
const CARRIER_POLL_MS = 200;

/**
 * Where init.sh leaves the captures it starts before DHCP, per NIC: NIC.pcap (tcpdump -U -w), NIC.log
 * (tcpdump's stderr: "listening on" once the capture is open), NIC.pid, and NIC.link, touched when the
 * NIC's carrier first read up (its time is when the link came up, which the agent could not see).
 */
export const EARLY_CAPTURE_DIR = '/run/lldp';

export interface LldpCaptureOptions {
  /** The longest any NIC listens (ipa-lldp-timeout). */
  timeoutMs: number;
  /**
   * How long a NIC listens with its link up before it is taken to have no LLDP neighbour
   * (anvil.lldp_link_wait); a NIC still without a link that long after it started listening stops too.
   */
  linkWaitMs: number;
  logger: Logger;
  /** Where the ramdisk's early captures are (default EARLY_CAPTURE_DIR). */
  earlyCaptureDir?: string;
}

/**
 * Whether a NIC keeps listening, `now` ms: it has listened since `listeningSince` (tcpdump's capture
 * open) and its link has been up since `linkUpSince` (undefined: down). Switches send LLDP on link up
 * and then every tx-interval; a NIC that heard nothing for `linkWaitMs` with its link up, or that got
 * no link within `linkWaitMs`, is not waited for until the whole timeout.
 */
export function lldpListening(now: number, listeningSince: number, linkUpSince: number | undefined, linkWaitMs: number): 'listen' | 'quiet' | 'no link' {
  if (linkUpSince === undefined) return now - listeningSince >= linkWaitMs ? 'no link' : 'listen';
  return now - Math.max(linkUpSince, listeningSince) >= linkWaitMs ? 'quiet' : 'listen';
}

/** The TLVs of the first LLDP frame each NIC hears (see LldpCaptureOptions); a NIC that heard none is absent. */
export async function captureLldp(nics: string[], opts: LldpCaptureOptions): Promise<Map<string, LldpTlvs>> {
  const heard = new Map<string, LldpTlvs>();
  await Promise.all(nics.map(async (nic) => {
    const tlvs = await firstFrame(nic, opts);
    if (tlvs) heard.set(nic, tlvs);
  }));
  return heard;
}

const carrierUp = async (nic: string): Promise<boolean> => (await readFile(`/sys/class/net/${nic}/carrier`, 'utf8').catch(() => '0')).trim() === '1';

/** What a capture tells the listening NIC. */
interface CaptureSink {
  /** Bytes of the pcap stream. */
  data(chunk: Buffer): void;
  /** The capture has been open since `since`; `linkUpAt`: since when the link is known to be up, if the capture knows. */
  listening(since: number, linkUpAt?: number): void;
  /** The capture ended by itself. */
  ended(why: string): void;
}

interface Capture {
  stop(): void;
  /** What tcpdump said so far. */
  said(): string;
}

/** A tcpdump of the agent's, pcap on its stdout. */
async function spawnCapture(nic: string, sink: CaptureSink, logger: Logger): Promise<Capture> {
  // A NIC that is down hears nothing: bring it up, as IPA does before listening.
  await exec('ip', ['link', 'set', nic, 'up']).catch((err) => logger.warn({ nic, err: (err as Error).message }, 'could not bring the NIC up for LLDP'));
  // -U: each packet written at once; -Z root: the ramdisk has no "tcpdump" user to drop to.
  const child = spawn('tcpdump', ['-i', nic, '-U', '-w', '-', '-Z', 'root', 'ether', 'proto', `0x${LLDP_ETHERTYPE.toString(16)}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let opened = false;
  child.stdout.on('data', (chunk: Buffer) => sink.data(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
    // "tcpdump: listening on eth0, link-type EN10MB ...": the capture is open; the link wait starts.
    if (!opened && /listening on/.test(stderr)) {
      opened = true;
      sink.listening(Date.now());
    }
  });
  child.on('error', (err) => sink.ended(`LLDP capture on ${nic} could not start tcpdump: ${err.message}`));
  child.on('exit', (code) => sink.ended(`tcpdump on ${nic} exited (${code}) before an LLDP frame: ${stderr.trim()}`));
  return { stop: () => child.kill('SIGTERM'), said: () => stderr };
}

/** Whether process `pid` runs: it exists and is no zombie (init.sh, its parent, reaps it only when it next waits). */
const running = async (pid: number): Promise<boolean> => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
};

/** The capture init.sh started on `nic`, its files read as tcpdump writes them; undefined when there is none running. */
async function adoptCapture(nic: string, dir: string, sink: CaptureSink): Promise<Capture | undefined> {
  const base = join(dir, nic);
  const pid = Number((await readFile(`${base}.pid`, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || !(await running(pid))) return undefined;
  let pcap: FileHandle;
  try {
    pcap = await open(`${base}.pcap`, 'r');
  } catch {
    return undefined;
  }
  let said = '';
  let opened = false;
  let offset = 0;
  let stopped = false;
  const chunk = Buffer.alloc(64 * 1024);
  const poll = async () => {
    for (let n; !stopped && (n = (await pcap.read(chunk, 0, chunk.length, offset)).bytesRead) > 0; offset += n) sink.data(Buffer.from(chunk.subarray(0, n)));
    if (stopped) return;
    if (!opened) {
      said = (await readFile(`${base}.log`, 'utf8').catch(() => '')).slice(-2000);
      if (/listening on/.test(said)) {
        opened = true;
        // The log's last write is tcpdump's "listening on"; the link file's, the carrier first seen up.
        const since = (await stat(`${base}.log`)).mtimeMs;
        const linkUpAt = await stat(`${base}.link`).then((s) => s.mtimeMs, () => undefined);
        if (!stopped) sink.listening(since, linkUpAt);
      }
    }
    if (!stopped && !(await running(pid))) sink.ended(`tcpdump on ${nic} (started by the ramdisk) exited before an LLDP frame: ${said.trim()}`);
  };
  const failed = (err: Error) => sink.ended(`LLDP capture on ${nic} (started by the ramdisk) unreadable: ${err.message}`);
  const timer = setInterval(() => void poll().catch(failed), CARRIER_POLL_MS);
  void poll().catch(failed);
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone already
      }
      // A restarted agent finds no capture to read and starts its own.
      void unlink(`${base}.pid`).catch(() => undefined);
      void pcap.close().catch(() => undefined);
    },
    said: () => said,
  };
}

async function firstFrame(nic: string, opts: LldpCaptureOptions): Promise<LldpTlvs | undefined> {
  const reader = new PcapReader();
  const startedAt = Date.now();
  let capture: Capture | undefined;
  let done = false;
  let listeningSince: number | undefined;
  let linkUpSince: number | undefined;
  let carrierPoll: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  let resolve!: (tlvs: LldpTlvs | undefined) => void;
  const heard = new Promise<LldpTlvs | undefined>((r) => { resolve = r; });
  const finish = (tlvs: LldpTlvs | undefined, why?: string) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    clearInterval(carrierPoll);
    capture?.stop();
    if (why) opts.logger.info({ nic }, why);
    resolve(tlvs);
  };
  // The whole timeout counts from when the capture opened, or started if that was later.
  const bound = (from: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => finish(undefined, `no LLDP frame on ${nic} within ${opts.timeoutMs} ms (tcpdump: ${capture?.said().trim() || 'nothing said'})`), Math.max(0, from + opts.timeoutMs - Date.now()));
  };
  const checkLink = async () => {
    const up = await carrierUp(nic);
    const now = Date.now();
    linkUpSince = up ? linkUpSince ?? now : undefined;
    const state = lldpListening(now, listeningSince!, linkUpSince, opts.linkWaitMs);
    if (state === 'quiet') finish(undefined, `no LLDP frame on ${nic} in ${opts.linkWaitMs} ms with its link up`);
    if (state === 'no link') finish(undefined, `no link on ${nic} within ${opts.linkWaitMs} ms: no LLDP neighbour to hear`);
  };
  const sink: CaptureSink = {
    data(chunk) {
      if (done) return;
      try {
        for (const frame of reader.push(chunk)) {
          const tlvs = tlvsOfFrame(frame);
          if (tlvs) return finish(tlvs);
        }
      } catch (err) {
        finish(undefined, `LLDP capture on ${nic} unreadable: ${(err as Error).message}`);
      }
    },
    listening(since, linkUpAt) {
      if (done || listeningSince !== undefined) return;
      listeningSince = since;
      linkUpSince = linkUpAt;
      // The link wait first: a capture open longer than the whole timeout has mostly been quiet that long.
      void checkLink().then(() => { if (!done && since < startedAt) bound(since); });
      carrierPoll = setInterval(() => void checkLink(), CARRIER_POLL_MS);
    },
    ended: (why) => finish(undefined, why),
  };
  bound(startedAt);
  capture = (await adoptCapture(nic, opts.earlyCaptureDir ?? EARLY_CAPTURE_DIR, sink)) ?? (await spawnCapture(nic, sink, opts.logger));
  // Ended while it was being set up (an unreadable file, a tcpdump that failed at once).
  if (done) capture.stop();
  return heard;
}
