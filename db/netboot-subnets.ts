// netboot_subnets: the netboot role's subnets created through the API (beside those of its config
// file). The definition is the validated subnet, kept as JSON.
import type { Knex } from 'knex';
import { fromJson, now, toJson } from './index.ts';

export async function storedSubnets<T extends { name: string }>(knex: Knex): Promise<T[]> {
  const rows = await knex('netboot_subnets').orderBy('name');
  return rows.map((r: { definition: string }) => fromJson<T>(r.definition, {} as T));
}

export async function storeSubnet(knex: Knex, subnet: { name: string }): Promise<void> {
  await knex('netboot_subnets').insert({ name: subnet.name, definition: toJson(subnet), created_at: now() });
}

/** False when there was no subnet of that name. */
export async function deleteStoredSubnet(knex: Knex, name: string): Promise<boolean> {
  return (await knex('netboot_subnets').where({ name }).del()) > 0;
}
