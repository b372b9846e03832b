// What a node's storage interface makes of its volumes, computed once where the volumes are read:
// by the API's validate, the conductor's deploy and the interfaces that change what they do for a
// node that boots a volume (the deploy writes no image, the boot interface writes a SAN boot).
import { DriverError } from '../../common/errors.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import type { IscsiBootVolume, NodeStorage, NodeVolumes, StorageInterface, TaskContext } from '../interfaces.ts';

export function nodeStorage(storage: StorageInterface, node: NodeRecord, volumes: NodeVolumes): NodeStorage {
  return { volumes, writesImage: storage.shouldWriteImage?.(node, volumes) ?? true };
}

/** The task's node as its storage interface sees it. */
export async function storageOf(ctx: TaskContext): Promise<NodeStorage> {
  return nodeStorage(ctx.driver.storage, ctx.node, (await ctx.volumes?.()) ?? { connectors: [], targets: [] });
}

/** The volume the task's node boots instead of a written image; null: it boots what its deploy wrote. */
export async function bootVolumeOf(ctx: TaskContext): Promise<IscsiBootVolume | null> {
  const { volumes, writesImage } = await storageOf(ctx);
  if (writesImage) return null;
  const storage = ctx.driver.storage;
  if (!storage.bootVolume) throw new DriverError(`The ${storage.name} storage interface of node ${ctx.node.uuid} says it writes no image but names no volume to boot`);
  return storage.bootVolume(ctx.node, volumes);
}
