// Boot records: what each MAC boots from the network now, written by the node's boot interface and
// only read by the netboot role (db/boot-records.ts).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('boot_records', (t) => {
    t.string('mac', 59).primary();
    t.integer('node_id').references('nodes.id').onDelete('CASCADE');
    t.integer('port_id').references('ports.id').onDelete('CASCADE');
    t.string('node_uuid', 36);
    t.string('kind', 32).notNullable();
    t.string('purpose', 16).notNullable();
    t.text('kernel');
    t.text('initrd');
    t.text('kernel_args').notNullable().defaultTo('');
    t.text('ipxe_script');
    t.text('boot_file');
    t.bigInteger('expires_at');
    t.bigInteger('created_at').notNullable();
    t.index(['node_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('boot_records');
}
