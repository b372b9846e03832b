// Listening for LLDP on the machine's NICs: one tcpdump per NIC (Debian's, copied into the ramdisk;
// Node has no raw sockets) writing pcap to its stdout, stopped at the first LLDP frame or when the
// time is up. What each NIC heard is read by lldp-frame.ts.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { Logger } from '../common/logger.ts';
import { LLDP_ETHERTYPE, PcapReader, tlvsOfFrame } from './lldp-frame.ts';

const exec = promisify(execFile);

export type LldpTlvs = [number, string][];

/** The TLVs of the first LLDP frame each NIC hears within `timeoutMs`; a NIC that heard none is absent. */
export async function captureLldp(nics: string[], opts: { timeoutMs: number; logger: Logger }): Promise<Map<string, LldpTlvs>> {
  const heard = new Map<string, LldpTlvs>();
  await Promise.all(nics.map(async (nic) => {
    // A NIC that is down hears nothing: bring it up, as IPA does before listening.
    await exec('ip', ['link', 'set', nic, 'up']).catch((err) => opts.logger.warn({ nic, err: (err as Error).message }, 'could not bring the NIC up for LLDP'));
    const tlvs = await firstFrame(nic, opts);
    if (tlvs) heard.set(nic, tlvs);
  }));
  return heard;
}

function firstFrame(nic: string, opts: { timeoutMs: number; logger: Logger }): Promise<LldpTlvs | undefined> {
  return new Promise((resolve) => {
    // -U: each packet written at once; -Z root: the ramdisk has no "tcpdump" user to drop to.
    const child = spawn('tcpdump', ['-i', nic, '-U', '-w', '-', '-Z', 'root', 'ether', 'proto', `0x${LLDP_ETHERTYPE.toString(16)}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const reader = new PcapReader();
    let stderr = '';
    let done = false;
    const finish = (tlvs: LldpTlvs | undefined, why?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGTERM');
      if (why) opts.logger.info({ nic }, why);
      resolve(tlvs);
    };
    const timer = setTimeout(() => finish(undefined, `no LLDP frame on ${nic} within ${opts.timeoutMs} ms (tcpdump: ${stderr.trim() || 'nothing said'})`), opts.timeoutMs);
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
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-2000); });
    child.on('error', (err) => finish(undefined, `LLDP capture on ${nic} could not start tcpdump: ${err.message}`));
    child.on('exit', (code) => finish(undefined, `tcpdump on ${nic} exited (${code}) before an LLDP frame: ${stderr.trim()}`));
  });
}
