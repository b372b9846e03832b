// /v1/nodes/{ident}: maintenance, validate, management/boot_device, inject_nmi and inventory.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AnvilError, errorMessage } from '../../../common/errors.ts';
import { recordHistory } from '../../../db/history.ts';
import { historyActor } from '../auth/identity.ts';
import { biosSettingOfNode, biosSettingsOfNode, type BiosSettingRow } from '../../../db/bios.ts';
import { isoTime } from '../../../db/index.ts';
import { firmwareOfNode } from '../../../db/firmware.ts';
import { inventoryOfNode } from '../../../db/inventory.ts';
import { INTERFACE_NAMES, updateNode, type NodeRecord } from '../../../db/nodes.ts';
import { portsOfNode } from '../../../db/ports.ts';
import { volumesOfNode } from '../../../db/volumes.ts';
import { notifyNodeWork } from '../../../db/tasks.ts';
import { BOOT_DEVICES } from '../../../drivers/interfaces.ts';
import { resolveDriver } from '../../../drivers/registry.ts';
import { nodeStorage } from '../../../drivers/storage/node-storage.ts';
import type { ApiContext } from '../context.ts';
import { accepted, baseUrl, noContent } from '../http.ts';
import { findNodeOr404 } from '../lookup.ts';
import { runNodeTask } from '../tasks.ts';
import { BOOL, coerceBooleans } from '../validation.ts';
import { requireEndpoint, requireVersion } from '../version.ts';
import { lockedOrChanged } from './nodes.ts';
import { emitNode } from '../../notifications/index.ts';

/** The registry fields of a BIOS setting (API 1.74). */
const BIOS_REGISTRY_FIELDS = ['attribute_type', 'allowable_values', 'lower_bound', 'max_length', 'min_length', 'read_only', 'reset_required', 'unique', 'upper_bound'] as const;

/** A cached setting as Ironic's bios API shows it: name, value, times, links; the registry's fields with detail. */
function biosView(req: FastifyRequest, ctx: ApiContext, nodeUuid: string, s: BiosSettingRow, detail: boolean, fields?: string[]): Record<string, unknown> {
  const href = `${baseUrl(req, ctx.config)}/v1/nodes/${nodeUuid}/bios/${encodeURIComponent(s.name)}`;
  const out: Record<string, unknown> = {
    created_at: isoTime(s.created_at), updated_at: isoTime(s.updated_at), name: s.name, value: s.value,
    links: [{ href, rel: 'self' }, { href: href.replace('/v1/', '/'), rel: 'bookmark' }],
  };
  if (detail || fields?.some((f) => (BIOS_REGISTRY_FIELDS as readonly string[]).includes(f))) for (const f of BIOS_REGISTRY_FIELDS) out[f] = s[f];
  if (!fields?.length) return out;
  return Object.fromEntries(Object.entries(out).filter(([k]) => fields.includes(k)));
}

type Req<B = unknown> = FastifyRequest<{ Params: { ident: string }; Body: B }>;


async function setMaintenance(req: Req<{ reason?: string } | undefined>, reply: FastifyReply, ctx: ApiContext, on: boolean) {
  const node = await findNodeOr404(ctx.db.knex, req.params.ident);
  const reason = on ? (req.body?.reason ?? null) : null;
  const fields: Partial<NodeRecord> = on ? { maintenance: true, maintenance_reason: reason } : { maintenance: false, maintenance_reason: null, fault: null };
  // Ironic's maintenance_set.start|end|error, from the API.
  emitNode(ctx.db.knex, { service: 'api' }, 'maintenance_set', 'start', 'info', 'NodePayload', node);
  const updated = await updateNode(ctx.db.knex, node.id, fields, { reservation: null });
  if (!updated) {
    emitNode(ctx.db.knex, { service: 'api' }, 'maintenance_set', 'error', 'error', 'NodePayload', node);
    throw await lockedOrChanged(ctx, node, req.params.ident);
  }
  emitNode(ctx.db.knex, { service: 'api' }, 'maintenance_set', 'end', 'info', 'NodePayload', updated);
  await recordHistory(ctx.db.knex, updated, { event: on ? `Maintenance set${reason ? `: ${reason}` : ''}` : 'Maintenance unset', event_type: 'maintenance', ...historyActor(req.auth.identity) });
  if (!on) await notifyNodeWork(ctx.db, node);
  return accepted(reply, `${baseUrl(req, ctx.config)}/v1/nodes/${node.uuid}/maintenance`);
}

/** Ironic's non_vendor_interfaces: what /validate reports. */
const VALIDATED = INTERFACE_NAMES.filter((i) => i !== 'vendor');

/** Runs each interface's validate (no BMC contact) and reports {result, reason} per interface. */
async function validateNode(req: FastifyRequest<{ Params: { ident: string } }>, ctx: ApiContext) {
  const node = await findNodeOr404(ctx.db.knex, req.params.ident);
  const ports = await portsOfNode(ctx.db.knex, node.id);
  const out: Record<string, { result: boolean | null; reason: string | null }> = {};
  let driver;
  try {
    driver = resolveDriver(node);
  } catch (err) {
    for (const i of VALIDATED) out[i] = { result: false, reason: errorMessage(err) };
    return out;
  }
  // The storage and deploy interfaces read the node's volumes (a node that boots one writes no image).
  const storage = nodeStorage(driver.storage, node, await volumesOfNode(ctx.db.knex, node.id));
  for (const iface of VALIDATED) {
    const impl = driver[iface];
    if (impl.name.startsWith('no-')) {
      out[iface] = { result: false, reason: `Driver ${node.driver} does not support ${iface} (disabled or not implemented).` };
      continue;
    }
    try {
      await impl.validate(node, ports, storage);
      out[iface] = { result: true, reason: null };
    } catch (err) {
      out[iface] = { result: false, reason: errorMessage(err) };
    }
  }
  return out;
}

export const nodeManagementRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const reasonSchema = { schema: { body: { type: ['object', 'null'], additionalProperties: false, properties: { reason: { type: ['string', 'null'] } } } } };
  app.put<{ Params: { ident: string }; Body: { reason?: string } | undefined }>('/nodes/:ident/maintenance', reasonSchema, (req, reply) => setMaintenance(req, reply, ctx, true));
  app.delete<{ Params: { ident: string }; Body: undefined }>('/nodes/:ident/maintenance', (req, reply) => setMaintenance(req, reply, ctx, false));

  app.get<{ Params: { ident: string } }>('/nodes/:ident/validate', (req) => validateNode(req, ctx));

  app.get<{ Params: { ident: string } }>('/nodes/:ident/management/boot_device', async (req) => {
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    return runNodeTask(ctx, node, 'get_boot_device');
  });
  app.put<{ Params: { ident: string }; Body: { boot_device: string; persistent?: boolean | string } }>(
    '/nodes/:ident/management/boot_device',
    { schema: { body: { type: 'object', required: ['boot_device'], additionalProperties: false, properties: { boot_device: { type: 'string', enum: [...BOOT_DEVICES] }, persistent: BOOL } } } },
    async (req, reply) => {
      const node = await findNodeOr404(ctx.db.knex, req.params.ident);
      const { persistent } = coerceBooleans({ persistent: req.body.persistent ?? false }, ['persistent']);
      await runNodeTask(ctx, node, 'set_boot_device', { boot_device: req.body.boot_device, persistent });
      return noContent(reply);
    },
  );
  app.get<{ Params: { ident: string } }>('/nodes/:ident/management/boot_device/supported', async (req) => {
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    return { supported_boot_devices: await runNodeTask<string[]>(ctx, node, 'get_supported_boot_devices') };
  });
  app.put<{ Params: { ident: string } }>('/nodes/:ident/management/inject_nmi', async (req, reply) => {
    requireVersion(req, 29, 'Injecting an NMI');
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    await runNodeTask(ctx, node, 'inject_nmi');
    return noContent(reply);
  });

  // The BIOS settings the node's bios interface cached (db/bios.ts); empty for no-bios.
  app.get<{ Params: { ident: string }; Querystring: { detail?: string | boolean; fields?: string } }>('/nodes/:ident/bios', async (req) => {
    requireEndpoint(req, 40);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    const detail = coerceBooleans({ detail: req.query.detail ?? false }, ['detail']).detail === true;
    if (detail) requireVersion(req, 74, 'The detail parameter of the BIOS settings list');
    const fields = req.query.fields?.split(',').map((f) => f.trim()).filter(Boolean);
    return { bios: (await biosSettingsOfNode(ctx.db.knex, node.id)).map((s) => biosView(req, ctx, node.uuid, s, detail, fields)) };
  });
  app.get<{ Params: { ident: string; name: string } }>('/nodes/:ident/bios/:name', async (req) => {
    requireEndpoint(req, 40);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    const setting = await biosSettingOfNode(ctx.db.knex, node.id, req.params.name);
    if (!setting) throw new AnvilError(`The BIOS setting ${req.params.name} could not be found for node ${node.uuid}.`, 404, 'BIOSSettingNotFound');
    return { [setting.name]: biosView(req, ctx, node.uuid, setting, req.apiVersion >= 74) };
  });
  // The versions the node's firmware interface recorded (db/firmware.ts); empty for no-firmware.
  app.get<{ Params: { ident: string } }>('/nodes/:ident/firmware', async (req) => {
    requireEndpoint(req, 86);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    const rows = await firmwareOfNode(ctx.db.knex, node.id);
    // What each component is (vendor, model, serial_number) is shown from 1.114.
    return {
      firmware: rows.map(({ vendor, model, serial_number, ...r }) => ({
        ...r, ...(req.apiVersion >= 114 ? { vendor, model, serial_number } : {}), created_at: isoTime(r.created_at), updated_at: isoTime(r.updated_at),
      })),
    };
  });

  app.get<{ Params: { ident: string } }>('/nodes/:ident/inventory', async (req) => {
    requireEndpoint(req, 81);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    const found = await inventoryOfNode(ctx.db.knex, node.id);
    if (!found) throw new AnvilError(`Node inventory for node ${node.uuid} could not be found.`, 404, 'NodeInventoryNotFound');
    return found;
  });
};
