// Volume connectors and targets (API 1.32): how a node reaches remote storage (its initiator IQN,
// WWPNs, MACs...) and the volumes it uses, one of them its boot volume (boot_index 0).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('volume_connectors', (t) => {
    t.increments('id').primary();
    t.string('uuid', 36).notNullable().unique();
    t.integer('node_id').notNullable().references('nodes.id').onDelete('CASCADE').index();
    t.string('type', 32).notNullable();
    t.string('connector_id', 255).notNullable();
    t.text('extra').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
    t.unique(['type', 'connector_id']);
  });
  await knex.schema.createTable('volume_targets', (t) => {
    t.increments('id').primary();
    t.string('uuid', 36).notNullable().unique();
    t.integer('node_id').notNullable().references('nodes.id').onDelete('CASCADE').index();
    t.string('volume_type', 64).notNullable();
    t.text('properties').notNullable();
    t.integer('boot_index').notNullable();
    t.string('volume_id', 36).notNullable();
    t.text('extra').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
    t.unique(['node_id', 'boot_index']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('volume_targets');
  await knex.schema.dropTableIfExists('volume_connectors');
}
