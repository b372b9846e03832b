// BIOS settings cached from a node's BMC, one row a setting (Ironic's bios_settings table), with
// the attribute registry's fields (API 1.74). Written by the conductor (the bios interface), read
// by GET /v1/nodes/{id}/bios.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('bios_settings', (t) => {
    t.integer('node_id').notNullable().references('nodes.id').onDelete('CASCADE');
    t.string('name', 255).notNullable();
    t.text('value');
    t.string('attribute_type', 255);
    t.text('allowable_values');
    t.bigInteger('lower_bound');
    t.bigInteger('upper_bound');
    t.integer('min_length');
    t.integer('max_length');
    t.boolean('read_only');
    t.boolean('reset_required');
    t.boolean('unique');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
    t.primary(['node_id', 'name']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('bios_settings');
}
