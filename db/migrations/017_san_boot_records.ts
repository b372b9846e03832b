// Boot from volume: a boot record may say "sanboot this iSCSI volume" (db/boot-records.ts SanBoot);
// what it boots (SAN URIs, initiator, CHAP) is one JSON column, null for the ramdisk's records.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('boot_records', (t) => {
    t.text('san');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('boot_records', (t) => {
    t.dropColumn('san');
  });
}
