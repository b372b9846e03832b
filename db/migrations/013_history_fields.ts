// API 1.113 and 1.115: who asked (the request's project) and where the node stood when a history
// event was written: its provision state, target, and the seconds it had spent in that state.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('node_history', (t) => {
    t.string('project', 255);
    t.string('state', 32);
    t.string('target_provision_state', 32);
    t.integer('duration_seconds');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('node_history', (t) => {
    for (const c of ['duration_seconds', 'target_provision_state', 'state', 'project']) t.dropColumn(c);
  });
}
