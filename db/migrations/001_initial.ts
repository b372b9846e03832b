// The core schema. Timestamps are integer milliseconds since the epoch (one representation on
// SQLite and PostgreSQL; the API renders them as ISO 8601 with +00:00). JSON fields are text.
import type { Knex } from 'knex';

const INTERFACES = ['bios', 'boot', 'console', 'deploy', 'firmware', 'inspect', 'management', 'network', 'power', 'raid', 'rescue', 'storage', 'vendor'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('conductors', (t) => {
    t.increments('id');
    t.string('hostname', 255).notNullable().unique();
    t.string('conductor_group', 255).notNullable().defaultTo('');
    t.boolean('online').notNullable().defaultTo(true);
    t.text('drivers').notNullable().defaultTo('[]');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('chassis', (t) => {
    t.increments('id');
    t.string('uuid', 36).notNullable().unique();
    t.text('description');
    t.text('extra').notNullable().defaultTo('{}');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
  });

  await knex.schema.createTable('nodes', (t) => {
    t.increments('id');
    t.string('uuid', 36).notNullable().unique();
    t.string('name', 255).unique();
    t.string('driver', 64).notNullable();
    t.text('driver_info').notNullable().defaultTo('{}');
    t.text('driver_internal_info').notNullable().defaultTo('{}');
    t.text('instance_info').notNullable().defaultTo('{}');
    t.string('instance_uuid', 36).index();
    t.string('instance_name', 255);
    t.text('properties').notNullable().defaultTo('{}');
    t.text('extra').notNullable().defaultTo('{}');
    t.string('resource_class', 80).index();
    t.string('conductor_group', 255).notNullable().defaultTo('').index();
    t.string('conductor', 255);
    t.string('reservation', 255).index();
    t.string('provision_state', 32).notNullable().index();
    t.string('target_provision_state', 32);
    t.bigInteger('provision_updated_at');
    t.string('power_state', 16);
    t.string('target_power_state', 16).index();
    t.text('last_error');
    t.boolean('maintenance').notNullable().defaultTo(false).index();
    t.text('maintenance_reason');
    t.string('fault', 255);
    t.boolean('console_enabled').notNullable().defaultTo(false);
    t.boolean('automated_clean');
    t.boolean('protected').notNullable().defaultTo(false);
    t.text('protected_reason');
    t.string('owner', 255);
    t.string('lessee', 255);
    t.text('description');
    t.integer('chassis_id').references('chassis.id');
    for (const i of INTERFACES) t.string(`${i}_interface`, 255);
    t.string('boot_mode', 16);
    t.boolean('secure_boot');
    t.boolean('retired').notNullable().defaultTo(false);
    t.text('retired_reason');
    t.text('network_data').notNullable().defaultTo('{}');
    t.string('shard', 255).index();
    t.string('parent_node', 36);
    t.boolean('disable_power_off').notNullable().defaultTo(false);
    t.text('clean_step');
    t.text('deploy_step');
    t.text('service_step');
    t.text('raid_config').notNullable().defaultTo('{}');
    t.text('target_raid_config').notNullable().defaultTo('{}');
    t.bigInteger('inspection_started_at');
    t.bigInteger('inspection_finished_at');
    t.integer('allocation_id');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
  });

  await knex.schema.createTable('portgroups', (t) => {
    t.increments('id');
    t.string('uuid', 36).notNullable().unique();
    t.string('name', 255).unique();
    t.string('address', 18).unique();
    t.integer('node_id').notNullable().references('nodes.id').onDelete('CASCADE').index();
    t.string('mode', 255);
    t.text('properties').notNullable().defaultTo('{}');
    t.boolean('standalone_ports_supported').notNullable().defaultTo(true);
    t.text('extra').notNullable().defaultTo('{}');
    t.text('internal_info').notNullable().defaultTo('{}');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
  });

  await knex.schema.createTable('ports', (t) => {
    t.increments('id');
    t.string('uuid', 36).notNullable().unique();
    t.string('address', 18).notNullable().unique();
    t.integer('node_id').notNullable().references('nodes.id').onDelete('CASCADE').index();
    t.integer('portgroup_id').references('portgroups.id').onDelete('SET NULL');
    t.boolean('pxe_enabled').notNullable().defaultTo(true);
    t.text('local_link_connection').notNullable().defaultTo('{}');
    t.string('physical_network', 64);
    t.text('internal_info').notNullable().defaultTo('{}');
    t.text('extra').notNullable().defaultTo('{}');
    t.boolean('is_smartnic').notNullable().defaultTo(false);
    t.string('name', 255);
    t.text('description');
    t.string('vendor', 255);
    t.string('category', 255);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
  });

  await knex.schema.createTable('node_traits', (t) => {
    t.integer('node_id').notNullable().references('nodes.id').onDelete('CASCADE');
    t.string('trait', 255).notNullable();
    t.bigInteger('created_at').notNullable();
    t.primary(['node_id', 'trait']);
    t.index(['trait']);
  });

  await knex.schema.createTable('node_history', (t) => {
    t.increments('id');
    t.string('uuid', 36).notNullable().unique();
    t.integer('node_id').notNullable().references('nodes.id').onDelete('CASCADE');
    t.string('conductor', 255);
    t.string('event_type', 64).notNullable();
    t.string('severity', 16).notNullable();
    t.text('event').notNullable();
    t.string('user', 255);
    t.bigInteger('created_at').notNullable();
    t.index(['node_id', 'id']);
  });

  // Work handed from the API (or an agent's heartbeat) to the conductor that owns the node:
  // synchronous calls such as boot-device changes wait here for their result.
  await knex.schema.createTable('node_tasks', (t) => {
    t.increments('id');
    t.integer('node_id').notNullable().references('nodes.id').onDelete('CASCADE');
    t.string('kind', 64).notNullable();
    t.text('args').notNullable().defaultTo('{}');
    t.string('status', 16).notNullable().defaultTo('pending');
    t.text('result');
    t.text('error');
    t.string('claimed_by', 255);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
    t.index(['status', 'node_id']);
  });

  await knex.schema.createTable('node_inventory', (t) => {
    t.increments('id');
    t.integer('node_id').notNullable().unique().references('nodes.id').onDelete('CASCADE');
    t.text('inventory').notNullable();
    t.text('plugin_data').notNullable().defaultTo('{}');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
  });

  await knex.schema.createTable('allocations', (t) => {
    t.increments('id');
    t.string('uuid', 36).notNullable().unique();
    t.string('name', 255).unique();
    t.integer('node_id').references('nodes.id').onDelete('SET NULL');
    t.string('state', 16).notNullable();
    t.text('last_error');
    t.string('resource_class', 80);
    t.text('traits').notNullable().defaultTo('[]');
    t.text('candidate_nodes').notNullable().defaultTo('[]');
    t.text('extra').notNullable().defaultTo('{}');
    t.string('owner', 255);
    t.string('conductor_affinity', 255);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['allocations', 'node_inventory', 'node_tasks', 'node_history', 'node_traits', 'ports', 'portgroups', 'nodes', 'chassis', 'conductors']) {
    await knex.schema.dropTableIfExists(table);
  }
}
