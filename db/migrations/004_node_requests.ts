// Requests get columns of their own (db/requests.ts): what the API asked for was kept in
// driver_internal_info until now; the keys of requests in flight move over.
import type { Knex } from 'knex';

type Json = Record<string, unknown>;

/** driver_internal_info keys that held a provision request, and the request field each becomes. */
const PROVISION_KEYS: Record<string, string> = { user_deploy_steps: 'steps', manual_clean_steps: 'steps', clean_steps_requested: 'steps', service_steps: 'steps', disable_ramdisk: 'disable_ramdisk' };
const POWER_KEY = 'requested_power_action';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('nodes', (t) => {
    t.text('provision_request');
    t.text('power_request');
  });
  const rows: { id: number; driver_internal_info: string }[] = await knex('nodes').select('id', 'driver_internal_info');
  for (const row of rows) {
    const info = JSON.parse(row.driver_internal_info || '{}') as Json;
    const request: Json = {};
    for (const [key, field] of Object.entries(PROVISION_KEYS)) {
      if (info[key] === undefined || info[key] === null) continue;
      request[field] = info[key];
    }
    const power = info[POWER_KEY];
    if (Object.keys(request).length === 0 && power === undefined) continue;
    for (const key of [...Object.keys(PROVISION_KEYS), POWER_KEY]) delete info[key];
    await knex('nodes').where({ id: row.id }).update({
      driver_internal_info: JSON.stringify(info),
      provision_request: Object.keys(request).length ? JSON.stringify(request) : null,
      power_request: power === undefined ? null : JSON.stringify(power),
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('nodes', (t) => {
    t.dropColumn('provision_request');
    t.dropColumn('power_request');
  });
}
