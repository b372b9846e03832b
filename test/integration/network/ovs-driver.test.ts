// The OVS switch driver against a real Open vSwitch (private ovsdb-server + ovs-vswitchd on the
// userspace datapath): access VLANs, trunks, an LACP bond made and undone, all read back with
// ovs-vsctl; a batch the database refuses (a VLAN out of range) changes nothing; an unknown port
// and an unreachable switch are refused naming the switch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonStreamSplitter } from '../../../drivers/ovs/codec.ts';
import { ovsSwitch } from '../../../drivers/ovs/index.ts';
import type { SwitchDriver } from '../../../drivers/switch/types.ts';
import { startOvs, type TestOvs } from '../../helpers/ovs.ts';

describe('OVS switch driver', () => {
  let ovs: TestOvs;
  let sw: SwitchDriver;
  let br: string;
  const p = (n: number) => `nt${ovs.tag}d${n}`;

  beforeAll(async () => {
    ovs = await startOvs();
    br = `nt${ovs.tag}br`;
    await ovs.addBridge(br);
    for (const n of [1, 2, 3]) await ovs.addHost(`nt${ovs.tag}h${n}`, p(n), br);
    sw = ovsSwitch({ name: 'leaf-ovs', driver: 'ovs', options: { socket: ovs.socket, bridge: br } });
  }, 60_000);
  afterAll(async () => {
    await sw?.close?.();
    await ovs?.stop();
  });

  const get = async (port: string, col: string) => (await ovs.vsctl('get', 'port', port, col)).trim();

  it('sets access VLANs and trunks, makes an LACP bond and undoes it', async () => {
    await sw.apply({ ports: [{ port: p(1), vlans: { untagged: 101, tagged: [] } }, { port: p(2), vlans: { untagged: null, tagged: [201, 202] } }, { port: p(3), vlans: { untagged: 7, tagged: [8] } }], bonds: [] }, undefined);
    expect([await get(p(1), 'tag'), await get(p(2), 'trunks'), await get(p(2), 'vlan_mode'), await get(p(3), 'vlan_mode')]).toEqual(['101', '[201, 202]', 'trunk', 'native-untagged']);

    await sw.apply({ ports: [], bonds: [{ name: `nt${ovs.tag}b0`, members: [p(1), p(2)], lacp: true, vlans: { untagged: 300, tagged: [] } }] }, undefined);
    const bond = `nt${ovs.tag}b0`;
    expect(await get(bond, 'lacp')).toBe('active');
    expect(await get(bond, 'bond_mode')).toBe('balance-tcp');
    expect(await get(bond, 'tag')).toBe('300');
    expect((await ovs.vsctl('list-ports', br)).split('\n').sort()).toEqual([p(3), bond].sort());
    expect((await ovs.vsctl('list-ifaces', br)).split('\n').sort()).toEqual([p(1), p(2), p(3)].sort());

    await sw.apply({ ports: [{ port: p(1), vlans: { untagged: 110, tagged: [] } }, { port: p(2), vlans: { untagged: 110, tagged: [] } }], bonds: [] }, undefined);
    expect((await ovs.vsctl('list-ports', br)).split('\n').sort()).toEqual([p(1), p(2), p(3)].sort());
    expect([await get(p(1), 'tag'), await get(p(2), 'tag'), await get(p(1), 'trunks')]).toEqual(['110', '110', '[]']);
  });

  it('applies a batch whole or not at all', async () => {
    const before = [await get(p(1), 'tag'), await get(p(2), 'tag')];
    // The database refuses tag 5000 (0..4095): the whole transaction, p(1)'s change with it.
    await expect(sw.apply({ ports: [{ port: p(1), vlans: { untagged: 120, tagged: [] } }, { port: p(2), vlans: { untagged: 5000, tagged: [] } }], bonds: [] }, undefined))
      .rejects.toThrow(/switch leaf-ovs: .*nothing changed: transaction refused/);
    expect([await get(p(1), 'tag'), await get(p(2), 'tag')]).toEqual(before);
    await expect(sw.apply({ ports: [{ port: p(1), vlans: { untagged: 120, tagged: [] } }, { port: 'nt-nowhere', vlans: { untagged: 120, tagged: [] } }], bonds: [] }, undefined))
      .rejects.toThrow('switch leaf-ovs port nt-nowhere: is not a port of this switch');
    expect(await get(p(1), 'tag')).toBe(before[0]);
  });

  it('names the switch when it cannot be reached', async () => {
    const dead = ovsSwitch({ name: 'leaf-dead', driver: 'ovs', options: { socket: `unix:${ovs.dir}/no-such.sock`, bridge: br, timeout: 2 } });
    await expect(dead.apply({ ports: [{ port: p(1), vlans: { untagged: 1, tagged: [] } }], bonds: [] }, undefined)).rejects.toThrow(/switch leaf-dead: \(ovs at unix:.*no-such.sock, bridge .*\) changing nt.*, nothing changed: cannot reach OVSDB/);
  });

  it('splits a stream of back-to-back JSON messages, whatever the chunks', () => {
    const text = '{"id":1,"result":[{"rows":[{"name":"a}\\"["}]}]}  {"id":null,"method":"echo","params":[]}';
    for (const size of [1, 3, 7, text.length]) {
      const s = new JsonStreamSplitter();
      const out = [];
      for (let i = 0; i < text.length; i += size) out.push(...s.push(text.slice(i, i + size)));
      expect(out.map((m) => m.id)).toEqual([1, null]);
      expect((out[0].result as any)[0].rows[0].name).toBe('a}"[');
    }
  });
});
