// Inspection rules (API 1.96): conditions and actions kept as JSON lists, run by phase and priority.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('inspection_rules', (t) => {
    t.increments('id').primary();
    t.string('uuid', 36).notNullable().unique();
    t.string('description', 255);
    t.integer('priority').notNullable().defaultTo(0);
    t.string('phase', 16).notNullable().defaultTo('main').index();
    t.boolean('sensitive').notNullable().defaultTo(false);
    t.text('conditions').notNullable();
    t.text('actions').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('inspection_rules');
}
