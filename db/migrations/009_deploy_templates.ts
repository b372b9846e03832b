// Deploy templates (API 1.55): named lists of deploy steps, matched at deploy time against the
// instance's traits. Steps are kept as one JSON list, as runbooks keep theirs.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('deploy_templates', (t) => {
    t.increments('id').primary();
    t.string('uuid', 36).notNullable().unique();
    t.string('name', 255).notNullable().unique();
    t.text('steps').notNullable();
    t.text('extra').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('deploy_templates');
}
