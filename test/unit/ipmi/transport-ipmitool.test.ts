import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IpmitoolTransport } from '../../../drivers/ipmi/transport-ipmitool.ts';
import type { IpmiTarget } from '../../../drivers/ipmi/transport.ts';

// A stand-in ipmitool that fails its first N runs with the given stderr, then answers one byte; it
// writes each run's -N to <file>.waits.
const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-ipmitool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeIpmitool(name: string, failures: number, error: string): string {
  const file = path.join(dir, name);
  const count = `${file}.runs`;
  writeFileSync(count, '0');
  writeFileSync(`${file}.stderr`, `${error}\n`);
  writeFileSync(file, `#!/bin/sh
n=$(cat ${count}); echo $((n + 1)) > ${count}
while [ $# -gt 0 ]; do [ "$1" = -N ] && echo "$2" >> ${file}.waits; shift; done
if [ "$n" -lt ${failures} ]; then cat ${file}.stderr >&2; exit 1; fi
echo " 2a"
`);
  chmodSync(file, 0o755);
  return file;
}

const target: IpmiTarget = {
  address: '127.0.0.1', port: 623, username: 'admin', password: 'pw', privilege: 4,
  cipherSuite: 3, protocolVersion: '2.0', bridging: null, timeoutMs: 1000, retries: 0,
};

describe('ipmitool transport', () => {
  it('starts a new session when the BMC forgot the one ipmitool names (invalid session ID)', async () => {
    const transport = new IpmitoolTransport({ command: fakeIpmitool('once', 1, '> Error: RAKP 1 message indicates an error : invalid session ID') });
    expect(await transport.request(target, 0x06, 0x01, [])).toEqual({ completion: 0, data: Buffer.from([0x2a]) });
  });

  it('says the BMC refused the session when it goes on refusing', async () => {
    const transport = new IpmitoolTransport({ command: fakeIpmitool('always', 9, '> Error: RAKP 1 message indicates an error : invalid session ID') });
    await expect(transport.request(target, 0x06, 0x01, [])).rejects.toThrow('BMC 127.0.0.1:623 refused the session: invalid session ID');
  });

  it('does not retry a refusal that a new session cannot mend', async () => {
    const command = fakeIpmitool('role', 1, '> Error: RAKP 2 message indicates an error : unauthorized role or privilege level requested');
    await expect(new IpmitoolTransport({ command }).request(target, 0x06, 0x01, [])).rejects.toThrow(/refused the session: unauthorized role/);
  });

  // Seen against a BMC answering just later than -N: late answers interleaved with retransmissions
  // left ipmitool sending its commands outside any session, and the BMC refused them.
  const confused = 'Timeout in open session response message.\nIPMI Request Match NOT FOUND\n'
    + 'Unable to send RAW command (channel=0x0 netfn=0x0 lun=0x0 cmd=0x1 rsp=0xd4): Insufficient privilege level';

  it('does not trust a completion code from a run that had to retransmit, and waits longer', async () => {
    const command = fakeIpmitool('confused', 1, confused);
    expect(await new IpmitoolTransport({ command }).request(target, 0x00, 0x01, [])).toEqual({ completion: 0, data: Buffer.from([0x2a]) });
    expect(readFileSync(`${command}.waits`, 'utf8').trim().split('\n')).toEqual(['1', '2']);
  });

  it('gives the completion code once the wait can grow no more', async () => {
    const command = fakeIpmitool('slow-refusal', 9, confused);
    const slowTarget = { ...target, timeoutMs: 8000 };
    expect(await new IpmitoolTransport({ command }).request(slowTarget, 0x00, 0x01, [])).toEqual({ completion: 0xd4, data: Buffer.alloc(0) });
    expect(readFileSync(`${command}.waits`, 'utf8').trim().split('\n')).toEqual(['8']);
  });

  it('says how long it waited when the BMC stays too slow', async () => {
    const command = fakeIpmitool('too-slow', 99, '> Error: no response from RAKP 1 message');
    await expect(new IpmitoolTransport({ command }).request({ ...target, timeoutMs: 4000 }, 0x00, 0x01, []))
      .rejects.toThrow('BMC 127.0.0.1:623 did not answer ipmitool within its wait (3 runs, the last waiting 8 s for each message, 0 retransmissions)');
    expect(readFileSync(`${command}.waits`, 'utf8').trim().split('\n')).toEqual(['4', '8', '8']);
  });
});
