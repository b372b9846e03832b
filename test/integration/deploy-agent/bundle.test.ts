// The real agent as the ramdisk runs it: its launcher, the agent bundled into one CommonJS file with
// its V8 code cache and the plugins, taken out of the built initramfs and started with node (no
// tsx), configured by a kernel command line file and CLI flags.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxHardware } from '../../../deploy-agent/hardware.ts';
import { AgentClient } from '../../../drivers/in-band/client.ts';
import { parseBootif, parseCmdline, settingsFrom } from '../../../deploy-agent/main.ts';
import { buildRamdisk } from '../../../ramdisk/build.ts';
import { startFakeIronic, type FakeIronic } from './fake-ironic.ts';

let dir: string;
let ironic: FakeIronic;
let child: ResultPromise | null = null;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-bundle-'));
  ironic = await startFakeIronic();
});
afterAll(async () => {
  child?.kill('SIGTERM');
  await child?.catch(() => undefined);
  await ironic.close();
  await rm(dir, { recursive: true, force: true });
});

describe('agent entry point', () => {
  it('reads ipa-* kernel parameters and BOOTIF, flags winning', () => {
    const cmdline = 'console=ttyS0 ipa-api-url=http://10.0.0.1:6385 BOOTIF=01-52-54-00-AA-BB-CC ipa-node-uuid=abc ipa-inspection-callback-url="http://10.0.0.1:6385/v1/continue_inspection"';
    expect(parseCmdline(cmdline)['ipa-api-url']).toBe('http://10.0.0.1:6385');
    expect(settingsFrom([], cmdline)).toEqual({
      apiUrl: 'http://10.0.0.1:6385', nodeUuid: 'abc', bootif: '52:54:00:aa:bb:cc', inspectionCallbackUrl: 'http://10.0.0.1:6385/v1/continue_inspection',
      listenHost: undefined, listenPort: 9999, advertiseHost: undefined, rootDevice: undefined, pluginDirs: ['/usr/lib/anvil-agent/plugins'],
    });
    expect(settingsFrom(['--api-url', 'http://127.0.0.1:1', '--listen-port', '0'], cmdline)).toMatchObject({ apiUrl: 'http://127.0.0.1:1', listenPort: 0 });
    expect(parseBootif('52:54:00:aa:bb:cc')).toBe('52:54:00:aa:bb:cc');
    expect(parseBootif('garbage')).toBeUndefined();
    expect(() => settingsFrom([], 'quiet')).toThrow('No API URL: pass --api-url or ipa-api-url= on the kernel command line');
    expect(() => settingsFrom(['--listen-port', 'x', '--api-url', 'http://a'], '')).toThrow('Invalid listen port x');
    expect(() => settingsFrom(['--bogus'], '')).toThrow(/Unknown option '--bogus'/);
  });

  it('listens for LLDP only with ipa-collect-lldp, for ipa-lldp-timeout seconds (10 by default) and anvil.lldp_link_wait with the link up (2 by default)', () => {
    const api = 'ipa-api-url=http://10.0.0.1:6385';
    expect(settingsFrom([], api).lldp).toBeUndefined();
    expect(settingsFrom([], `${api} ipa-collect-lldp=0`).lldp).toBeUndefined();
    expect(settingsFrom([], `${api} ipa-collect-lldp=1`).lldp).toEqual({ timeoutMs: 10_000, linkWaitMs: 2000 });
    expect(settingsFrom([], `${api} ipa-collect-lldp=true ipa-lldp-timeout=2.5 anvil.lldp_link_wait=30`).lldp).toEqual({ timeoutMs: 2500, linkWaitMs: 30_000 });
    expect(() => settingsFrom([], `${api} ipa-collect-lldp=1 ipa-lldp-timeout=soon`)).toThrow('Invalid LLDP timeout "soon": a number of seconds above 0 is expected');
    expect(() => settingsFrom([], `${api} ipa-collect-lldp=1 anvil.lldp_link_wait=0`)).toThrow('Invalid LLDP link wait "0": a number of seconds above 0 is expected');
  });

  it('reads this machine as LinuxHardware: CPUs and memory from /proc', async () => {
    const inv = await new LinuxHardware().inventory();
    expect(inv.cpu.count).toBe(os.cpus().length);
    expect(inv.memory.physical_mb).toBe(Math.round(os.totalmem() / 1024 ** 2));
    expect(['uefi', 'bios']).toContain(inv.boot.current_boot_mode);
  });

  it('runs from the ramdisk\'s files with node and the code cache V8 accepts, looks up, heart-beats and offers the steps of its bundled plugins', async () => {
    const ramdisk = await buildRamdisk();
    await execa('sh', ['-c', `zstd -dc "${ramdisk.initramfs}" | busybox cpio -id anvil-agent.cjs 'usr/lib/anvil-agent/*'`], { cwd: dir });
    expect(existsSync(path.join(dir, 'usr/lib/anvil-agent/agent.cjs.cache'))).toBe(true);
    // This machine's NICs are unknown to the stand-in API: the node is found by ipa-node-uuid.
    ironic.nodes.set('52:54:00:99:99:99', '22222222-0000-4000-8000-000000000001');
    const cmdline = path.join(dir, 'cmdline');
    await writeFile(cmdline, `ipa-api-url=${ironic.url} ipa-node-uuid=22222222-0000-4000-8000-000000000001\n`);
    child = execa('node', [path.join(dir, 'anvil-agent.cjs'), '--cmdline', cmdline, '--listen-host', '127.0.0.1', '--listen-port', '0', '--plugin-dirs', path.join(dir, 'usr/lib/anvil-agent/plugins')], { reject: false, env: { NODE_OPTIONS: '' } });
    const hb = await ironic.heartbeat(1);
    expect(hb).toMatchObject({ node: '22222222-0000-4000-8000-000000000001', agent_token: ironic.token });
    const status = await (await fetch(`${hb.callback_url}/v1/status`)).json();
    expect(status.version).toMatch(/anvil/);
    const steps = await new AgentClient(String(hb.callback_url), ironic.token, { timeoutMs: 30_000 }).execute('deploy.get_deploy_steps', {});
    expect(steps.command_result).toMatchObject({ deploy_steps: { CoreOSInstallHardwareManager: [expect.objectContaining({ step: 'install_coreos' })] } });
    child.kill('SIGTERM');
    const { stderr } = await child;
    child = null;
    expect(stderr).not.toContain('rejected the code cache');
  }, 120_000);
});
