// What a rule's %(node.owner)s / %(node.lessee)s / %(allocation.owner)s refer to, per kind of
// route: the node a path names, the node of a port or port group, an allocation, the node a
// request body names. Loaded only when a rule looks at it.
import type { FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { allocationOfNode, findAllocation } from '../../../../db/allocations.ts';
import { findNetwork } from '../../../../db/networks.ts';
import { findNode, isUuid, tenancyOfNode } from '../../../../db/nodes.ts';
import { findPortgroup } from '../../../../db/portgroups.ts';
import { findPortByName, findPortByUuid } from '../../../../db/ports.ts';
import { findRunbookByName, findRunbookByUuid } from '../../../../db/runbooks.ts';
import type { Target } from './checks.ts';

export type TargetKind = 'node' | 'port' | 'portgroup' | 'allocation' | 'allocationOfNode' | 'bodyNode' | 'runbook' | 'nodeAndRunbook' | 'network' | 'nodeAndNetwork';

interface Loaded { target: Target; ident: string }

type Params = Record<string, string | undefined>;

/** owner and lessee of a node (by id, UUID or name), or undefined when there is none. */
export async function nodeTarget(knex: Knex, nodeIdOrIdent: number | string): Promise<Target | undefined> {
  const row = typeof nodeIdOrIdent === 'number' ? await tenancyOfNode(knex, nodeIdOrIdent) : await findNode(knex, nodeIdOrIdent);
  return row ? { 'node.owner': row.owner ?? null, 'node.lessee': row.lessee ?? null } : undefined;
}

/** %(runbook.owner)s, and whether it is public (a public runbook is shown to anyone). */
async function runbookTarget(knex: Knex, ident: string): Promise<Target | undefined> {
  const r = isUuid(ident) ? await findRunbookByUuid(knex, ident) : await findRunbookByName(knex, ident);
  return r && { 'runbook.owner': r.owner, 'runbook.public': String(r.public) };
}

/** The target of a request, or undefined when the object it names does not exist. */
export async function loadTarget(knex: Knex, kind: TargetKind, req: FastifyRequest): Promise<Loaded | undefined> {
  const params = (req.params ?? {}) as Params;
  switch (kind) {
    case 'node': {
      const ident = params.ident ?? '';
      const target = await nodeTarget(knex, ident);
      return target && { target, ident };
    }
    case 'port': {
      const ident = params.uuid ?? '';
      const port = isUuid(ident) ? await findPortByUuid(knex, ident) : req.apiVersion >= 88 ? await findPortByName(knex, ident) : undefined;
      const target = port && (await nodeTarget(knex, port.node_id));
      return target && { target, ident };
    }
    case 'portgroup': {
      const ident = params.ident ?? '';
      const group = await findPortgroup(knex, ident, isUuid(ident));
      const target = group && (await nodeTarget(knex, group.node_id));
      return target && { target, ident };
    }
    case 'allocation': {
      const ident = params.ident ?? '';
      const a = await findAllocation(knex, ident, isUuid(ident));
      return a && { target: { 'allocation.owner': a.owner ?? null }, ident };
    }
    case 'allocationOfNode': {
      const ident = params.ident ?? '';
      const node = await findNode(knex, ident);
      if (!node) return undefined;
      const a = await allocationOfNode(knex, node.id);
      return { target: { 'node.owner': node.owner, 'node.lessee': node.lessee, 'allocation.owner': a?.owner ?? null }, ident };
    }
    case 'runbook': {
      const ident = params.ident ?? '';
      const target = await runbookTarget(knex, ident);
      return target && { target, ident };
    }
    case 'nodeAndRunbook': {
      const ident = params.ident ?? '';
      const target = await nodeTarget(knex, ident);
      const runbook = (req.body as { runbook?: unknown } | undefined)?.runbook;
      const rb = typeof runbook === 'string' ? await runbookTarget(knex, runbook) : undefined;
      return target && { target: { ...target, 'runbook.owner': rb?.['runbook.owner'] ?? null }, ident };
    }
    case 'network': {
      const ident = params.ident ?? '';
      const n = await findNetwork(knex, ident);
      return n && { target: { 'network.owner': n.owner }, ident };
    }
    case 'nodeAndNetwork': {
      const ident = params.ident ?? '';
      const target = await nodeTarget(knex, ident);
      const vif = (req.body as { id?: unknown } | undefined)?.id;
      const n = typeof vif === 'string' ? await findNetwork(knex, vif) : undefined;
      return target && { target: { ...target, 'network.owner': n?.owner ?? null }, ident };
    }
    case 'bodyNode': {
      const body = req.body as Record<string, unknown> | undefined;
      const ref = body?.node_uuid ?? body?.node_ident;
      const ident = typeof ref === 'string' ? ref : '';
      const target = ident ? await nodeTarget(knex, ident) : undefined;
      return target && { target, ident };
    }
  }
}

/** The rule that decides whether the caller may know the object exists, and the 404 it gets otherwise. */
export const VISIBILITY: Record<TargetKind, { rule: string; kind: string } | undefined> = {
  node: { rule: 'baremetal:node:get', kind: 'Node' },
  port: { rule: 'baremetal:node:get', kind: 'Port' },
  portgroup: { rule: 'baremetal:node:get', kind: 'Portgroup' },
  allocation: { rule: 'baremetal:allocation:get', kind: 'Allocation' },
  allocationOfNode: { rule: 'baremetal:node:get', kind: 'Node' },
  // Ironic checks the create rule against the body's node and never hides it.
  bodyNode: undefined,
  // A runbook the caller may not read is a 403 (or shown when public), never hidden.
  runbook: undefined,
  nodeAndRunbook: { rule: 'baremetal:node:get', kind: 'Node' },
  network: { rule: 'anvil:network:get', kind: 'Network' },
  nodeAndNetwork: { rule: 'baremetal:node:get', kind: 'Node' },
};
