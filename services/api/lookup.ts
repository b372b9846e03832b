// Finding the resource a path names, or Ironic's 404.
import type { Knex } from 'knex';
import { findNode, type NodeRecord } from '../../db/nodes.ts';
import { notFound } from './errors.ts';

/** `{node_ident}`: a UUID or a name. */
export async function findNodeOr404(knex: Knex, ident: string): Promise<NodeRecord> {
  const node = await findNode(knex, ident);
  if (!node) throw notFound('Node', ident);
  return node;
}
