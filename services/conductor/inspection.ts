// Applying what an inspection found (drivers' InspectionResult) to the locked node: the `early`
// inspection rules first, then the hooks (inspection-hooks.ts) over what the inspect interface
// found: properties and capabilities merged, a port for each new MAC (inspection.addPorts), the LLDP
// neighbour and physical network filled into the node's existing ports, ports removed as
// inspection.keepPorts says; then the `main` rules, and last the inventory and plugin data (as the
// rules left it) stored for GET /v1/nodes/{id}/inventory. In-band and out-of-band alike.
import { withCapabilities } from '../../common/capabilities.ts';
import { inventoryOfNode, saveInventory } from '../../db/inventory.ts';
import { normalizeMac } from '../../common/mac.ts';
import { createPort, deletePort, findPortByAddress, portsOfNode, updatePort } from '../../db/ports.ts';
import { portsToRemove, runHooks } from './inspection-hooks.ts';
import type { InspectionResult } from '../../drivers/interfaces.ts';
import type { NodeTask } from './context.ts';
import { applyInspectionRules } from './inspection-rules.ts';

export async function applyInspection(ctx: NodeTask, result: InspectionResult): Promise<void> {
  const knex = ctx.knex;
  const inventory = result.inventory ?? {};
  const pluginData = structuredClone(result.plugin_data ?? {});
  await applyInspectionRules(ctx, 'early', inventory, pluginData);
  const config = ctx.config.inspection;
  const previous = config.hooks.includes('raid-device') ? (await inventoryOfNode(knex, ctx.node.id))?.inventory : undefined;
  const hooked = runHooks({ node: ctx.node, inventory, pluginData, previousInventory: previous, config }, result);
  for (const note of hooked.notes) await ctx.note(note);
  if (Object.keys(hooked.properties).length || Object.keys(hooked.capabilities).length) {
    const properties = { ...ctx.node.properties, ...hooked.properties };
    if (Object.keys(hooked.capabilities).length) properties.capabilities = withCapabilities(ctx.node.properties.capabilities, hooked.capabilities);
    await ctx.save({ properties });
  }
  const created: string[] = [];
  const linked: string[] = [];
  for (const port of hooked.ports) {
    const address = normalizeMac(port.address);
    const existing = await findPortByAddress(knex, address);
    if (existing) {
      // As Ironic's local_link_connection hook: only keys the port lacks are filled, so a value
      // an operator set is never replaced. A port of another node is left alone.
      if (existing.node_id !== ctx.node.id) continue;
      const found = Object.entries(port.local_link_connection ?? {}).filter(([key]) => !(key in existing.local_link_connection));
      const physnet = port.physical_network !== undefined && port.physical_network !== existing.physical_network ? { physical_network: port.physical_network } : {};
      if (found.length === 0 && !('physical_network' in physnet)) continue;
      await updatePort(knex, existing.id, { ...physnet, ...(found.length ? { local_link_connection: { ...existing.local_link_connection, ...Object.fromEntries(found) } } : {}) });
      if (found.length) linked.push(address);
      continue;
    }
    await createPort(knex, {
      node_id: ctx.node.id,
      address,
      pxe_enabled: port.pxe_enabled ?? true,
      local_link_connection: port.local_link_connection ?? {},
      physical_network: port.physical_network ?? null,
    });
    created.push(address);
  }
  if (created.length > 0) await ctx.note(`Inspection created ports ${created.join(', ')}`);
  if (linked.length > 0) await ctx.note(`Inspection filled local_link_connection from LLDP on ports ${linked.join(', ')}`);
  if (config.keepPorts !== 'all') {
    const ports = await portsOfNode(knex, ctx.node.id);
    const removed = portsToRemove(config.keepPorts, inventory, hooked.ports, ports.map((p) => p.address));
    for (const port of ports.filter((p) => removed.includes(p.address))) await deletePort(knex, port.id);
    if (removed.length) await ctx.note(`Inspection removed ports ${removed.join(', ')} (inspection.keepPorts is "${config.keepPorts}")`);
  }
  await applyInspectionRules(ctx, 'main', inventory, pluginData);
  if (result.inventory) await saveInventory(knex, ctx.node.id, { inventory: result.inventory, plugin_data: pluginData });
}
