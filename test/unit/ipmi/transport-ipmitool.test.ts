import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IpmitoolTransport } from '../../../drivers/ipmi/transport-ipmitool.ts';
import type { IpmiTarget } from '../../../drivers/ipmi/transport.ts';

// A stand-in ipmitool that fails its first N runs with a RAKP error, then answers one byte.
const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-ipmitool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeIpmitool(name: string, failures: number, error: string): string {
  const file = path.join(dir, name);
  const count = `${file}.runs`;
  writeFileSync(count, '0');
  writeFileSync(file, `#!/bin/sh
n=$(cat ${count}); echo $((n + 1)) > ${count}
if [ "$n" -lt ${failures} ]; then echo "${error}" >&2; exit 1; fi
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
});
