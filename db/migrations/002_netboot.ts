// DHCP leases of the netboot role, kept in the database so a restart (or another netboot process
// on the same database) loses none. One row per leased address.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('dhcp_leases', (t) => {
    t.string('ip', 15).primary();
    t.string('subnet', 255).notNullable();
    t.string('mac', 17).notNullable();
    /** offered (held for the client between OFFER and REQUEST), bound, declined (in use by someone unknown). */
    t.string('state', 16).notNullable();
    t.string('hostname', 255);
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['mac', 'subnet']);
    t.index(['subnet', 'expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('dhcp_leases');
}
