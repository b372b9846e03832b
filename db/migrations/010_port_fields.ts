// API 1.102-1.111: a port group's physical_network and category, dynamic port groups (a port may
// be left out of them, a group says whether it is one), and a node's health as its BMC reports it.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('portgroups', (t) => {
    t.string('physical_network', 64);
    t.string('category', 80);
    t.boolean('dynamic_portgroup').notNullable().defaultTo(false);
  });
  await knex.schema.alterTable('ports', (t) => {
    t.boolean('available_for_dynamic_portgroup').notNullable().defaultTo(true);
  });
  await knex.schema.alterTable('nodes', (t) => {
    t.string('health', 16);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('nodes', (t) => t.dropColumn('health'));
  await knex.schema.alterTable('ports', (t) => t.dropColumn('available_for_dynamic_portgroup'));
  await knex.schema.alterTable('portgroups', (t) => {
    t.dropColumn('dynamic_portgroup');
    t.dropColumn('category');
    t.dropColumn('physical_network');
  });
}
