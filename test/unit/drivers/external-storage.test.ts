// The `external` storage interface read on its own: which node boots a volume (Ironic's
// should_write_image), the iSCSI boot volume it reads from a target's properties (portal forms,
// multipath lists, LUN as a string, CHAP), the validation messages, and the iPXE URIs and SAN boot
// records the network boot interfaces write from it.
import { describe, expect, it } from 'vitest';
import type { NodeRecord } from '../../../db/nodes.ts';
import type { PortRecord } from '../../../db/ports.ts';
import type { VolumeConnectorRecord, VolumeTargetRecord } from '../../../db/volumes.ts';
import type { NodeVolumes } from '../../../drivers/interfaces.ts';
import { iscsiSanUrls, sanBootRecords } from '../../../drivers/pxe/index.ts';
import { externalStorage } from '../../../drivers/storage/external.ts';
import { nodeStorage } from '../../../drivers/storage/node-storage.ts';
import { getImplementation } from '../../../drivers/registry.ts';

const UUID = '0b4f6a3c-9d55-4a57-9a4e-3c2f1d0e8a11';
const node = (fields: Partial<NodeRecord> = {}) => ({ uuid: UUID, boot_interface: 'ipxe', instance_info: {}, ...fields }) as NodeRecord;
const target = (properties: Record<string, unknown>, fields: Partial<VolumeTargetRecord> = {}) =>
  ({ uuid: 'tgt-0', volume_type: 'iscsi', boot_index: 0, volume_id: 'v0', properties, ...fields }) as VolumeTargetRecord;
const iqnConnector = { uuid: 'con-0', type: 'iqn', connector_id: 'iqn.2026-12.org.anvil:n0' } as VolumeConnectorRecord;
const volumes = (t: VolumeTargetRecord[], c: VolumeConnectorRecord[] = [iqnConnector]): NodeVolumes => ({ targets: t, connectors: c });
const BASE = { target_iqn: 'iqn.2026-12.org.example:lun', target_portal: '192.0.2.20:3260', target_lun: 1 };
const failure = (reason: string) => `Failed to validate external storage interface for node ${UUID}. ${reason}`;

function validate(n: NodeRecord, v: NodeVolumes): void {
  externalStorage.validate(n, [], nodeStorage(externalStorage, n, v));
}

describe('external storage interface', () => {
  it('is offered to every hardware type, beside noop', () => {
    expect(getImplementation('storage', 'external')).toBe(externalStorage);
  });

  it('boots a volume only when there is a boot_index 0 target and no image to write (Ironic\'s should_write_image)', () => {
    expect(externalStorage.shouldWriteImage!(node(), volumes([target(BASE)]))).toBe(false);
    expect(externalStorage.shouldWriteImage!(node(), volumes([target(BASE, { boot_index: 1 })]))).toBe(true);
    expect(externalStorage.shouldWriteImage!(node({ instance_info: { image_source: 'http://x/i.qcow2' } }), volumes([target(BASE)]))).toBe(true);
  });

  it('reads the boot volume: portal forms, default port, multipath lists, a LUN given as text, CHAP', () => {
    expect(externalStorage.bootVolume!(node(), volumes([target(BASE)]))).toEqual({
      target: 'tgt-0', portals: [{ host: '192.0.2.20', port: 3260 }], iqn: BASE.target_iqn, lun: 1, initiatorIqn: 'iqn.2026-12.org.anvil:n0', chap: null,
    });
    const multipath = externalStorage.bootVolume!(node(), volumes([target({
      target_iqns: ['iqn.2026-12.org.example:a', 'iqn.2026-12.org.example:b'], target_portals: ['storage.example', '[2001:db8::5]:3261'], target_luns: ['4', '4'],
      auth_method: 'CHAP', auth_username: 'u', auth_password: 'Secret-1',
    })]));
    expect(multipath).toMatchObject({ iqn: 'iqn.2026-12.org.example:a', lun: 4, portals: [{ host: 'storage.example', port: null }, { host: '[2001:db8::5]', port: 3261 }], chap: { username: 'u', password: 'Secret-1' } });
    expect(iscsiSanUrls(multipath)).toEqual(['iscsi:storage.example:::4:iqn.2026-12.org.example:a', 'iscsi:[2001:db8::5]::3261:4:iqn.2026-12.org.example:a']);
  });

  it('writes one SAN boot record per PXE-enabled port', () => {
    const volume = externalStorage.bootVolume!(node(), volumes([target(BASE)]));
    const ports = [{ id: 1, address: '52:54:00:00:00:01', pxe_enabled: true }, { id: 2, address: '52:54:00:00:00:02', pxe_enabled: false }] as PortRecord[];
    expect(sanBootRecords(ports, volume)).toEqual([{
      kind: 'san', mac: '52:54:00:00:00:01', portId: 1, sanUrls: [`iscsi:192.0.2.20::3260:1:${BASE.target_iqn}`], initiatorIqn: 'iqn.2026-12.org.anvil:n0', chap: null, volumeTarget: 'tgt-0', expiresAt: null,
    }]);
  });

  it('refuses what it cannot boot, naming the target, the property or the connector, never the secret', () => {
    const cases: [NodeRecord, NodeVolumes, string][] = [
      [node(), volumes([]), 'No volume target with boot_index 0 is configured for the node: it is the volume the node boots.'],
      [node(), volumes([target(BASE, { volume_type: 'fibre_channel' })]), "Volume target tgt-0 is of an unknown type 'fibre_channel'. Supported types: 'iscsi'."],
      [node(), volumes([target(BASE)], []), "Volume target tgt-0 is configured for 'iscsi', however no iSCSI connectors are configured for the node."],
      [node({ boot_interface: 'http' }), volumes([target(BASE)]), 'The boot interface must be set to ``ipxe`` to support network booting to an iSCSI volume; it is "http".'],
      [node(), volumes([target({ ...BASE, target_iqn: undefined })]), 'The iSCSI name of volume target tgt-0 (properties.target_iqn) is missing.'],
      [node(), volumes([target({ ...BASE, target_lun: 'one' })]), 'Volume target tgt-0 needs properties.target_lun, the LUN to boot (an integer), got "one".'],
      [node(), volumes([target({ ...BASE, target_portal: undefined })]), 'Volume target tgt-0 needs properties.target_portal, the address (host:port) of the iSCSI target.'],
      [node(), volumes([target({ ...BASE, target_portal: '192.0.2.20:99999' })]), 'Volume target tgt-0 has an invalid target_portal "192.0.2.20:99999": use host, host:port or [IPv6]:port.'],
      [node(), volumes([target({ ...BASE, auth_method: 'kerberos' })]), 'Volume target tgt-0 has auth_method "kerberos": iSCSI boot supports CHAP only.'],
      [node(), volumes([target({ ...BASE, auth_method: 'CHAP', auth_username: 'u' })]), 'The CHAP secret (properties.auth_password) of volume target tgt-0 is missing.'],
      [node(), volumes([target({ ...BASE, auth_username: 'u', auth_password: 'has space$' })]), 'The CHAP secret (properties.auth_password) of volume target tgt-0 holds characters an iPXE script cannot carry (whitespace, $ | & quotes or backslashes).'],
      [node({ instance_info: { image_source: 'http://x/i.qcow2' } }), volumes([target(BASE)]), 'instance_info.image_source is set, but the node boots its volume target tgt-0: Anvil writes no image onto a volume (unset image_source to boot the volume as it is).'],
    ];
    for (const [n, v, reason] of cases) expect(() => validate(n, v), reason).toThrow(failure(reason));
    expect(() => validate(node(), volumes([target({ ...BASE, auth_method: 'CHAP', auth_username: 'u', auth_password: 'Good-Secret_1' })]))).not.toThrow();
  });
});
