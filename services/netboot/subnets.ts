// Subnets come from two places: the config file (`netboot.subnets`) and the API (table
// netboot_subnets). Both are validated together, so an API subnet never overlaps a configured one.
import type { AnvilConfig } from '../../common/config.ts';
import { Conflict, InvalidInput, NotFound } from '../../common/errors.ts';
import type { Database } from '../../db/index.ts';
import { deleteStoredSubnet, storedSubnets, storeSubnet } from '../../db/netboot-subnets.ts';
import { parseSubnets, type SubnetConfig } from './config.ts';

/** Notified when API subnets change, so running netboot roles reload them at once. */
export const SUBNETS_CHANNEL = 'anvil_netboot_subnets';

/** The config file's subnets (none when the netboot section has none). */
export function configuredSubnets(config: AnvilConfig): SubnetConfig[] {
  const raw = (config.netboot as { subnets?: unknown } | undefined)?.subnets;
  return raw === undefined ? [] : parseSubnets(raw, 'netboot.subnets');
}

export async function apiSubnets(db: Database): Promise<SubnetConfig[]> {
  return storedSubnets<SubnetConfig>(db.knex);
}

export async function addSubnet(db: Database, config: AnvilConfig, input: Record<string, unknown>): Promise<SubnetConfig> {
  const [subnet] = parseSubnets([input], 'subnet');
  // The DHCP server binds to its direct link when it starts: that one lives in the config file.
  if (subnet.direct) throw new InvalidInput(`subnet ${subnet.name}: a subnet added through the API must be relayed ("direct": false); the direct link is set in the config file`);
  const existing = [...configuredSubnets(config), ...(await apiSubnets(db))];
  if (existing.some((s) => s.name === subnet.name)) throw new Conflict(`A subnet named "${subnet.name}" already exists`);
  parseSubnets([...existing, subnet], 'subnets');
  await storeSubnet(db.knex, subnet);
  await db.notify(SUBNETS_CHANNEL, subnet.name);
  return subnet;
}

export async function removeSubnet(db: Database, config: AnvilConfig, name: string): Promise<void> {
  if (configuredSubnets(config).some((s) => s.name === name)) throw new InvalidInput(`Subnet "${name}" comes from the config file; remove it there`);
  if (!(await deleteStoredSubnet(db.knex, name))) throw new NotFound(`Subnet ${name} could not be found.`);
  await db.notify(SUBNETS_CHANNEL, name);
}
