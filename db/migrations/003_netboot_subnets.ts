// Subnets of the netboot role created through the API (beside those of the config file); the
// definition is the validated subnet as JSON.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('netboot_subnets', (t) => {
    t.string('name', 255).primary();
    t.text('definition').notNullable();
    t.bigInteger('created_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('netboot_subnets');
}
