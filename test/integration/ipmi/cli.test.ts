// `anvil simulate ipmi` as testers run it: N BMCs from FIRST_PORT, a ready line, ipmitool works,
// SIGTERM stops it; bad options get a clear message.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { execa } from 'execa';
import { freeUdpPort } from './peers.ts';

const ANVIL = path.resolve(import.meta.dirname, '../../../bin/anvil.js');

describe('anvil simulate ipmi', () => {
  it('starts N BMCs on consecutive ports, says when ready, and stops on SIGTERM', async () => {
    const port = await freeUdpPort();
    const proc = execa('node', [ANVIL, 'simulate', 'ipmi', '--bmcs', '3', '--listen', '127.0.0.1', '--port', String(port), '--username', 'tester', '--password', 'pw-1234'], { reject: false });
    try {
      const ready = await new Promise<string>((resolve, reject) => {
        let out = '';
        proc.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out);
        });
        proc.once('exit', () => reject(new Error(`exited before ready: ${out}`)));
      });
      expect(ready).toContain(`IPMI simulator ready: 3 BMC(s) on 127.0.0.1 UDP ports ${port}-${port + 2}`);
      const status = await execa('ipmitool', ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(port + 2), '-U', 'tester', '-E', '-C', '3', 'chassis', 'power', 'on'], { env: { IPMI_PASSWORD: 'pw-1234' } });
      expect(status.stdout).toBe('Chassis Power Control: Up/On');
    } finally {
      proc.kill('SIGTERM');
    }
    const result = await proc;
    expect(result.exitCode).toBe(0);
  });

  it('refuses bad options with a message', async () => {
    const bad = await execa('node', [ANVIL, 'simulate', 'ipmi', '--bmcs', '0'], { reject: false });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain('--bmcs must be an integer from 1 to 20000, got "0"');
  });
});
