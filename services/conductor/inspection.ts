// Applying what an inspection found (drivers' InspectionResult) to the locked node: the `early`
// inspection rules first, then properties merged, a port for each new MAC and the LLDP neighbour
// filled into the node's existing ports, then the `main` rules, and last the inventory and plugin
// data (as the rules left it) stored for GET /v1/nodes/{id}/inventory. In-band and out-of-band alike.
import { saveInventory } from '../../db/inventory.ts';
import { normalizeMac } from '../../common/mac.ts';
import { createPort, findPortByAddress, updatePort } from '../../db/ports.ts';
import type { InspectionResult } from '../../drivers/interfaces.ts';
import type { NodeTask } from './context.ts';
import { applyInspectionRules } from './inspection-rules.ts';

export async function applyInspection(ctx: NodeTask, result: InspectionResult): Promise<void> {
  const knex = ctx.knex;
  const inventory = result.inventory ?? {};
  const pluginData = structuredClone(result.plugin_data ?? {});
  await applyInspectionRules(ctx, 'early', inventory, pluginData);
  if (result.properties) await ctx.save({ properties: { ...ctx.node.properties, ...result.properties } });
  const created: string[] = [];
  const linked: string[] = [];
  for (const port of result.ports ?? []) {
    const address = normalizeMac(port.address);
    const existing = await findPortByAddress(knex, address);
    if (existing) {
      // As Ironic's local_link_connection hook: only keys the port lacks are filled, so a value
      // an operator set is never replaced. A port of another node is left alone.
      if (existing.node_id !== ctx.node.id) continue;
      const found = Object.entries(port.local_link_connection ?? {}).filter(([key]) => !(key in existing.local_link_connection));
      if (found.length === 0) continue;
      await updatePort(knex, existing.id, { local_link_connection: { ...existing.local_link_connection, ...Object.fromEntries(found) } });
      linked.push(address);
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
  await applyInspectionRules(ctx, 'main', inventory, pluginData);
  if (result.inventory) await saveInventory(knex, ctx.node.id, { inventory: result.inventory, plugin_data: pluginData });
}
