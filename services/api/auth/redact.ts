// Ironic's filter_threshold: a caller below baremetal:node:get:filter_threshold (a project user)
// sees a node's driver_info, driver_internal_info, last_error and reservation only if the
// matching baremetal:node:get:<field> rule passes for that node (by default: its owner's readers).
import type { Knex } from 'knex';
import { tenancyOfNodes } from '../../../db/nodes.ts';
import { policyCredentials, type Identity } from './identity.ts';
import type { Policy } from './policy/enforcer.ts';

type Doc = Record<string, unknown>;

const REDACTED: Record<string, (rule: string) => unknown> = {
  driver_info: (rule) => ({ content: `** Redacted - Requires ${rule} permission. **` }),
  driver_internal_info: (rule) => ({ content: `** Redacted - Requires ${rule} permission. **` }),
  last_error: (rule) => `** Value Redacted - Requires ${rule} permission. **`,
  reservation: (rule) => `** Redacted - Requires ${rule} permission. **`,
};

/** The node documents of an answer: a collection of nodes, or the one node the path names. */
function nodeDocs(payload: unknown): Doc[] {
  if (!payload || typeof payload !== 'object') return [];
  const p = payload as Doc;
  return Array.isArray(p.nodes) ? (p.nodes as Doc[]) : [p];
}

/**
 * Redacts, in place, the fields the identity may not see in each node of the payload. `ident`
 * is the node a single-node path names (its answer may lack uuid, owner and lessee under ?fields=);
 * a listed node that cannot be told apart is treated as nobody's.
 */
export async function redactNodes(payload: unknown, id: Identity, policy: Policy, knex: Knex, ident?: string): Promise<void> {
  const creds = policyCredentials(id);
  if (policy.allowed('baremetal:node:get:filter_threshold', id, {}, creds)) return;
  const docs = nodeDocs(payload).filter((d) => Object.keys(REDACTED).some((f) => f in d));
  if (docs.length === 0) return;
  const single = docs.length === 1 && !Array.isArray((payload as Doc).nodes) && ident !== undefined;
  const keyOf = (d: Doc) => (single ? ident : typeof d.uuid === 'string' ? d.uuid : undefined);
  // Answers narrowed by ?fields= may lack owner and lessee: read them.
  const missing = docs.filter((d) => !('owner' in d) || !('lessee' in d)).map(keyOf).filter((k): k is string => k !== undefined);
  const byKey = new Map<string, { owner: string | null; lessee: string | null }>();
  for (const r of await tenancyOfNodes(knex, missing)) {
    byKey.set(r.uuid, r);
    if (r.name) byKey.set(r.name, r);
  }
  for (const d of docs) {
    const key = keyOf(d);
    const row = key === undefined ? { owner: null, lessee: null } : byKey.get(key);
    const target = { 'node.owner': (row ? row.owner : d.owner) as string | null, 'node.lessee': (row ? row.lessee : d.lessee) as string | null };
    for (const [field, redacted] of Object.entries(REDACTED)) {
      const rule = `baremetal:node:get:${field}`;
      if (field in d && !policy.allowed(rule, id, target, creds)) d[field] = redacted(rule);
    }
  }
}
