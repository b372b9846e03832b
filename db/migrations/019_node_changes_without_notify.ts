// PostgreSQL's node change stream (migration 008) without NOTIFY. A transaction that notifies
// takes one database-wide lock at commit and holds it through the WAL flush, so every node write
// (the trigger notified on each) committed one after another: with 5 processes on one database
// most sessions waited on it (bench/scale-out.sh: 60 % of the sampled active sessions; pgbench with
// 32 clients, 1,270 updates/s with the notifying trigger, 5,580 with this one). The trigger now
// appends to node_changes, as on SQLite, with the writing transaction's id: a reader takes every
// change of the transactions older than its snapshot's horizon (db/console.ts), so a slower
// transaction that commits after a faster one is not skipped. The horizon is the oldest
// transaction in progress when the reader's snapshot was taken, leaving out those seen running in
// other databases of the server (transaction ids are the server's): another database's long
// transaction does not hold this one's change stream back.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'pg') return;
  await knex.raw(`
    CREATE TABLE node_changes (
      seq bigserial PRIMARY KEY,
      node_uuid varchar(36) NOT NULL,
      xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
      at bigint NOT NULL
    )`);
  await knex.raw('CREATE INDEX node_changes_xid_seq ON node_changes (xid, seq)');
  await knex.raw('CREATE INDEX node_changes_at ON node_changes (at)');
  await knex.raw(`
    CREATE FUNCTION anvil_change_horizon() RETURNS xid8 LANGUAGE sql STABLE AS $$
      SELECT coalesce(
        (SELECT min(x) FROM pg_snapshot_xip(pg_current_snapshot()) x
          WHERE xid(x) NOT IN (SELECT backend_xid FROM pg_stat_activity WHERE datname <> current_database() AND backend_xid IS NOT NULL)),
        pg_snapshot_xmax(pg_current_snapshot()))
    $$`);
  await knex.raw(`
    CREATE OR REPLACE FUNCTION anvil_node_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      ts bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
    BEGIN
      IF TG_OP = 'DELETE' THEN
        INSERT INTO node_changes (node_uuid, at) VALUES (OLD.uuid, ts);
        RETURN OLD;
      END IF;
      IF TG_OP = 'INSERT' OR OLD.provision_state IS DISTINCT FROM NEW.provision_state THEN
        INSERT INTO node_transitions (node_uuid, from_state, to_state, last_error, at)
        VALUES (NEW.uuid, CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.provision_state END, NEW.provision_state, NEW.last_error, ts);
      END IF;
      INSERT INTO node_changes (node_uuid, at) VALUES (NEW.uuid, ts);
      RETURN NEW;
    END $$`);
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'pg') return;
  await knex.raw(`
    CREATE OR REPLACE FUNCTION anvil_node_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
  await knex.raw('DROP FUNCTION anvil_change_horizon()');
  await knex.raw('DROP TABLE node_changes');
}
