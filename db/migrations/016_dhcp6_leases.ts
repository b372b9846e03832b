// DHCPv6 leases of the netboot role: the same shape as dhcp_leases (db/dhcp-leases.ts reads both),
// with room for an IPv6 address and the DUID and IAID the client asked with.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('dhcp6_leases', (t) => {
    /** RFC 5952 text. */
    t.string('ip', 39).primary();
    t.string('subnet', 255).notNullable();
    /** The MAC the boot record is keyed by (from the DUID, the relay's option 79 or the EUI-64 link-local address). */
    t.string('mac', 17).notNullable();
    t.string('state', 16).notNullable();
    t.string('hostname', 255);
    /** Hex of the client's DUID and its IA_NA's IAID, as last seen. */
    t.string('duid', 260);
    t.bigInteger('iaid');
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['mac', 'subnet']);
    t.index(['subnet', 'expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('dhcp6_leases');
}
