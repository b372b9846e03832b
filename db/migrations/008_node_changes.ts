// The database's own change stream of nodes, for the console's live fleet view (and anyone who
// watches): triggers, so that every writer (API, any conductor process) is seen without any of
// them being told. Only the columns the console shows fire them, so a heart-beat or a lock does not.
// - node_transitions: every provision-state change (from, to, last_error, time), on both back ends;
//   the fleet picture (nodes by state over time, deploy durations, failures by reason) reads it.
// - PostgreSQL: NOTIFY anvil_node_changes with the node's uuid (delivered at commit, to every
//   listening API process). SQLite has no notifications: node_changes is a sequence of changed
//   uuids that one reader per API process polls (db/node-changes.ts).
import type { Knex } from 'knex';

/** The columns whose change a fleet view shows. */
export const WATCHED_COLUMNS = [
  'name', 'provision_state', 'target_provision_state', 'power_state', 'target_power_state', 'maintenance',
  'fault', 'last_error', 'owner', 'lessee', 'clean_step', 'deploy_step', 'service_step', 'resource_class',
] as const;

const SQLITE_NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('node_transitions', (t) => {
    t.bigIncrements('id');
    t.string('node_uuid', 36).notNullable();
    t.string('from_state', 32);
    t.string('to_state', 32).notNullable();
    t.text('last_error');
    t.bigInteger('at').notNullable().index();
  });
  const cols = WATCHED_COLUMNS.join(', ');
  if (knex.client.config.client === 'pg') {
    await knex.raw(`
      CREATE FUNCTION anvil_node_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('anvil_node_changes', OLD.uuid);
          RETURN OLD;
        END IF;
        IF TG_OP = 'INSERT' OR OLD.provision_state IS DISTINCT FROM NEW.provision_state THEN
          INSERT INTO node_transitions (node_uuid, from_state, to_state, last_error, at)
          VALUES (NEW.uuid, CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.provision_state END, NEW.provision_state, NEW.last_error,
                  (extract(epoch from clock_timestamp()) * 1000)::bigint);
        END IF;
        PERFORM pg_notify('anvil_node_changes', NEW.uuid);
        RETURN NEW;
      END $$`);
    await knex.raw('CREATE TRIGGER anvil_node_inserted AFTER INSERT OR DELETE ON nodes FOR EACH ROW EXECUTE FUNCTION anvil_node_changed()');
    await knex.raw(`CREATE TRIGGER anvil_node_updated AFTER UPDATE OF ${cols} ON nodes FOR EACH ROW EXECUTE FUNCTION anvil_node_changed()`);
    return;
  }
  await knex.schema.createTable('node_changes', (t) => {
    t.increments('seq');
    t.string('node_uuid', 36).notNullable();
    t.bigInteger('at').notNullable().index();
  });
  const change = (ref: 'NEW' | 'OLD') => `INSERT INTO node_changes (node_uuid, at) VALUES (${ref}.uuid, ${SQLITE_NOW_MS});`;
  const transition = (from: string) => `INSERT INTO node_transitions (node_uuid, from_state, to_state, last_error, at) VALUES (NEW.uuid, ${from}, NEW.provision_state, NEW.last_error, ${SQLITE_NOW_MS});`;
  await knex.raw(`CREATE TRIGGER anvil_node_inserted AFTER INSERT ON nodes BEGIN ${change('NEW')} ${transition('NULL')} END`);
  await knex.raw(`CREATE TRIGGER anvil_node_deleted AFTER DELETE ON nodes BEGIN ${change('OLD')} END`);
  await knex.raw(`CREATE TRIGGER anvil_node_updated AFTER UPDATE OF ${cols} ON nodes BEGIN ${change('NEW')} END`);
  await knex.raw(`CREATE TRIGGER anvil_node_transition AFTER UPDATE OF provision_state ON nodes WHEN OLD.provision_state IS NOT NEW.provision_state BEGIN ${transition('OLD.provision_state')} END`);
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw('DROP TRIGGER IF EXISTS anvil_node_updated ON nodes');
    await knex.raw('DROP TRIGGER IF EXISTS anvil_node_inserted ON nodes');
    await knex.raw('DROP FUNCTION IF EXISTS anvil_node_changed()');
  } else {
    for (const t of ['anvil_node_inserted', 'anvil_node_deleted', 'anvil_node_updated', 'anvil_node_transition']) await knex.raw(`DROP TRIGGER IF EXISTS ${t}`);
    await knex.schema.dropTableIfExists('node_changes');
  }
  await knex.schema.dropTableIfExists('node_transitions');
}
