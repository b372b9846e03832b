// The endpoints the deploy ramdisk calls (ironic/api/controllers/v1/ramdisk.py): lookup by MAC
// (handing out the agent token once), heart-beats (checked against that token, then queued for
// the node's conductor), and inspection data. The API never talks to the agent itself.
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { Conflict, InvalidInput, NotFound } from '../../../common/errors.ts';
import { fingerprint, maskSecrets } from '../../../common/secrets.ts';
import { FAST_TRACK_LOOKUP_ALLOWED_STATES, LOOKUP_ALLOWED_STATES, ProvisionState as S } from '../../../common/states.ts';
import { changeUnlockedInternalInfo, findNode, isUuid, type NodeRecord } from '../../../db/nodes.ts';
import { nodeOwningMacs } from '../../../db/ports.ts';
import { enqueueTask, refreshPendingTask } from '../../../db/tasks.ts';
import { internalInfo, withInternalInfo } from '../../../drivers/internal-info.ts';
import type { ApiContext } from '../context.ts';
import { discoverNode } from '../discovery.ts';
import { accepted, baseUrl, queryValue, selfLinks, type Query } from '../http.ts';
import { checkMac } from '../validation.ts';
import { requireEndpoint, versionString } from '../version.ts';

type Json = Record<string, unknown>;

const LOOKUP_VERSION = 22;
const TOKEN_VERSION = 62;
const INVENTORY_REPLY_VERSION = 84;

/** What the agent is told to work with (Ironic's lookup `config`). */
function agentConfig(ctx: ApiContext, token: string | undefined): Json {
  return {
    heartbeat_timeout: ctx.config.agent.heartbeatTimeout,
    ...(token === undefined ? {} : { agent_token: token }),
    agent_token_required: true,
    metrics: { backend: 'noop', prepend_host: false, prepend_uuid: false, prepend_host_reverse: true, global_prefix: null },
    metrics_statsd: { statsd_host: 'localhost', statsd_port: 8125 },
    agent_containers: {},
    agent_md5_checksum_enable: true,
    disable_deep_image_inspection: false,
    permitted_image_formats: ['raw', 'qcow2'],
    agent_skip_bmc_detect: false,
    enable_bios_bootloader_install: false,
    tls_min_version: null,
    tls_cipher_suites: null,
  };
}

function nodeForAgent(node: NodeRecord, base: string): Json {
  return {
    uuid: node.uuid,
    properties: node.properties,
    instance_info: maskSecrets(node.instance_info),
    driver_internal_info: maskSecrets(node.driver_internal_info),
    links: selfLinks(base, 'nodes', node.uuid),
  };
}

/**
 * The first lookup of a ramdisk boot generates the token (stored in driver_internal_info); later
 * ones get "******". The write is a compare-and-set on an unlocked, unchanged node, so a
 * conductor holding the node never overwrites it: a locked node answers 409 and the agent retries.
 */
async function tokenFor(ctx: ApiContext, node: NodeRecord): Promise<string> {
  if (typeof internalInfo(node).agent_secret_token === 'string') return '******';
  const token = randomBytes(32).toString('base64url');
  const changed = await changeUnlockedInternalInfo(ctx.db.knex, node.id, (info) => withInternalInfo({ driver_internal_info: info }, { agent_secret_token: token }).driver_internal_info);
  if (!changed) throw new Conflict(`Node ${node.uuid} is busy; retry the lookup`, 'NodeLocked');
  return token;
}

const HEARTBEAT_FIELD_VERSIONS: Record<string, number> = { agent_version: 36, agent_token: 62, agent_verify_ca: 68, agent_status: 72, agent_status_message: 72 };

interface HeartbeatBody {
  callback_url: string;
  agent_token?: string;
  agent_version?: string;
  agent_verify_ca?: unknown;
  agent_status?: string;
  agent_status_message?: string;
}

function validUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

export const ramdiskRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get<{ Querystring: Query }>('/lookup', async (req) => {
    requireEndpoint(req, LOOKUP_VERSION);
    const addresses = (queryValue(req.query, 'addresses') ?? '').split(',').map((a) => a.trim()).filter(Boolean);
    const nodeUuid = queryValue(req.query, 'node_uuid');
    if (addresses.length === 0 && !nodeUuid) throw new InvalidInput('Either node_uuid or addresses must be provided');
    const macs = addresses.map((a) => checkMac(a));
    if (nodeUuid && !isUuid(nodeUuid)) throw new InvalidInput(`Expected a UUID for node_uuid, got "${nodeUuid}"`);
    const node = nodeUuid ? await findNode(ctx.db.knex, nodeUuid) : await nodeOwningMacs(ctx.db.knex, macs);
    const what = nodeUuid ? `node ${nodeUuid}` : `a node with address(es) ${macs.join(', ')}`;
    if (!node) throw new NotFound(`Could not find ${what}`);
    const allowed = ctx.config.agent.fastTrack === true ? FAST_TRACK_LOOKUP_ALLOWED_STATES : LOOKUP_ALLOWED_STATES;
    if (!allowed.has(node.provision_state)) {
      throw new NotFound(`Could not find ${what} in a state that expects an agent (node ${node.uuid} is "${node.provision_state}")`);
    }
    const token = req.apiVersion >= TOKEN_VERSION ? await tokenFor(ctx, node) : undefined;
    const fresh = (await findNode(ctx.db.knex, node.uuid))!;
    return { node: nodeForAgent(fresh, baseUrl(req, ctx.config)), config: agentConfig(ctx, token) };
  });

  app.post<{ Params: { ident: string }; Body: HeartbeatBody }>(
    '/heartbeat/:ident',
    {
      schema: {
        body: {
          type: 'object',
          required: ['callback_url'],
          additionalProperties: false,
          properties: {
            callback_url: { type: 'string' },
            agent_token: { type: ['string', 'null'] },
            agent_version: { type: ['string', 'null'] },
            agent_verify_ca: {},
            agent_status: { type: ['string', 'null'], enum: ['start', 'end', 'error', null] },
            agent_status_message: { type: ['string', 'null'] },
          },
        },
      },
    },
    async (req, reply) => {
      requireEndpoint(req, LOOKUP_VERSION);
      const body = req.body;
      for (const [field, minor] of Object.entries(HEARTBEAT_FIELD_VERSIONS)) {
        if ((body as unknown as Json)[field] !== undefined && req.apiVersion < minor) {
          throw new InvalidInput(`Field "${field}" of a heartbeat needs API version ${versionString(minor)}; the request asked for ${versionString(req.apiVersion)}`);
        }
      }
      if (!validUrl(body.callback_url)) throw new InvalidInput(`Invalid callback_url "${body.callback_url}": an http(s) URL is expected`);
      const node = await findNode(ctx.db.knex, req.params.ident);
      if (!node) throw new NotFound(`Node ${req.params.ident} could not be found.`, 'NodeNotFound');
      const { agent_secret_token: expected, agent_url: known } = internalInfo(node);
      if (typeof expected !== 'string' || !body.agent_token || body.agent_token !== expected) {
        throw new InvalidInput('Invalid or missing agent token received.', 'InvalidParameterValue');
      }
      if (typeof known === 'string' && known !== body.callback_url) {
        throw new InvalidInput(`Detected change in agent URL from ${known} to ${body.callback_url}; heartbeat refused`, 'InvalidParameterValue');
      }
      const args = {
        callback_url: body.callback_url,
        // The conductor runs the heartbeat later: it checks the token is still the node's by then.
        token_fingerprint: fingerprint(body.agent_token),
        ...(body.agent_version ? { agent_version: body.agent_version } : {}),
        ...(body.agent_status ? { agent_status: body.agent_status } : {}),
        ...(body.agent_status_message ? { agent_status_message: body.agent_status_message } : {}),
      };
      // One pending heartbeat per node is enough (the conductor reads the agent's state anyway):
      // a newer one refreshes the pending one's arguments instead of queueing behind it.
      if (!(await refreshPendingTask(ctx.db.knex, node.id, 'heartbeat', args))) await enqueueTask(ctx.db, node, 'heartbeat', args);
      return accepted(reply);
    },
  );

  app.post<{ Querystring: Query; Body: Json }>('/continue_inspection', async (req, reply) => {
    const data = req.body;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InvalidInput('The inspection data must be a JSON object');
    const inventory = data.inventory as Json | undefined;
    if (typeof inventory !== 'object' || inventory === null || !Array.isArray(inventory.interfaces)) {
      throw new InvalidInput('The inspection data needs an "inventory" with a list of "interfaces"');
    }
    const macs: string[] = [];
    for (const nic of inventory.interfaces as Json[]) {
      if (nic && typeof nic.mac_address === 'string') {
        try {
          macs.push(checkMac(nic.mac_address));
        } catch {
          // an interface without a usable MAC cannot identify the node; others may
        }
      }
    }
    const nodeUuid = queryValue(req.query, 'node_uuid');
    if (nodeUuid && !isUuid(nodeUuid)) throw new InvalidInput(`Expected a UUID for node_uuid, got "${nodeUuid}"`);
    const node = nodeUuid ? await findNode(ctx.db.knex, nodeUuid) : await nodeOwningMacs(ctx.db.knex, macs);
    // The machine can boot and post before its conductor has recorded `inspect wait`: 409 makes the
    // agent retry (as IPA does on 409), where 404 would end its inspection.
    if (node?.provision_state === S.INSPECTING) {
      throw new Conflict(`Node ${node.uuid} is still "inspecting": its conductor has not finished starting the inspection, retry shortly`);
    }
    let target: NodeRecord;
    if (!node && !nodeUuid && ctx.config.discovery.enabled) {
      target = await discoverNode(ctx, data, macs);
    } else {
      if (!node || node.provision_state !== S.INSPECT_WAIT) {
        throw new NotFound(node ? `Node ${node.uuid} is "${node.provision_state}", not waiting for inspection data` : `No node has any of the MAC addresses ${macs.join(', ') || '(none)'}${ctx.config.discovery.enabled ? '' : ' (auto-discovery is off: discovery.enabled)'}`);
      }
      await enqueueTask(ctx.db, node, 'continue_inspection', { data });
      target = node;
    }
    reply.code(202);
    if (req.apiVersion >= INVENTORY_REPLY_VERSION) return { node: { uuid: target.uuid }, config: agentConfig(ctx, undefined) };
    return { uuid: target.uuid };
  });
};
