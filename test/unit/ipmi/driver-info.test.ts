// driver_info parsing: Ironic's keys, the defaults, and messages that name the bad key.
import { describe, expect, it } from 'vitest';
import type { NodeRecord } from '../../../db/nodes.ts';
import { parseIpmiInfo } from '../../../drivers/ipmi/driver-info.ts';
import { BmcScheduler } from '../../../drivers/ipmi/bmc-scheduler.ts';

const node = (driver_info: Record<string, unknown>) => ({ uuid: 'n-1', driver_info } as unknown as NodeRecord);

describe('parseIpmiInfo', () => {
  it('applies the defaults', () => {
    const info = parseIpmiInfo(node({ ipmi_address: '10.0.0.5' }));
    expect(info.target).toMatchObject({ address: '10.0.0.5', port: 623, username: '', password: '', privilege: 4, cipherSuite: null, protocolVersion: '2.0', bridging: null });
    expect(info.transport).toBe('auto');
    expect(info.limits).toEqual({ minIntervalMs: 500, maxInFlight: 1 });
  });

  it('reads every key', () => {
    const info = parseIpmiInfo(node({
      ipmi_address: 'bmc-7.example', ipmi_port: '6230', ipmi_username: 'root', ipmi_password: 'calvin', ipmi_priv_level: 'operator',
      ipmi_cipher_suite: '17', ipmi_transport: 'native', ipmi_min_command_interval: 0, ipmi_command_timeout: '0.2', ipmi_retries: 0,
    }));
    expect(info.target).toMatchObject({ address: 'bmc-7.example', port: 6230, username: 'root', password: 'calvin', privilege: 3, cipherSuite: 17, timeoutMs: 200, retries: 0 });
    expect(info.limits.minIntervalMs).toBe(0);
    const bridged = parseIpmiInfo(node({ ipmi_address: '10.0.0.5', ipmi_bridging: 'dual', ipmi_target_channel: 7, ipmi_target_address: '0x72', ipmi_transit_channel: 0, ipmi_transit_address: '0x82' }));
    expect(bridged.target.bridging).toMatchObject({ mode: 'dual', targetChannel: 7, targetAddress: 0x72, transitAddress: 0x82 });
    // bridging and IPMI 1.5 are ipmitool's
    expect(bridged.transport).toBe('ipmitool');
    expect(parseIpmiInfo(node({ ipmi_address: '10.0.0.5', ipmi_protocol_version: '1.5' })).transport).toBe('ipmitool');
  });

  it('names the key that is missing or wrong', () => {
    expect(() => parseIpmiInfo(node({}))).toThrow(/ipmi_address/);
    expect(() => parseIpmiInfo(node({ ipmi_address: 'a b' }))).toThrow(/ipmi_address/);
    expect(() => parseIpmiInfo(node({ ipmi_address: '10.0.0.5', ipmi_port: 70000 }))).toThrow(/ipmi_port/);
    expect(() => parseIpmiInfo(node({ ipmi_address: '10.0.0.5', ipmi_priv_level: 'ROOT' }))).toThrow(/ipmi_priv_level/);
    expect(() => parseIpmiInfo(node({ ipmi_address: '10.0.0.5', ipmi_protocol_version: '3' }))).toThrow(/ipmi_protocol_version/);
    expect(() => parseIpmiInfo(node({ ipmi_address: '10.0.0.5', ipmi_transport: 'carrier-pigeon' }))).toThrow(/ipmi_transport/);
    expect(() => parseIpmiInfo(node({ ipmi_address: '10.0.0.5', ipmi_bridging: 'single' }))).toThrow(/ipmi_target_channel/);
    expect(() => parseIpmiInfo(node({ ipmi_address: '10.0.0.5', ipmi_transport: 'native', ipmi_protocol_version: '1.5' }))).toThrow(/IPMI 1.5/);
    expect(() => parseIpmiInfo(node({ ipmi_address: '10.0.0.5', ipmi_transport: 'native', ipmi_cipher_suite: 1 }))).toThrow(/ipmi_cipher_suite/);
  });

  it('never puts the password in an error message', () => {
    try {
      parseIpmiInfo(node({ ipmi_address: '10.0.0.5', ipmi_password: 'x'.repeat(21) }));
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/ipmi_password/);
      expect((err as Error).message).not.toContain('x'.repeat(21));
    }
  });
});

describe('BmcScheduler', () => {
  it('runs one call at a time per BMC, in order, and BMCs side by side', async () => {
    const scheduler = new BmcScheduler();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const call = (bmc: string, n: number) => scheduler.run(bmc, { maxInFlight: 1, minIntervalMs: 0 }, async () => {
      running++;
      most = Math.max(most, running);
      log.push(`${bmc}${n}`);
      await new Promise((r) => setImmediate(r));
      running--;
      return n;
    });
    const results = await Promise.all([call('a', 1), call('a', 2), call('a', 3), call('b', 1)]);
    expect(results).toEqual([1, 2, 3, 1]);
    expect(log.filter((l) => l.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    // b ran while a's queue waited: two at once overall, never two on a
    expect(most).toBe(2);
  });

  it('leaves the minimum interval between two calls to one BMC', async () => {
    const scheduler = new BmcScheduler();
    const starts: number[] = [];
    const call = () => scheduler.run('a', { maxInFlight: 1, minIntervalMs: 30 }, async () => { starts.push(Date.now()); });
    await Promise.all([call(), call()]);
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(29);
  });
});
