// Listening for LLDP on the machine's NICs: one tcpdump per NIC (Debian's, copied into the ramdisk;
// Node has no raw sockets) writing pcap to its stdout, stopped at the first LLDP frame, when the NIC
// has listened `linkWaitMs` with its link up and heard nothing (lldpListening), or when `timeoutMs`
// is up. What each NIC heard is read by lldp-frame.ts.
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Logger } from '../common/logger.ts';
import { LLDP_ETHERTYPE, PcapReader, tlvsOfFrame } from './lldp-frame.ts';

const exec = promisify(execFile);

export type LldpTlvs = [number, string][];

/** How often a listening NIC's carrier is read (/sys/class/net/NIC/carrier). */
const CARRIER_POLL_MS = 200;

export interface LldpCaptureOptions {
  /** The longest any NIC listens (ipa-lldp-timeout). */
  timeoutMs: number;
  /**
   * How long a NIC listens with its link up before it is taken to have no LLDP neighbour
   * (anvil.lldp_link_wait); a NIC still without a link that long after it started listening stops too.
   */
  linkWaitMs: number;
  logger: Logger;
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
    // A NIC that is down hears nothing: bring it up, as IPA does before listening.
    await exec('ip', ['link', 'set', nic, 'up']).catch((err) => opts.logger.warn({ nic, err: (err as Error).message }, 'could not bring the NIC up for LLDP'));
    const tlvs = await firstFrame(nic, opts);
    if (tlvs) heard.set(nic, tlvs);
  }));
  return heard;
}

const carrierUp = async (nic: string): Promise<boolean> => (await readFile(`/sys/class/net/${nic}/carrier`, 'utf8').catch(() => '0')).trim() === '1';

function firstFrame(nic: string, opts: LldpCaptureOptions): Promise<LldpTlvs | undefined> {
  return new Promise((resolve) => {
    // -U: each packet written at once; -Z root: the ramdisk has no "tcpdump" user to drop to.
    const child = spawn('tcpdump', ['-i', nic, '-U', '-w', '-', '-Z', 'root', 'ether', 'proto', `0x${LLDP_ETHERTYPE.toString(16)}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const reader = new PcapReader();
    let stderr = '';
    let done = false;
    let listeningSince: number | undefined;
    let linkUpSince: number | undefined;
    let carrierPoll: NodeJS.Timeout | undefined;
    const finish = (tlvs: LldpTlvs | undefined, why?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(carrierPoll);
      child.kill('SIGTERM');
      if (why) opts.logger.info({ nic }, why);
      resolve(tlvs);
    };
    const timer = setTimeout(() => finish(undefined, `no LLDP frame on ${nic} within ${opts.timeoutMs} ms (tcpdump: ${stderr.trim() || 'nothing said'})`), opts.timeoutMs);
    const checkLink = async () => {
      const up = await carrierUp(nic);
      const now = Date.now();
      linkUpSince = up ? linkUpSince ?? now : undefined;
      const state = lldpListening(now, listeningSince!, linkUpSince, opts.linkWaitMs);
      if (state === 'quiet') finish(undefined, `no LLDP frame on ${nic} in ${opts.linkWaitMs} ms with its link up`);
      if (state === 'no link') finish(undefined, `no link on ${nic} within ${opts.linkWaitMs} ms: no LLDP neighbour to hear`);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      try {
        for (const frame of reader.push(chunk)) {
          const tlvs = tlvsOfFrame(frame);
          if (tlvs) return finish(tlvs);
        }
      } catch (err) {
        finish(undefined, `LLDP capture on ${nic} unreadable: ${(err as Error).message}`);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
      // "tcpdump: listening on eth0, link-type EN10MB ...": the capture is open; the link wait starts.
      if (listeningSince === undefined && /listening on/.test(stderr)) {
        listeningSince = Date.now();
        void checkLink();
        carrierPoll = setInterval(() => void checkLink(), CARRIER_POLL_MS);
      }
    });
    child.on('error', (err) => finish(undefined, `LLDP capture on ${nic} could not start tcpdump: ${err.message}`));
    child.on('exit', (code) => finish(undefined, `tcpdump on ${nic} exited (${code}) before an LLDP frame: ${stderr.trim()}`));
  });
}
