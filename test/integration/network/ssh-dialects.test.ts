// The SSH driver's vendor dialects against recorded transcripts, over a real SSH connection to a
// CLI stand-in (ssh2's server): for each vendor, the lines typed for one batch (an access port,
// a trunk, an LACP bond) are the recorded ones (test/fixtures/switch-transcripts). Faults: a wrong
// password; a line the switch rejects mid-batch (a transaction dialect aborts, one without puts
// the previous setting back); a switch that stops answering mid-batch (the connection is dropped,
// a new one aborts). None of these dialects has run on real gear.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../drivers/ssh-switch/dialects.ts';
import { sshSwitch } from '../../../drivers/ssh-switch/index.ts';
import type { SwitchBatch } from '../../../drivers/switch/types.ts';
import { startFakeCliSwitch, type FakeCliSwitch } from '../../helpers/fake-cli-switch.ts';

const PORTS: Record<string, string[]> = {
  cisco_ios: ['GigabitEthernet1/0/1', 'GigabitEthernet1/0/2', 'GigabitEthernet1/0/3', 'GigabitEthernet1/0/4'],
  cisco_nxos: ['Ethernet1/1', 'Ethernet1/2', 'Ethernet1/3', 'Ethernet1/4'],
  arista_eos: ['Ethernet1', 'Ethernet2', 'Ethernet3', 'Ethernet4'],
  dell_os10: ['ethernet1/1/1', 'ethernet1/1/2', 'ethernet1/1/3', 'ethernet1/1/4'],
  cumulus_nclu: ['swp1', 'swp2', 'swp3', 'swp4'],
  sonic: ['Ethernet0', 'Ethernet4', 'Ethernet8', 'Ethernet12'],
};
const SHELL = { prompt: 'admin@leaf:~$ ', error: 'Error: the switch refused this' };
const CLI = { prompt: 'leaf1#', error: "% Invalid input detected at '^' marker." };

function batches(dialect: string): { batch: SwitchBatch; previous: SwitchBatch } {
  const [p1, p2, p3, p4] = PORTS[dialect];
  return {
    previous: { ports: [p1, p2, p3, p4].map((port) => ({ port, vlans: { untagged: 110, tagged: [] } })), bonds: [] },
    batch: {
      ports: [{ port: p1, vlans: { untagged: 101, tagged: [] } }, { port: p2, vlans: { untagged: null, tagged: [201, 202] } }],
      bonds: [{ name: 'bond12', members: [p3, p4], lacp: true, vlans: { untagged: 300, tagged: [] } }],
    },
  };
}

const transcript = (dialect: string) => readFileSync(path.join(import.meta.dirname, '../../fixtures/switch-transcripts', `${dialect}.txt`), 'utf8').trimEnd().split('\n');

describe.each(Object.keys(PORTS))('SSH switch dialect %s', (dialect) => {
  let cli: FakeCliSwitch;
  const driver = (extra: Record<string, unknown> = {}) => sshSwitch({ name: `leaf-${dialect}`, driver: 'ssh', options: { dialect, host: '127.0.0.1', port: cli.port, username: 'anvil', password: 'switch-pw', timeout: 3, ...extra } }, 4094);
  beforeAll(async () => { cli = await startFakeCliSwitch(dialect === 'sonic' ? SHELL : dialect === 'cumulus_nclu' ? { ...SHELL, error: 'ERROR: Command not found.' } : CLI); });
  afterAll(() => cli?.close());

  it('types the recorded lines for an access port, a trunk and an LACP bond', async () => {
    cli.lines.length = 0;
    const sw = driver();
    const { batch, previous } = batches(dialect);
    await sw.apply(batch, previous);
    expect(cli.lines).toEqual(transcript(dialect));
    // The connection stays open for the next batch.
    const before = cli.connections;
    await sw.apply(previous, batch);
    expect(cli.connections).toBe(before);
    await sw.close?.();
  });

  it('fails naming the switch when the password is refused', async () => {
    const sw = driver({ password: 'wrong' });
    await expect(sw.apply(batches(dialect).batch, undefined)).rejects.toThrow(new RegExp(`switch leaf-${dialect}: \\(ssh ${dialect} at 127.0.0.1\\) SSH to anvil@127.0.0.1:\\d+ failed: All configured authentication methods failed`));
  });

  it('undoes a batch when a line is rejected mid-batch', async () => {
    cli.lines.length = 0;
    const sw = driver();
    const { batch, previous } = batches(dialect);
    const sent = transcript(dialect);
    const bad = sent[Math.floor(sent.length / 2)];
    cli.reject = new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
    try {
      const err = await sw.apply(batch, previous).then(() => undefined, (e: Error) => e);
      expect(err?.message).toContain(`switch leaf-${dialect}: (ssh ${dialect} at 127.0.0.1) refused "${bad}"`);
      const after = cli.lines.slice(cli.lines.indexOf(bad) + 1);
      if (['cisco_nxos', 'arista_eos'].includes(dialect)) {
        expect(err?.message).toContain('the change was aborted');
        expect(after).toEqual(['configure session anvil', 'abort']);
      } else if (dialect === 'cumulus_nclu') {
        expect(after).toEqual(['net abort']);
      } else {
        // No transaction: the ports' previous setting is applied again.
        const d = DIALECTS[dialect];
        expect(err?.message).toContain('the ports were put back as they were');
        expect(after).toEqual([...d.begin, ...d.lines(previous, batch, {}), ...d.end]);
      }
    } finally {
      cli.reject = undefined;
      await sw.close?.();
    }
  });

  it('drops a switch that stops answering mid-batch and aborts on a new connection', async () => {
    cli.lines.length = 0;
    const sw = driver({ timeout: 1 });
    const { batch, previous } = batches(dialect);
    const sent = transcript(dialect);
    cli.hang = new RegExp(`^${sent[2].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
    const before = cli.connections;
    try {
      const err = await sw.apply(batch, previous).then(() => undefined, (e: Error) => e);
      expect(err?.message).toContain(`switch leaf-${dialect}: (ssh ${dialect} at 127.0.0.1) refused "${sent[2]}": no answer within 1000 ms`);
      expect(cli.connections).toBe(before + 2);
    } finally {
      cli.hang = undefined;
      await sw.close?.();
    }
  });
});
