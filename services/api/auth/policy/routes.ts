// Which rule guards which route: one entry per method and path (without the /v1 prefix, which
// every path is also served without). The authorization hook reads this table; route handlers
// never look at roles. A route missing here is refused to everyone (default-deny).
import type { FastifyRequest } from 'fastify';
import type { TargetKind } from './targets.ts';

export type ListKind = 'node' | 'port' | 'portgroup' | 'allocation' | 'runbook' | 'network';

/** The rules of a collection: its list (the caller's project's share) and list_all; networks are Anvil's own. */
export function listRules(kind: ListKind): { list: string; listAll: string } {
  const prefix = kind === 'network' ? 'anvil' : 'baremetal';
  return { list: `${prefix}:${kind}:list`, listAll: `${prefix}:${kind}:list_all` };
}

export interface RoutePolicy {
  /** No credentials asked (root documents; the ramdisk's endpoints, which check the agent token). */
  public?: boolean;
  /** Rules the caller must pass, all of them (a function of the request for PATCH of nodes). */
  rules: readonly string[] | ((req: FastifyRequest) => string[]);
  /** What the rules' %(node.owner)s etc. refer to. */
  target?: TargetKind;
  /** A collection: list_all shows everything; list alone shows the caller's project's share. */
  list?: ListKind;
  /**
   * Ironic's special cases: creating self-owned nodes and allocations, deleting self-owned nodes;
   * reading a public runbook without runbook:get, creating a project's runbook.
   */
  special?: 'nodeCreate' | 'nodeDelete' | 'allocationCreate' | 'runbookGet' | 'runbookCreate' | 'networkCreate';
  /** The answer holds nodes: fields the caller may not see are redacted (redact.ts). */
  redactNodes?: boolean;
  /** A JSON patch that moves the object to another node (/node_uuid) must pass the rules on that node too. */
  movesToNode?: boolean;
}

/** ironic/api/controllers/v1/node.py _authorize_patch_and_get_node: one rule per patched field. */
export function nodePatchRules(req: FastifyRequest): string[] {
  const ops = Array.isArray(req.body) ? (req.body as { path?: unknown; value?: unknown }[]) : [];
  const rules = new Set<string>();
  let generic = false;
  for (const op of ops) {
    const path = typeof op?.path === 'string' ? op.path : '';
    const field = path.split('/')[1] ?? '';
    if (field === 'instance_info' || field === 'instance_name') rules.add('baremetal:node:update_instance_info');
    else if (field === 'extra') rules.add('baremetal:node:update_extra');
    else if (field === 'automated_clean' && isFalse(op.value)) rules.add('baremetal:node:disable_cleaning');
    else if (field === 'driver_info') rules.add('baremetal:node:update:driver_info');
    else if (field === 'properties') rules.add('baremetal:node:update:properties');
    else if (field === 'chassis_uuid') rules.add('baremetal:node:update:chassis_uuid');
    else if (field === 'instance_uuid') rules.add('baremetal:node:update:instance_uuid');
    else if (field === 'lessee') rules.add('baremetal:node:update:lessee');
    else if (field === 'owner') rules.add('baremetal:node:update:owner');
    else if (field === 'driver' || field.endsWith('_interface')) rules.add('baremetal:node:update:driver_interfaces');
    else if (field === 'network_data') rules.add('baremetal:node:update:network_data');
    else if (field === 'conductor_group') rules.add('baremetal:node:update:conductor_group');
    else if (field === 'name') rules.add('baremetal:node:update:name');
    else if (field === 'retired' || field === 'retired_reason') rules.add('baremetal:node:update:retired');
    else if (field === 'shard') rules.add('baremetal:node:update:shard');
    else if (field === 'parent_node') rules.add('baremetal:node:update:parent_node');
    else if (field === 'disable_power_off') rules.add('baremetal:node:update:disable_power_off');
    else generic = true;
  }
  if (generic || rules.size === 0) rules.add('baremetal:node:update');
  return [...rules];
}

/** ironic/api/controllers/v1/runbook.py _authorize_patch_and_get_runbook: owner and public have rules of their own. */
export function runbookPatchRules(req: FastifyRequest): string[] {
  const ops = Array.isArray(req.body) ? (req.body as { path?: unknown }[]) : [];
  const rules = new Set<string>();
  let generic = false;
  for (const op of ops) {
    const path = typeof op?.path === 'string' ? op.path : '';
    if (path.startsWith('/owner')) rules.add('baremetal:runbook:update:owner');
    else if (path.startsWith('/public')) rules.add('baremetal:runbook:update:public');
    else generic = true;
  }
  if (generic || rules.size === 0) rules.add('baremetal:runbook:update');
  return [...rules];
}

/** A provision request that names a runbook also needs the right to use it (Ironic's _handle_runbook). */
export function provisionRules(req: FastifyRequest): string[] {
  const body = req.body as { runbook?: unknown } | undefined;
  return body?.runbook != null ? ['baremetal:node:set_provision_state', 'baremetal:runbook:use'] : ['baremetal:node:set_provision_state'];
}

function isFalse(v: unknown): boolean {
  return v === false || (typeof v === 'string' && ['0', 'f', 'false', 'off', 'n', 'no'].includes(v.trim().toLowerCase()));
}

const node = (rule: string): RoutePolicy => ({ rules: [rule], target: 'node' });

export const ROUTE_POLICIES: Record<string, RoutePolicy> = {
  'GET /': { public: true, rules: [] },
  'GET /openapi.json': { public: true, rules: [] },
  'GET /metrics': { rules: ['anvil:metrics:get'] },
  'GET /lookup': { public: true, rules: ['baremetal:driver:ipa_lookup'] },
  'POST /heartbeat/:ident': { public: true, rules: ['baremetal:node:ipa_heartbeat'] },
  'POST /continue_inspection': { public: true, rules: ['baremetal:driver:ipa_continue_inspection'] },

  'GET /nodes': { rules: [], list: 'node', redactNodes: true },
  'GET /nodes/detail': { rules: [], list: 'node', redactNodes: true },
  'POST /nodes': { rules: [], special: 'nodeCreate', redactNodes: true },
  'GET /nodes/:ident': { ...node('baremetal:node:get'), redactNodes: true },
  'PATCH /nodes/:ident': { rules: nodePatchRules, target: 'node', redactNodes: true },
  'DELETE /nodes/:ident': { rules: [], target: 'node', special: 'nodeDelete' },
  'GET /nodes/:ident/states': node('baremetal:node:get_states'),
  'PUT /nodes/:ident/states/provision': { rules: provisionRules, target: 'nodeAndRunbook' },
  'PUT /nodes/:ident/states/power': node('baremetal:node:set_power_state'),
  'PUT /nodes/:ident/states/raid': node('baremetal:node:set_raid_state'),
  'PUT /nodes/:ident/states/boot_mode': node('baremetal:node:set_boot_mode'),
  'PUT /nodes/:ident/states/secure_boot': node('baremetal:node:set_secure_boot'),
  'GET /nodes/:ident/states/console': node('baremetal:node:get_console'),
  'PUT /nodes/:ident/states/console': node('baremetal:node:set_console_state'),
  'GET /nodes/states/console/:ident': node('baremetal:node:get_console'),
  'PUT /nodes/states/console/:ident': node('baremetal:node:set_console_state'),
  'GET /nodes/:ident/console/ws': node('baremetal:node:get_console'),
  'PUT /nodes/:ident/maintenance': node('baremetal:node:set_maintenance'),
  'DELETE /nodes/:ident/maintenance': node('baremetal:node:clear_maintenance'),
  'GET /nodes/:ident/validate': node('baremetal:node:validate'),
  'GET /nodes/:ident/management/boot_device': node('baremetal:node:get_boot_device'),
  'PUT /nodes/:ident/management/boot_device': node('baremetal:node:set_boot_device'),
  'GET /nodes/:ident/management/boot_device/supported': node('baremetal:node:get_boot_device'),
  'PUT /nodes/:ident/management/inject_nmi': node('baremetal:node:inject_nmi'),
  'GET /nodes/:ident/bios': node('baremetal:node:bios:get'),
  'GET /nodes/:ident/bios/:name': node('baremetal:node:bios:get'),
  'GET /nodes/:ident/firmware': node('baremetal:node:firmware:get'),
  'GET /nodes/:ident/inventory': node('baremetal:node:inventory:get'),
  'GET /nodes/:ident/vmedia': node('baremetal:node:vmedia:get'),
  'GET /nodes/:ident/management/indicators': node('baremetal:node:get_indicator_state'),
  'GET /nodes/:ident/management/indicators/:indicator': node('baremetal:node:get_indicator_state'),
  'PUT /nodes/:ident/management/indicators/:indicator': node('baremetal:node:set_indicator_state'),
  'GET /nodes/:ident/vendor_passthru': node('baremetal:node:vendor_passthru'),
  'POST /nodes/:ident/vendor_passthru': node('baremetal:node:vendor_passthru'),
  'PUT /nodes/:ident/vendor_passthru': node('baremetal:node:vendor_passthru'),
  'PATCH /nodes/:ident/vendor_passthru': node('baremetal:node:vendor_passthru'),
  'DELETE /nodes/:ident/vendor_passthru': node('baremetal:node:vendor_passthru'),
  'GET /nodes/:ident/vendor_passthru/methods': node('baremetal:node:vendor_passthru'),
  'POST /nodes/:ident/vmedia': node('baremetal:node:vmedia:attach'),
  'DELETE /nodes/:ident/vmedia': node('baremetal:node:vmedia:detach'),
  'GET /nodes/:ident/children': { rules: [], target: 'node', list: 'node' },
  'GET /nodes/:ident/history': node('baremetal:node:history:get'),
  'GET /nodes/:ident/history/:event': node('baremetal:node:history:get'),
  'GET /nodes/:ident/traits': node('baremetal:node:traits:list'),
  'PUT /nodes/:ident/traits': node('baremetal:node:traits:set'),
  'PUT /nodes/:ident/traits/:trait': node('baremetal:node:traits:set'),
  'DELETE /nodes/:ident/traits': node('baremetal:node:traits:delete'),
  'DELETE /nodes/:ident/traits/:trait': node('baremetal:node:traits:delete'),
  'GET /nodes/:ident/ports': { rules: [], target: 'node', list: 'port' },
  'GET /nodes/:ident/ports/detail': { rules: [], target: 'node', list: 'port' },
  'GET /nodes/:ident/portgroups': { rules: [], target: 'node', list: 'portgroup' },
  'GET /nodes/:ident/allocation': { rules: ['baremetal:allocation:get'], target: 'allocationOfNode' },
  'DELETE /nodes/:ident/allocation': { rules: ['baremetal:allocation:delete'], target: 'allocationOfNode' },

  'GET /ports': { rules: [], list: 'port' },
  'GET /ports/detail': { rules: [], list: 'port' },
  'GET /ports/:uuid': { rules: ['baremetal:port:get'], target: 'port' },
  'POST /ports': { rules: ['baremetal:port:create'], target: 'bodyNode' },
  'PATCH /ports/:uuid': { rules: ['baremetal:port:update'], target: 'port', movesToNode: true },
  'DELETE /ports/:uuid': { rules: ['baremetal:port:delete'], target: 'port' },

  'GET /portgroups': { rules: [], list: 'portgroup' },
  'GET /portgroups/detail': { rules: [], list: 'portgroup' },
  'GET /portgroups/:ident': { rules: ['baremetal:portgroup:get'], target: 'portgroup' },
  'GET /portgroups/:ident/ports': { rules: [], target: 'portgroup', list: 'port' },
  'GET /portgroups/:ident/ports/detail': { rules: [], target: 'portgroup', list: 'port' },
  'POST /portgroups': { rules: ['baremetal:portgroup:create'], target: 'bodyNode' },
  'PATCH /portgroups/:ident': { rules: ['baremetal:portgroup:update'], target: 'portgroup', movesToNode: true },
  'DELETE /portgroups/:ident': { rules: ['baremetal:portgroup:delete'], target: 'portgroup' },

  'GET /chassis': { rules: ['baremetal:chassis:get'] },
  'GET /chassis/detail': { rules: ['baremetal:chassis:get'] },
  'GET /chassis/:uuid': { rules: ['baremetal:chassis:get'] },
  'GET /chassis/:uuid/nodes': { rules: ['baremetal:chassis:get'] },
  'POST /chassis': { rules: ['baremetal:chassis:create'] },
  'PATCH /chassis/:uuid': { rules: ['baremetal:chassis:update'] },
  'DELETE /chassis/:uuid': { rules: ['baremetal:chassis:delete'] },

  'GET /drivers': { rules: ['baremetal:driver:get'] },
  'GET /drivers/:name': { rules: ['baremetal:driver:get'] },
  'GET /drivers/:name/properties': { rules: ['baremetal:driver:get_properties'] },
  'GET /drivers/:name/vendor_passthru/methods': { rules: ['baremetal:driver:vendor_passthru'] },
  'GET /drivers/:name/vendor_passthru': { rules: ['baremetal:driver:vendor_passthru'] },
  'POST /drivers/:name/vendor_passthru': { rules: ['baremetal:driver:vendor_passthru'] },
  'PUT /drivers/:name/vendor_passthru': { rules: ['baremetal:driver:vendor_passthru'] },
  'PATCH /drivers/:name/vendor_passthru': { rules: ['baremetal:driver:vendor_passthru'] },
  'DELETE /drivers/:name/vendor_passthru': { rules: ['baremetal:driver:vendor_passthru'] },
  'GET /drivers/:name/raid/logical_disk_properties': { rules: ['baremetal:driver:get_raid_logical_disk_properties'] },

  'GET /conductors': { rules: ['baremetal:conductor:get'] },
  'GET /conductors/:hostname': { rules: ['baremetal:conductor:get'] },

  'GET /shards': { rules: ['baremetal:shards:get'] },

  'GET /runbooks': { rules: [], list: 'runbook' },
  'GET /runbooks/detail': { rules: [], list: 'runbook' },
  'GET /runbooks/:ident': { rules: [], target: 'runbook', special: 'runbookGet' },
  'POST /runbooks': { rules: [], special: 'runbookCreate' },
  'PATCH /runbooks/:ident': { rules: runbookPatchRules, target: 'runbook' },
  'DELETE /runbooks/:ident': { rules: ['baremetal:runbook:delete'], target: 'runbook' },
  'GET /runbooks/:ident/traits': { rules: [], target: 'runbook', special: 'runbookGet' },
  'PUT /runbooks/:ident/traits': { rules: ['baremetal:runbook:update'], target: 'runbook' },
  'PUT /runbooks/:ident/traits/:trait': { rules: ['baremetal:runbook:update'], target: 'runbook' },
  'DELETE /runbooks/:ident/traits': { rules: ['baremetal:runbook:update'], target: 'runbook' },
  'DELETE /runbooks/:ident/traits/:trait': { rules: ['baremetal:runbook:update'], target: 'runbook' },

  'POST /events': { rules: ['baremetal:events:post'] },

  'GET /volume': { rules: ['baremetal:volume:get'] },
  'GET /nodes/:ident/volume': { rules: ['baremetal:volume:get'] },
  'GET /volume/connectors': { rules: ['baremetal:volume:get'] },
  'GET /volume/targets': { rules: ['baremetal:volume:get'] },
  'GET /nodes/:ident/volume/connectors': { rules: ['baremetal:volume:get'] },
  'GET /nodes/:ident/volume/targets': { rules: ['baremetal:volume:get'] },
  'GET /volume/connectors/:uuid': { rules: ['baremetal:volume:get'] },
  'GET /volume/targets/:uuid': { rules: ['baremetal:volume:get'] },
  'POST /volume/connectors': { rules: ['baremetal:volume:create'] },
  'POST /volume/targets': { rules: ['baremetal:volume:create'] },
  'PATCH /volume/connectors/:uuid': { rules: ['baremetal:volume:update'] },
  'PATCH /volume/targets/:uuid': { rules: ['baremetal:volume:update'] },
  'DELETE /volume/connectors/:uuid': { rules: ['baremetal:volume:delete'] },
  'DELETE /volume/targets/:uuid': { rules: ['baremetal:volume:delete'] },

  'GET /deploy_templates': { rules: ['baremetal:deploy_template:get'] },
  'GET /deploy_templates/detail': { rules: ['baremetal:deploy_template:get'] },
  'GET /deploy_templates/:ident': { rules: ['baremetal:deploy_template:get'] },
  'POST /deploy_templates': { rules: ['baremetal:deploy_template:create'] },
  'PATCH /deploy_templates/:ident': { rules: ['baremetal:deploy_template:update'] },
  'DELETE /deploy_templates/:ident': { rules: ['baremetal:deploy_template:delete'] },
  'GET /inspection_rules': { rules: ['baremetal:inspection_rule:get'] },
  'GET /inspection_rules/:uuid': { rules: ['baremetal:inspection_rule:get'] },
  'POST /inspection_rules': { rules: ['baremetal:inspection_rule:create'] },
  'PATCH /inspection_rules/:uuid': { rules: ['baremetal:inspection_rule:update'] },
  'DELETE /inspection_rules/:uuid': { rules: ['baremetal:inspection_rule:delete'] },
  'DELETE /inspection_rules': { rules: ['baremetal:inspection_rule:delete'] },

  'GET /allocations': { rules: [], list: 'allocation' },
  'POST /allocations': { rules: [], special: 'allocationCreate' },
  'GET /allocations/:ident': { rules: ['baremetal:allocation:get'], target: 'allocation' },
  'PATCH /allocations/:ident': { rules: ['baremetal:allocation:update'], target: 'allocation' },
  'DELETE /allocations/:ident': { rules: ['baremetal:allocation:delete'], target: 'allocation' },

  'GET /nodes/:ident/vifs': node('baremetal:node:vif:list'),
  // A project attaches only networks it owns (anvil:network:use on the body's network).
  'POST /nodes/:ident/vifs': { rules: ['baremetal:node:vif:attach', 'anvil:network:use'], target: 'nodeAndNetwork' },
  'DELETE /nodes/:ident/vifs/:vif': node('baremetal:node:vif:detach'),

  'GET /networks': { rules: [], list: 'network' },
  'GET /networks/:ident': { rules: ['anvil:network:get'], target: 'network' },
  'POST /networks': { rules: [], special: 'networkCreate' },
  'DELETE /networks/:ident': { rules: ['anvil:network:delete'], target: 'network' },

  // The web console (services/api/console): its files and sign-in are public; its calls are the node list's.
  'GET /console': { public: true, rules: [] },
  'GET /console/*': { public: true, rules: [] },
  'GET /console/api/config': { public: true, rules: [] },
  'POST /console/api/sign-in': { public: true, rules: [] },
  'GET /console/api/session': { rules: [] },
  'GET /console/api/fleet': { rules: [], list: 'node', redactNodes: true },
  'GET /console/api/events': { rules: [], list: 'node' },
  'GET /console/api/picture': { rules: [], list: 'node' },

  'GET /netboot/subnets': { rules: ['anvil:netboot:get'] },
  'POST /netboot/subnets': { rules: ['anvil:netboot:update'] },
  'DELETE /netboot/subnets/:name': { rules: ['anvil:netboot:update'] },
  'GET /netboot/leases': { rules: ['anvil:netboot:get'] },
  'GET /netboot/leases6': { rules: ['anvil:netboot:get'] },
};

/** The table's key of a registered route: HEAD as GET, the /v1 prefix and a trailing slash dropped. */
export function routeKey(method: string, url: string): string {
  const path = url.replace(/^\/v1(?=\/|$)/, '').replace(/(.)\/$/, '$1') || '/';
  return `${method === 'HEAD' ? 'GET' : method} ${path}`;
}
