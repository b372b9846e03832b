// Networks as data (Anvil's own API, /v1/networks) and the VIFs of Ironic's VIF API (1.28): a VIF is
// an attachment of one of a node's ports or port groups to a network. The switch network interface
// reads both to decide which VLANs a node's switch ports carry.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('networks', (t) => {
    t.increments('id').primary();
    t.string('uuid', 36).notNullable().unique();
    t.string('name', 255).notNullable().unique();
    t.string('kind', 32).notNullable();
    t.integer('vlan_id');
    t.string('physical_network', 64);
    t.string('owner', 255);
    t.integer('mtu');
    t.string('cidr', 64);
    t.string('gateway', 64);
    t.text('extra').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
  });
  await knex.schema.createTable('network_attachments', (t) => {
    t.increments('id').primary();
    t.integer('node_id').notNullable().references('nodes.id').onDelete('CASCADE');
    t.integer('network_id').notNullable().references('networks.id');
    t.integer('port_id').references('ports.id').onDelete('CASCADE');
    t.integer('portgroup_id').references('portgroups.id').onDelete('CASCADE');
    t.string('address', 64);
    t.bigInteger('created_at').notNullable();
    t.unique(['node_id', 'network_id']);
    // Two attachments racing for the next free address: one of them fails instead of sharing it.
    t.unique(['network_id', 'address']);
    t.index(['network_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('network_attachments');
  await knex.schema.dropTableIfExists('networks');
}
