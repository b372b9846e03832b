// `anvil netboot --config FILE` refuses a bad netboot section with a message that names the key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';

const ANVIL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/anvil.js');

describe('anvil netboot --config', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-netboot-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits with a clear error for an invalid subnet', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, stringify({
      dataDir: dir,
      netboot: { serverAddress: '10.0.0.1', subnets: [{ name: 'rack1', cidr: '10.1.0.0/24', range: { start: '10.1.0.10', end: '10.2.0.10' } }] },
    }));
    const r = await execa(process.execPath, [ANVIL, 'netboot', '--config', file], { reject: false, timeout: 30000 });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('anvil: netboot.subnets[0] (rack1).range.end 10.2.0.10 is outside the subnet 10.1.0.0/24');
  }, 40000);
});
