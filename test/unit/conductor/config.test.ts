// The conductor's settings: defaults, the YAML file, environment overrides, and clear errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';

describe('conductor configuration', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to all-in-one on SQLite under ./data with no file and no environment', () => {
    const c = loadConfig({ env: {}, cwd: dir });
    expect(c.database.url).toBe(`sqlite:${path.join(dir, 'data', 'anvil.sqlite')}`);
    expect(c.api).toMatchObject({ host: '127.0.0.1', port: 6385 });
    expect(c.conductor).toMatchObject({ group: '', workers: 200, heartbeatInterval: 10, heartbeatTimeout: 60, shutdownTimeout: 60, powerSyncMaxRetries: 3 });
    expect(c.conductor.timeouts).toEqual({ deployCallback: 1800, cleanCallback: 1800, inspectWait: 1800, rescueCallback: 1800, serviceCallback: 1800, working: 1800 });
  });

  it('takes the file, then the environment', () => {
    const file = path.join(dir, 'anvil.yaml');
    writeFileSync(file, 'conductor:\n  workers: 8\n  group: rack-a\n  timeouts:\n    working: 30\n');
    const c = loadConfig({ file, env: { ANVIL_DATABASE_URL: 'postgres://u@127.0.0.1/x', ANVIL_API_LISTEN: '[::1]:7000', ANVIL_CONDUCTOR_HOSTNAME: 'c9', ANVIL_CONDUCTOR_GROUP: 'Rack-B' }, cwd: dir });
    expect(c.conductor).toMatchObject({ workers: 8, group: 'rack-b', hostname: 'c9', pollInterval: 1 });
    expect(c.conductor.timeouts).toMatchObject({ working: 30, deployCallback: 1800 });
    expect(c.database.url).toBe('postgres://u@127.0.0.1/x');
    expect(c.api).toMatchObject({ host: '::1', port: 7000 });
  });

  it('names an unknown key, a bad listen address and an unreadable file', () => {
    const file = path.join(dir, 'typo.yaml');
    writeFileSync(file, 'conductor:\n  timeouts:\n    deploy: 5\n');
    expect(() => loadConfig({ file, env: {}, cwd: dir })).toThrow('Unknown configuration key "conductor.timeouts.deploy"');
    expect(() => loadConfig({ env: { ANVIL_API_LISTEN: 'localhost' }, cwd: dir })).toThrow('ANVIL_API_LISTEN must be HOST:PORT, got "localhost"');
    expect(() => loadConfig({ file: path.join(dir, 'missing.yaml'), env: {}, cwd: dir })).toThrow(/^Cannot read configuration file .*missing\.yaml/);
  });

  it('takes the inspection hooks\' settings, replacing the maps, and names bad ones', () => {
    const file = path.join(dir, 'inspection.yaml');
    writeFileSync(file, 'inspection:\n  hooks: [cpu-capabilities, root-device]\n  addPorts: pxe\n  cpuCapabilities: {avx512f: cpu_avx512}\n  physicalNetworkCidrMap: {"10.0.0.0/8": prov}\n');
    const c = loadConfig({ file, env: {}, cwd: dir });
    expect(c.inspection).toMatchObject({ hooks: ['cpu-capabilities', 'root-device'], addPorts: 'pxe', keepPorts: 'all', cpuCapabilities: { avx512f: 'cpu_avx512' }, physicalNetworkCidrMap: { '10.0.0.0/8': 'prov' } });
    const bad = (yaml: string) => {
      writeFileSync(file, `inspection:\n  ${yaml}\n`);
      return () => loadConfig({ file, env: {}, cwd: dir });
    };
    expect(bad('hooks: [extra-hardware]')).toThrow('inspection.hooks: unknown hook(s) extra-hardware; known: accelerators, cpu-capabilities, pci-devices, physical-network, raid-device, root-device');
    expect(bad('addPorts: some')).toThrow('inspection.addPorts must be one of all, active, pxe, got "some"');
    expect(bad('keepPorts: none')).toThrow('inspection.keepPorts must be one of all, present, added, got "none"');
    expect(bad('pciDeviceAliases: [{vendor_id: "10de"}]')).toThrow(/inspection.pciDeviceAliases: each entry needs vendor_id, product_id and name/);
    expect(bad('physicalNetworkCidrMap: {"ten": x}')).toThrow('inspection.physicalNetworkCidrMap: "ten" is not a network (address/prefix)');
  });
});
