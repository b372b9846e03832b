// A node's `conductor` is the hash ring's owner of the node, computed from the alive conductors
// when the API shows it (as Ironic does), so the column that recorded the last locker goes.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Plain ALTER TABLE on both back ends (SQLite >= 3.35): knex's SQLite helper would copy the table.
  await knex.raw('ALTER TABLE nodes DROP COLUMN conductor');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('nodes', (t) => {
    t.string('conductor', 255);
  });
}
