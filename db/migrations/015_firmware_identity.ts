// API 1.114: each firmware component also says what it is (vendor, model, serial number), so a
// NIC's firmware can be matched to the images meant for that adapter.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('firmware_components', (t) => {
    t.string('vendor', 255);
    t.string('model', 255);
    t.string('serial_number', 255);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('firmware_components', (t) => {
    t.dropColumn('vendor');
    t.dropColumn('model');
    t.dropColumn('serial_number');
  });
}
