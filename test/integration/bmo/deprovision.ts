// BMO's Deprovision (ironic.go: from active TargetDeleted, automated cleaning to available) and
// Delete (realDelete: an available node with an instance_uuid gets it removed, then nodes.Delete).
import { expect } from 'vitest';
import { untilState, type Host } from './host.ts';
import { nodes, responseCodeIs } from './gophercloud.ts';

export async function deprovision(host: Host): Promise<any> {
  // syncAutomatedClean: automated_clean already true, nothing to PATCH.
  await nodes.changeProvisionState(host.client, host.nodeID!, { target: 'deleted' });
  const node = await untilState(host, 'available', 180_000);
  // Ironic's tear-down clears the instance fields; BMO's realDelete removes instance_uuid itself only when left set.
  expect(node.instance_info).toEqual({});
  return node;
}

export async function deleteHost(host: Host, node: any): Promise<void> {
  if (node.instance_uuid) {
    // SetTopLevelOpt("instance_uuid", nil, ...): a "remove" op.
    const updated = await nodes.update(host.client, host.nodeID!, [{ op: 'remove', path: '/instance_uuid' }]);
    expect(updated.instance_uuid ?? '').toBe('');
  }
  // Available nodes are deleted directly (Ironic's allow_deleting_available_nodes).
  await nodes.delete(host.client, host.nodeID!);
  const err = await nodes.get(host.client, host.nodeID!).then(() => null, (e) => e);
  expect(responseCodeIs(err, 404)).toBe(true);
}
