// The conductor never powers off a node with disable_power_off (Ironic's node_power_action), even
// when a power-off request reaches it without the API's check; a reboot still works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getNodeById } from '../../../db/nodes.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { eventually, fakeNode, requestPower, startConductor } from './helpers.ts';

describe.each(BACKENDS)('disable_power_off in the conductor on %s', (backend) => {
  let t: TestDatabase;
  let conductor: Conductor;
  beforeAll(async () => {
    t = await createTestDatabase(backend);
    conductor = await startConductor(t.db, `dpo-${backend}`);
  });
  afterAll(async () => {
    await conductor.stop();
    await t.drop();
  });

  const settled = (id: number) => eventually(async () => {
    const n = (await getNodeById(t.db.knex, id))!;
    return n.target_power_state === null && n.reservation === null ? n : undefined;
  });

  it('refuses a recorded power off with a clear last_error, and reboots', async () => {
    const node = await fakeNode(t.db, { provision_state: 'manageable', power_state: 'power on', disable_power_off: true });
    await requestPower(t.db, node, 'power off');
    let n = await settled(node.id);
    expect(n.power_state).toBe('power on');
    expect(n.last_error).toContain(`Refusing to power off node ${node.uuid}: disable_power_off is set`);
    await requestPower(t.db, node, 'rebooting');
    n = await settled(node.id);
    expect(n.power_state).toBe('power on');
    expect(n.last_error).toBeNull();
  });
});
