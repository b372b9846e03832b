import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfigDriveIso, configDriveForDeploy, decodeConfigDrive, encodeConfigDrive, validateConfigDrive } from '../../../images/configdrive.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-cd-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Reads a file out of an ISO with isoinfo (Rock Ridge names). */
async function isoFile(iso: string, file: string): Promise<string> {
  return (await execa('isoinfo', ['-R', '-i', iso, '-x', file])).stdout;
}

describe('config drive', () => {
  it('builds an ISO 9660 labelled config-2 that isoinfo reads back', async () => {
    const ignition = { ignition: { version: '3.2.0' }, passwd: { users: [{ name: 'core' }] } };
    const encoded = await configDriveForDeploy(
      { meta_data: { 'local-hostname': 'worker-0', 'metal3-name': 'w0' }, user_data: ignition, network_data: { links: [{ id: 'eth0', type: 'phy', ethernet_mac_address: '52:54:00:00:00:10' }] } },
      { uuid: '0b1c7d4e-0000-4000-8000-000000000001', name: 'node-1' },
    );
    const iso = path.join(dir, 'cd.iso');
    await writeFile(iso, decodeConfigDrive(encoded!));
    const pvd = (await execa('isoinfo', ['-d', '-i', iso])).stdout;
    expect(pvd).toMatch(/Volume id: config-2/);
    const listing = (await execa('isoinfo', ['-R', '-f', '-i', iso])).stdout.split('\n');
    expect(listing).toEqual(expect.arrayContaining([
      '/openstack/latest/meta_data.json', '/openstack/latest/user_data', '/openstack/latest/network_data.json', '/openstack/2012-08-10/meta_data.json',
    ]));
    expect(JSON.parse(await isoFile(iso, '/openstack/latest/meta_data.json'))).toEqual({ uuid: '0b1c7d4e-0000-4000-8000-000000000001', name: 'node-1', 'local-hostname': 'worker-0', 'metal3-name': 'w0' });
    expect(JSON.parse(await isoFile(iso, '/openstack/latest/user_data'))).toEqual(ignition);
    expect(JSON.parse(await isoFile(iso, '/openstack/latest/network_data.json')).links[0].id).toBe('eth0');
  });

  it('passes cloud-init text through as user_data and leaves a ready string untouched', async () => {
    const iso = await buildConfigDriveIso({ user_data: '#cloud-config\nhostname: x\n' });
    const file = path.join(dir, 'ci.iso');
    await writeFile(file, iso);
    expect(await isoFile(file, '/openstack/latest/user_data')).toBe('#cloud-config\nhostname: x');
    const ready = encodeConfigDrive(iso);
    expect(await configDriveForDeploy(ready, { uuid: 'u', name: null })).toBe(ready);
    expect(await configDriveForDeploy(undefined, { uuid: 'u', name: null })).toBeNull();
  });

  it('decodes gzipped and plain base64 and refuses garbage', () => {
    const iso = Buffer.from('ISO bytes');
    expect(decodeConfigDrive(gzipSync(iso).toString('base64')).equals(iso)).toBe(true);
    expect(decodeConfigDrive(iso.toString('base64')).equals(iso)).toBe(true);
    expect(() => decodeConfigDrive('not base64 !!')).toThrow('The config drive is neither a URL nor base64 data');
    expect(() => decodeConfigDrive(Buffer.from([0x1f, 0x8b, 1, 2, 3]).toString('base64'))).toThrow(/not valid gzip data/);
  });

  it('refuses configdrive objects with unknown keys or wrong types', () => {
    expect(() => validateConfigDrive({ meta_data: {}, userdata: 'x' })).toThrow('Unknown configdrive key "userdata": expected meta_data, user_data, network_data, vendor_data');
    expect(() => validateConfigDrive({ network_data: 'eth0' })).toThrow('configdrive.network_data must be an object');
    expect(() => validateConfigDrive(42)).toThrow(/configdrive must be a string/);
  });
});
