// Runbooks (API 1.92): named, ordered lists of clean/service steps an operator approves for nodes
// that carry the runbook's name as a trait. Steps are kept as one JSON list.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('runbooks', (t) => {
    t.increments('id').primary();
    t.string('uuid', 36).notNullable().unique();
    t.string('name', 255).notNullable().unique();
    t.text('steps').notNullable();
    t.boolean('disable_ramdisk').notNullable().defaultTo(false);
    t.boolean('public').notNullable().defaultTo(false);
    t.string('owner', 255);
    t.text('extra').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('runbooks');
}
