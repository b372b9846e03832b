// The conductor's flows per provision state, with fake hardware, on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getNodeById, updateNode } from '../../../db/nodes.ts';
import { createPort, portsOfNode } from '../../../db/ports.ts';
import { lldpTlvs } from '../../../deploy-agent/inventory.ts';
import { inspectionResult } from '../../../drivers/in-band/inspect.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { fakeNode, history, requestProvision, startConductor, untilState } from './helpers.ts';
import { fakeInspect } from '../../../drivers/fake/index.ts';
import { vi } from 'vitest';

describe.each(BACKENDS)('conductor flows on %s', (backend) => {
  let t: TestDatabase;
  let conductor: Conductor;
  beforeAll(async () => {
    t = await createTestDatabase(backend);
    conductor = await startConductor(t.db, 'flows-1');
  });
  afterAll(async () => {
    await conductor.stop();
    await t.drop();
  });

  it('runs enroll -> manageable -> available -> active -> available, one history line per move', async () => {
    const node = await fakeNode(t.db, { power_state: 'power off' });
    await requestProvision(t.db, node, 'manage');
    let n = await untilState(t.db, node.id, 'manageable');
    expect(n.target_provision_state).toBeNull();
    expect(n.power_state).toBe('power off');
    expect((await history(t.db, node.id)).at(-1)?.conductor).toBe('flows-1');
    await requestProvision(t.db, node, 'provide');
    n = await untilState(t.db, node.id, 'available');
    await requestProvision(t.db, node, 'active');
    n = await untilState(t.db, node.id, 'active');
    expect(n.target_provision_state).toBeNull();
    expect(n.last_error).toBeNull();
    await updateNode(t.db.knex, node.id, { instance_uuid: '8a81d7a7-6a1b-4a53-a7b6-0f3d1f1a5c11', instance_info: { image_source: 'http://x/img.qcow2' } });
    await requestProvision(t.db, node, 'deleted');
    n = await untilState(t.db, node.id, 'available');
    expect(n.instance_uuid).toBeNull();
    expect(n.instance_info).toEqual({});
    const events = (await history(t.db, node.id)).map((h) => h.event);
    expect(events).toEqual([
      'Power and management access verified: "verifying" -> "manageable"',
      'Automated cleaning finished: "cleaning" -> "available"',
      'Deploy finished: "deploying" -> "active"',
      'Instance torn down, cleaning follows: "deleting" -> "cleaning"',
      'Automated cleaning finished: "cleaning" -> "available"',
    ]);
    expect((await history(t.db, node.id)).every((h) => h.conductor === 'flows-1' && h.severity === 'info')).toBe(true);
  });

  it('skips automated cleaning for a node with automated_clean false', async () => {
    const node = await fakeNode(t.db, { provision_state: 'manageable', automated_clean: false, driver_info: { fake_fail: 'clean' } });
    await requestProvision(t.db, node, 'provide');
    await untilState(t.db, node.id, 'available');
    expect((await history(t.db, node.id)).at(-1)!.event).toMatch(/Automated cleaning is disabled/);
  });

  it('runs manual cleaning back to manageable and forgets the steps', async () => {
    const node = await fakeNode(t.db, { provision_state: 'manageable' });
    await requestProvision(t.db, node, 'clean', { steps: [{ interface: 'deploy', step: 'erase_devices' }] });
    const n = await untilState(t.db, node.id, 'manageable');
    expect(n.provision_request).toBeNull();
    expect((await history(t.db, node.id)).at(-1)!.event).toBe('Manual cleaning finished: "cleaning" -> "manageable"');
  });

  it('inspects, merging properties, storing the inventory and creating ports for new MACs', async () => {
    const spy = vi.spyOn(fakeInspect, 'inspect').mockResolvedValueOnce({
      outcome: 'done',
      result: { properties: { cpus: 8, memory_mb: 16384 }, inventory: { interfaces: [] }, ports: [{ address: '52:54:00:AA:BB:0C', local_link_connection: { switch_id: 'aa:bb:cc:dd:ee:ff', port_id: 'Eth1' } }] },
    });
    try {
      const node = await fakeNode(t.db, { provision_state: 'manageable', properties: { local_gb: 100 } });
      await requestProvision(t.db, node, 'inspect');
      const n = await untilState(t.db, node.id, 'manageable');
      expect(n.properties).toEqual({ local_gb: 100, cpus: 8, memory_mb: 16384 });
      expect(n.inspection_started_at).not.toBeNull();
      expect(n.inspection_finished_at).not.toBeNull();
      const ports = await portsOfNode(t.db.knex, node.id);
      expect(ports.map((p) => [p.address, p.local_link_connection.port_id])).toEqual([['52:54:00:aa:bb:0c', 'Eth1']]);
      const inv = await t.db.knex('node_inventory').where({ node_id: node.id }).first();
      expect(JSON.parse(inv.inventory)).toEqual({ interfaces: [] });
    } finally {
      spy.mockRestore();
    }
  });

  it('fills local_link_connection from LLDP on ports enrolled before inspection, never replacing a set value', async () => {
    const node = await fakeNode(t.db, { provision_state: 'manageable' });
    const mac = (n: number) => `52:54:00:4c:${String(node.id % 100).padStart(2, '0')}:0${n}`;
    await createPort(t.db.knex, { node_id: node.id, address: mac(1) });
    await createPort(t.db.knex, { node_id: node.id, address: mac(2), local_link_connection: { switch_id: '00:1c:73:00:00:99', port_id: 'operator-set' } });
    await createPort(t.db.knex, { node_id: node.id, address: mac(3), local_link_connection: { port_id: 'Ethernet9/9' } });
    // What the agent posts: LLDP on the first and third NICs only.
    const result = inspectionResult({
      inventory: {
        interfaces: [
          { name: 'eth0', mac_address: mac(1), lldp: lldpTlvs('00:1c:73:aa:bb:cc', 'Ethernet1/7', 'leaf-3') },
          { name: 'eth1', mac_address: mac(2) },
          { name: 'eth2', mac_address: mac(3), lldp: lldpTlvs('00:1c:73:aa:bb:cc', 'Ethernet1/8', 'leaf-3') },
        ],
      },
    });
    const spy = vi.spyOn(fakeInspect, 'inspect').mockResolvedValueOnce({ outcome: 'done', result });
    try {
      await requestProvision(t.db, node, 'inspect');
      await untilState(t.db, node.id, 'manageable');
      const links = Object.fromEntries((await portsOfNode(t.db.knex, node.id)).map((p) => [p.address, p.local_link_connection]));
      expect(links).toEqual({
        [mac(1)]: { switch_id: '00:1c:73:aa:bb:cc', port_id: 'Ethernet1/7', switch_info: 'leaf-3' },
        [mac(2)]: { switch_id: '00:1c:73:00:00:99', port_id: 'operator-set' },
        // Ironic's hook fills only the keys a port lacks.
        [mac(3)]: { switch_id: '00:1c:73:aa:bb:cc', port_id: 'Ethernet9/9', switch_info: 'leaf-3' },
      });
      expect((await history(t.db, node.id)).map((h) => h.event)).toContain(`Inspection filled local_link_connection from LLDP on ports ${mac(1)}, ${mac(3)}`);
    } finally {
      spy.mockRestore();
    }
  });

  it('parks an inspection that waits for the ramdisk in "inspect wait"', async () => {
    const spy = vi.spyOn(fakeInspect, 'inspect').mockResolvedValueOnce({ outcome: 'wait' });
    try {
      const node = await fakeNode(t.db, { provision_state: 'manageable' });
      await requestProvision(t.db, node, 'inspect');
      const n = await untilState(t.db, node.id, 'inspect wait');
      expect(n.target_provision_state).toBe('manageable');
    } finally {
      spy.mockRestore();
    }
  });

  it('adopts a node', async () => {
    const node = await fakeNode(t.db, { provision_state: 'manageable' });
    await requestProvision(t.db, node, 'adopt');
    await untilState(t.db, node.id, 'active');
  });

  it('fails rescue clearly when the rescue interface cannot rescue', async () => {
    const node = await fakeNode(t.db, { provision_state: 'active' });
    await requestProvision(t.db, node, 'rescue', { rescue_password_hash: '$6$salt$hash' });
    const n = await untilState(t.db, node.id, 'rescue failed');
    expect(n.last_error).toBe('Rescue failed: rescue interface "no-rescue" cannot rescue a node');
    expect(n.target_provision_state).toBe('rescue');
  });

  it('rescues and unrescues with the fake rescue interface, keeping only the hash while rescued', async () => {
    const node = await fakeNode(t.db, { provision_state: 'active', rescue_interface: 'fake' });
    await requestProvision(t.db, node, 'rescue', { rescue_password_hash: '$6$salt$hash' });
    let n = await untilState(t.db, node.id, 'rescue');
    expect(n.instance_info.hashed_rescue_password).toBe('$6$salt$hash');
    await requestProvision(t.db, n, 'unrescue');
    n = await untilState(t.db, node.id, 'active');
    expect(n.instance_info.hashed_rescue_password).toBeUndefined();
  });

  it('fails a node whose driver does not exist, and leaves nodes in stable states alone', async () => {
    const node = await fakeNode(t.db, { driver: 'no-such-hardware', provision_state: 'deploying', target_provision_state: 'active' });
    const n = await untilState(t.db, node.id, 'deploy failed');
    expect(n.last_error).toMatch(/^Cannot load the driver of the node: Cannot load specified driver: no-such-hardware/);
    const idle = await fakeNode(t.db, { provision_state: 'available' });
    await new Promise((r) => setTimeout(r, 500));
    expect((await getNodeById(t.db.knex, idle.id))!.updated_at).toBeNull();
  });
});
