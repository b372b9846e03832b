// BMO's DataImage (ironic.go AttachDataImage, GetDataImageStatus, DetachDataImage): a CD image
// through POST/GET/DELETE /v1/nodes/{id}/vmedia; the status waits out a node reservation (busy).
import { expect } from 'vitest';
import type { Host } from './host.ts';
import { nodes } from './gophercloud.ts';

/** GetDataImageStatus: the node must not be reserved (ErrNodeIsBusy, retried), then any inserted medium counts. */
export async function getDataImageStatus(host: Host): Promise<boolean> {
  for (let i = 0; ; i++) {
    const node = await nodes.get(host.client, host.nodeID!);
    if (!node.reservation) break;
    if (i > 200) throw new Error(`node ${host.nodeID} stays reserved by ${node.reservation}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const media = await nodes.getVirtualMedia(host.client, host.nodeID!);
  return media.some((m) => m.inserted);
}

export async function attachDataImage(host: Host, url: string): Promise<void> {
  await nodes.attachVirtualMedia(host.client, host.nodeID!, { device_type: 'cdrom', image_url: url });
}

export async function detachDataImage(host: Host): Promise<void> {
  await nodes.detachVirtualMedia(host.client, host.nodeID!, ['cdrom']);
}

/** The DataImage controller's cycle: attach, see it inserted, detach, see it gone. */
export async function dataImageCycle(host: Host, url: string): Promise<void> {
  expect(await getDataImageStatus(host)).toBe(false);
  await attachDataImage(host, url);
  expect(await getDataImageStatus(host)).toBe(true);
  const media = await nodes.getVirtualMedia(host.client, host.nodeID!);
  expect(media.find((m) => m.inserted)?.image).toBe(url);
  await detachDataImage(host);
  expect(await getDataImageStatus(host)).toBe(false);
}
