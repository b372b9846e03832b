// The SSH CLI switch driver's ovs dialect (ovs-vsctl over SSH) for real: Debian's sshd on
// 127.0.0.1 with generated keys, driving the test's Open vSwitch. Access VLANs, a trunk and an
// LACP bond, read back from OVS, with traffic on the access VLAN; then the faults: a key the
// switch refuses, a command it rejects, each failing naming the switch with nothing changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshSwitch } from '../../../drivers/ssh-switch/index.ts';
import type { SwitchDriver } from '../../../drivers/switch/types.ts';
import { startOvs, type TestOvs } from '../../helpers/ovs.ts';
import { startSshd, type TestSshd } from '../../helpers/sshd.ts';

describe('SSH switch driver, ovs dialect, against sshd and Open vSwitch', () => {
  let ovs: TestOvs;
  let sshd: TestSshd;
  let sw: SwitchDriver;
  let br: string;
  const p = (n: number) => `nt${ovs.tag}s${n}`;
  const options = (extra: Record<string, unknown> = {}) => ({
    dialect: 'ovs', host: '127.0.0.1', port: sshd.port, username: 'root', privateKeyFile: sshd.keyFile, hostKeySha256: sshd.hostKeySha256,
    bridge: br, vsctl: `ovs-vsctl --db=${ovs.socket}`, timeout: 20, ...extra,
  });
  const get = async (port: string, col: string) => (await ovs.vsctl('get', 'port', port, col)).trim();

  beforeAll(async () => {
    ovs = await startOvs();
    sshd = await startSshd();
    br = `nt${ovs.tag}br`;
    await ovs.addBridge(br);
    for (const n of [1, 2, 3]) await ovs.addHost(`nt${ovs.tag}m${n}`, p(n), br, `10.89.0.${n}/24`);
    sw = sshSwitch({ name: 'leaf-ssh', driver: 'ssh', options: options() }, 4094);
  }, 60_000);
  afterAll(async () => {
    await sw?.close?.();
    await sshd?.stop();
    await ovs?.stop();
  });

  it('sets access VLANs (traffic flows only within one), a trunk, and an LACP bond', async () => {
    await sw.apply({ ports: [{ port: p(1), vlans: { untagged: 301, tagged: [] } }, { port: p(2), vlans: { untagged: 301, tagged: [] } }, { port: p(3), vlans: { untagged: 302, tagged: [] } }], bonds: [] }, undefined);
    expect([await get(p(1), 'tag'), await get(p(2), 'tag'), await get(p(3), 'tag')]).toEqual(['301', '301', '302']);
    expect(await ovs.ping(`nt${ovs.tag}m1`, '10.89.0.2')).toBe(true);
    expect(await ovs.ping(`nt${ovs.tag}m3`, '10.89.0.1', 3)).toBe(false);

    await sw.apply({ ports: [{ port: p(3), vlans: { untagged: null, tagged: [401, 402] } }], bonds: [{ name: `nt${ovs.tag}sb`, members: [p(1), p(2)], lacp: true, vlans: { untagged: 303, tagged: [] } }] }, undefined);
    expect([await get(p(3), 'trunks'), await get(p(3), 'vlan_mode')]).toEqual(['[401, 402]', 'trunk']);
    const bond = `nt${ovs.tag}sb`;
    expect([await get(bond, 'lacp'), await get(bond, 'bond_mode'), await get(bond, 'tag')]).toEqual(['active', 'balance-tcp', '303']);
    expect((await ovs.vsctl('list-ports', br)).split('\n').sort()).toEqual([p(3), bond].sort());

    await sw.apply({ ports: [{ port: p(1), vlans: { untagged: 310, tagged: [] } }, { port: p(2), vlans: { untagged: 310, tagged: [] } }], bonds: [] }, undefined);
    expect((await ovs.vsctl('list-ports', br)).split('\n').sort()).toEqual([p(1), p(2), p(3)].sort());
    expect([await get(p(1), 'tag'), await get(p(2), 'tag')]).toEqual(['310', '310']);
  });

  it('fails naming the switch when its key is refused, changing nothing', async () => {
    const stranger = sshSwitch({ name: 'leaf-ssh', driver: 'ssh', options: options({ privateKeyFile: sshd.strangerKeyFile }) }, 4094);
    await expect(stranger.apply({ ports: [{ port: p(1), vlans: { untagged: 1, tagged: [] } }], bonds: [] }, undefined))
      .rejects.toThrow(/switch leaf-ssh: \(ssh ovs at 127.0.0.1\) SSH to root@127.0.0.1:\d+ failed: All configured authentication methods failed/);
    await stranger.close?.();
    const wrongHost = sshSwitch({ name: 'leaf-ssh', driver: 'ssh', options: options({ hostKeySha256: 'AAAA' }) }, 4094);
    await expect(wrongHost.apply({ ports: [{ port: p(1), vlans: { untagged: 1, tagged: [] } }], bonds: [] }, undefined)).rejects.toThrow(/switch leaf-ssh: .*SSH to root@127.0.0.1:\d+ failed/);
    await wrongHost.close?.();
    expect(await get(p(1), 'tag')).toBe('310');
  });

  it('fails naming the switch when it rejects the command, and the batch changes nothing', async () => {
    await expect(sw.apply({ ports: [{ port: p(1), vlans: { untagged: 320, tagged: [] } }, { port: p(2), vlans: { untagged: 5000, tagged: [] } }], bonds: [] }, undefined))
      .rejects.toThrow(/switch leaf-ssh: \(ssh ovs at 127.0.0.1\) refused "ovs-vsctl .*": .*5000.*; nothing changed \(one transaction\)/);
    expect([await get(p(1), 'tag'), await get(p(2), 'tag')]).toEqual(['310', '310']);
    expect((await ovs.vsctl('list-ports', br)).split('\n').sort()).toEqual([p(1), p(2), p(3)].sort());
  });
});
