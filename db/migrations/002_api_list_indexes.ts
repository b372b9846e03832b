// Indexes for the API's list filters and sub-resource look-ups that 001 lacks.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('nodes', (t) => {
    t.index(['driver']);
    t.index(['owner']);
    t.index(['chassis_id']);
    t.index(['parent_node']);
    t.index(['allocation_id']);
  });
  await knex.schema.alterTable('ports', (t) => {
    t.index(['portgroup_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('ports', (t) => {
    t.dropIndex(['portgroup_id']);
  });
  await knex.schema.alterTable('nodes', (t) => {
    t.dropIndex(['driver']);
    t.dropIndex(['owner']);
    t.dropIndex(['chassis_id']);
    t.dropIndex(['parent_node']);
    t.dropIndex(['allocation_id']);
  });
}
