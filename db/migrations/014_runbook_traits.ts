// API 1.112: a runbook's description, and the traits that approve it for a node (a node may run
// the runbook when it carries any of them), replacing the runbook's name as that trait.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('runbooks', (t) => {
    t.string('description', 255);
  });
  await knex.schema.createTable('runbook_traits', (t) => {
    t.integer('runbook_id').notNullable().references('runbooks.id').onDelete('CASCADE');
    t.string('trait', 255).notNullable();
    t.primary(['runbook_id', 'trait']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('runbook_traits');
  await knex.schema.alterTable('runbooks', (t) => t.dropColumn('description'));
}
