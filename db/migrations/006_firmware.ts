// Firmware components read from a node's BMC (Ironic's firmware_information table): the version
// first seen, the one running now and the last one flashed by firmware.update (API 1.86).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('firmware_components', (t) => {
    t.integer('node_id').notNullable().references('nodes.id').onDelete('CASCADE');
    t.string('component', 255).notNullable();
    t.string('initial_version', 255).notNullable();
    t.string('current_version', 255);
    t.string('last_version_flashed', 255);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
    t.primary(['node_id', 'component']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('firmware_components');
}
