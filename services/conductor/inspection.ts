// Applying what an inspection found (drivers' InspectionResult) to the locked node: properties
// merged, the inventory stored for GET /v1/nodes/{id}/inventory, and a port for each new MAC.
import { saveInventory } from '../../db/inventory.ts';
import { normalizeMac } from '../../common/mac.ts';
import { createPort, findPortByAddress } from '../../db/ports.ts';
import type { InspectionResult } from '../../drivers/interfaces.ts';
import type { NodeTask } from './context.ts';

export async function applyInspection(ctx: NodeTask, result: InspectionResult): Promise<void> {
  const knex = ctx.knex;
  if (result.properties) await ctx.save({ properties: { ...ctx.node.properties, ...result.properties } });
  if (result.inventory) await saveInventory(knex, ctx.node.id, { inventory: result.inventory, plugin_data: result.plugin_data ?? {} });
  const created: string[] = [];
  for (const port of result.ports ?? []) {
    const address = normalizeMac(port.address);
    if (await findPortByAddress(knex, address)) continue;
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
}
