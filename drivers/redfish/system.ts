// A node's ComputerSystem on its BMC, found by walking the collections (never by a guessed Id),
// and the operations every Redfish interface shares: power state, reset types (AllowableValues or
// ActionInfo), waiting for a power state, virtual media found under the System or its Managers.
import { BmcTimeout, DriverError, InvalidInput, MissingParameter, UnsupportedOperation } from '../../common/errors.ts';
import { pollUntil } from '../../common/poll.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import type { TaskContext } from '../interfaces.ts';
import { RedfishError, type Json, type RedfishCalls, type RedfishClient } from './client.ts';
import { clientFor } from './connections.ts';
import { parseRedfishInfo } from './driver-info.ts';

export const RESET_TYPES = ['On', 'ForceOn', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'Nmi', 'PushPowerButton', 'PowerCycle', 'FullPowerCycle', 'Suspend', 'Pause', 'Resume'];

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function linkOf(v: unknown): string | null {
  return isObject(v) && typeof v['@odata.id'] === 'string' ? v['@odata.id'] : null;
}

export function memberLinks(collection: Json): string[] {
  return Array.isArray(collection.Members) ? collection.Members.map(linkOf).filter((l): l is string => l !== null) : [];
}

/** Splits values some firmware concatenates ("GracefulShutdownGracefulRestart" on Supermicro). */
export function splitResetTypes(values: unknown[]): string[] {
  const out: string[] = [];
  for (const raw of values) {
    let rest = String(raw);
    if (RESET_TYPES.includes(rest)) { out.push(rest); continue; }
    while (rest) {
      const hit = RESET_TYPES.filter((t) => rest.startsWith(t)).sort((a, b) => b.length - a.length)[0];
      if (!hit) break;
      out.push(hit);
      rest = rest.slice(hit.length);
    }
  }
  return [...new Set(out)];
}

// What the BMC said of its systems is kept for driver_info/redfish_cache_ttl, and only when it was good.
const systemPaths = new WeakMap<RedfishClient, Map<string, { at: number; path: string }>>();
// Many nodes behind one endpoint find their systems in the same collection: read it once a while.
const systemMembers = new WeakMap<RedfishClient, { at: number; members: Promise<string[]> }>();

const isFresh = (client: RedfishClient, at: number) => Date.now() - at < client.info.cacheTtlSec * 1000;

// Members by their last path segment, lower-cased: 10,000 nodes behind one endpoint each find theirs
// in one lookup, not a scan of the whole collection (which made a sweep quadratic).
const memberIndexes = new WeakMap<string[], Map<string, string>>();

function memberById(members: string[], id: string): string | undefined {
  let index = memberIndexes.get(members);
  if (!index) {
    index = new Map();
    for (const m of members) {
      const key = m.replace(/\/+$/, '').split('/').pop()!.toLowerCase();
      if (!index.has(key)) index.set(key, m);
    }
    memberIndexes.set(members, index);
  }
  return index.get(id.toLowerCase());
}

function membersOf(client: RedfishClient, calls: RedfishCalls, systems: string, fresh = false): Promise<string[]> {
  const cached = systemMembers.get(client);
  if (cached && !fresh && isFresh(client, cached.at)) return cached.members;
  const members = calls.getJson(systems).then(memberLinks);
  members.catch(() => systemMembers.delete(client));
  systemMembers.set(client, { at: Date.now(), members });
  return members;
}

/** The system's path; `calls` are the client's calls bound to the operation, the client keys the caches. */
async function resolveSystem(client: RedfishClient, calls: RedfishCalls, node: NodeRecord, systemId: string | null): Promise<string> {
  const cache = systemPaths.get(client) ?? new Map<string, { at: number; path: string }>();
  systemPaths.set(client, cache);
  const cached = cache.get(systemId ?? '');
  if (cached && isFresh(client, cached.at)) return cached.path;
  const root = await calls.root();
  const systems = linkOf(root.Systems);
  if (!systems) throw new DriverError(`The BMC at ${client.info.origin} has no Systems collection in its service root`);
  let found: string | null = null;
  if (systemId?.startsWith('/')) {
    await calls.get(systemId);
    found = systemId;
  } else {
    let members = await membersOf(client, calls, systems);
    const listed = (list: string[]) => systemId === null || memberById(list, systemId) !== undefined;
    if (!listed(members)) members = await membersOf(client, calls, systems, true);
    if (members.length === 0) throw new DriverError(`The BMC at ${client.info.origin} lists no systems in ${systems}`);
    if (systemId === null) {
      if (members.length > 1) {
        throw new MissingParameter(`driver_info/redfish_system_id is required for node ${node.uuid}: the BMC at ${client.info.origin} has ${members.length} systems (${members.slice(0, 5).join(', ')}${members.length > 5 ? ', ...' : ''})`);
      }
      found = members[0];
    } else {
      const want = systemId.toLowerCase();
      found = memberById(members, systemId) ?? null;
      for (const m of found ? [] : members) {
        const doc = await calls.getJson(m);
        if (String(doc.Id ?? '').toLowerCase() === want || String(doc.UUID ?? '').toLowerCase() === want) { found = m; break; }
      }
      if (!found) throw new InvalidInput(`The system "${systemId}" (driver_info/redfish_system_id of node ${node.uuid}) is not among the ${members.length} systems of the BMC at ${client.info.origin}`);
    }
  }
  cache.set(systemId ?? '', { at: Date.now(), path: found });
  return found;
}

export type PowerState = 'power on' | 'power off';

/** A transitional state counts as the state not yet left: PoweringOn is still off, PoweringOff still on. */
export function powerStateOf(system: Json): PowerState {
  const s = String(system.PowerState ?? '');
  if (s === 'On' || s === 'PoweringOff') return 'power on';
  if (s === 'Off' || s === 'PoweringOn') return 'power off';
  throw new DriverError(`The BMC reports an unknown power state "${s}" for ${String(system['@odata.id'] ?? 'the system')}`);
}

/**
 * The system document a task's power-state read fetched, handed once to the health read that the
 * power sync makes next on the same task: one GET per node and sweep gives both (API 1.109).
 */
const systemReads = new WeakMap<RedfishTask, Json>();

export function rememberSystemRead(task: RedfishTask, system: Json): void {
  systemReads.set(task, system);
}

export function takeSystemRead(task: RedfishTask): Json | undefined {
  const system = systemReads.get(task);
  systemReads.delete(task);
  return system;
}

export interface MediaDevice { path: string; doc: Json }

/** What a RedfishNode keeps of its task: whose system it is, the signal that ends its calls and waits, how long a power change may take. */
export type RedfishTask = Pick<TaskContext, 'node' | 'signal' | 'config'>;

export class RedfishNode {
  readonly node: NodeRecord;
  /** Aborts every wait on the BMC (the task's signal; the calls are bound to it too). */
  readonly signal: AbortSignal;
  /** Seconds a power change may take (conductor.powerStateChangeTimeout). */
  readonly powerTimeoutSec: number;

  private constructor(readonly client: RedfishCalls, task: RedfishTask, readonly systemPath: string) {
    this.node = task.node;
    this.signal = task.signal;
    this.powerTimeoutSec = task.config.conductor.powerStateChangeTimeout;
  }

  /** The node's system, its calls ended by the task's signal (a timed-out operation says what the BMC did). */
  static async open(ctx: RedfishTask): Promise<RedfishNode> {
    const client = clientFor(ctx.node);
    const calls = client.bound(ctx.signal);
    return new RedfishNode(calls, ctx, await resolveSystem(client, calls, ctx.node, parseRedfishInfo(ctx.node).systemId));
  }

  system(): Promise<Json> {
    return this.client.getJson(this.systemPath);
  }

  async powerState(): Promise<PowerState> {
    return powerStateOf(await this.system());
  }

  /** The reset types the system advertises; null when it says nothing (then any may be tried). */
  async resetTypes(system?: Json): Promise<string[] | null> {
    const sys = system ?? (await this.system());
    const reset = isObject(sys.Actions) ? sys.Actions['#ComputerSystem.Reset'] : undefined;
    if (!isObject(reset)) throw new UnsupportedOperation(`The system ${this.systemPath} has no ComputerSystem.Reset action`);
    const allowed = reset['ResetType@Redfish.AllowableValues'];
    if (Array.isArray(allowed)) return splitResetTypes(allowed);
    if (typeof reset['@Redfish.ActionInfo'] === 'string') {
      const info = await this.client.getJson(reset['@Redfish.ActionInfo']);
      const param = Array.isArray(info.Parameters) ? info.Parameters.find((p) => isObject(p) && p.Name === 'ResetType') : undefined;
      if (isObject(param) && Array.isArray(param.AllowableValues)) return splitResetTypes(param.AllowableValues);
    }
    return null;
  }

  /** The first advertised of the given reset types (in order of preference), or null. */
  async pickReset(preferred: string[], system?: Json): Promise<string | null> {
    const allowed = await this.resetTypes(system);
    return preferred.find((t) => !allowed || allowed.includes(t)) ?? null;
  }

  async reset(type: string, system?: Json): Promise<void> {
    const sys = system ?? (await this.system());
    const reset = isObject(sys.Actions) && isObject(sys.Actions['#ComputerSystem.Reset']) ? sys.Actions['#ComputerSystem.Reset'] : null;
    const target = reset && typeof reset.target === 'string' ? reset.target : null;
    if (!target) throw new UnsupportedOperation(`The system ${this.systemPath} has no ComputerSystem.Reset action target`);
    await this.client.post(target, { ResetType: type });
  }

  /** Polls until the BMC reports `target`; BmcTimeout after timeoutSec (default: the task's power timeout). */
  async waitForPower(target: PowerState, timeoutSec = this.powerTimeoutSec): Promise<void> {
    let state: PowerState | undefined;
    await pollUntil(async () => ((state = await this.powerState()) === target ? true : undefined), {
      timeoutSec, signal: this.signal,
      timedOut: () => new BmcTimeout(`Timed out after ${timeoutSec} s waiting for the BMC at ${this.client.info.origin} to report ${target} for node ${this.node.uuid} (it still reports ${state})`),
    });
  }

  async managers(system?: Json): Promise<string[]> {
    const sys = system ?? (await this.system());
    const managedBy = isObject(sys.Links) && Array.isArray(sys.Links.ManagedBy) ? sys.Links.ManagedBy.map(linkOf).filter((l): l is string => !!l) : [];
    if (managedBy.length) return managedBy;
    const managers = linkOf((await this.client.root()).Managers);
    return managers ? memberLinks(await this.client.getJson(managers)) : [];
  }

  /** Collections that may hold virtual media: the system's first (iDRAC 6+, DMTF), then its managers' (iLO, older iDRAC, AMI). */
  private async mediaCollections(): Promise<string[]> {
    const sys = await this.system();
    const out: string[] = [];
    const own = linkOf(sys.VirtualMedia);
    if (own) out.push(own);
    for (const m of await this.managers(sys)) {
      try {
        const link = linkOf((await this.client.getJson(m)).VirtualMedia);
        if (link) out.push(link);
      } catch (err) {
        if (!(err instanceof RedfishError && err.status === 404)) throw err;
      }
    }
    return out;
  }

  /** The devices of one VirtualMedia collection; none when the collection is gone (404). */
  private async mediaMembers(collection: string): Promise<MediaDevice[]> {
    let members: string[];
    try {
      members = memberLinks(await this.client.getJson(collection));
    } catch (err) {
      if (err instanceof RedfishError && err.status === 404) return [];
      throw err;
    }
    const docs: MediaDevice[] = [];
    for (const m of members) docs.push({ path: m, doc: await this.client.getJson(m) });
    return docs;
  }

  /** Every virtual media device of the node (the system's and its managers'), as GET /v1/nodes/{id}/vmedia lists them. */
  async mediaDevices(): Promise<MediaDevice[]> {
    const out: MediaDevice[] = [];
    for (const c of await this.mediaCollections()) out.push(...(await this.mediaMembers(c)));
    return out;
  }

  /** The virtual CD/DVD device, chosen by MediaTypes (not by its Id); AMI leaves MediaTypes out, so then by name. */
  async cdDevice(): Promise<MediaDevice> {
    const collections = await this.mediaCollections();
    for (const c of collections) {
      const docs = await this.mediaMembers(c);
      const byType = docs.find((d) => Array.isArray(d.doc.MediaTypes) && d.doc.MediaTypes.some((t) => t === 'CD' || t === 'DVD'));
      const byName = docs.find((d) => !Array.isArray(d.doc.MediaTypes) && /cd|dvd/i.test(`${String(d.doc.Id ?? '')} ${String(d.doc.Name ?? '')}`));
      if (byType ?? byName) return (byType ?? byName)!;
    }
    throw new UnsupportedOperation(`The BMC at ${this.client.info.origin} offers no virtual CD/DVD device for ${this.systemPath} (looked in ${collections.length ? collections.join(', ') : 'no VirtualMedia collection'})`);
  }

  async insertMedia(device: MediaDevice, image: string): Promise<void> {
    if (device.doc.Inserted === true) await this.ejectMedia(device);
    const actions = isObject(device.doc.Actions) ? device.doc.Actions : {};
    const insert = isObject(actions['#VirtualMedia.InsertMedia']) ? actions['#VirtualMedia.InsertMedia'] : null;
    if (!insert || typeof insert.target !== 'string') {
      // No Insert action (DMTF mockup, some Lenovo): the image is set by PATCH.
      await this.client.patch(device.path, { Image: image, Inserted: true });
      return;
    }
    const protocol = new URL(image).protocol.replace(':', '').toUpperCase();
    const body: Json = { Image: image, Inserted: true, WriteProtected: true };
    const withTransfer: Json = { ...body, TransferProtocolType: protocol, TransferMethod: 'Stream' };
    const declares = Array.isArray(insert['TransferProtocolType@Redfish.AllowableValues']);
    try {
      await this.client.post(insert.target, declares ? withTransfer : body);
    } catch (err) {
      // iDRAC 6+ and AMI refuse InsertMedia without TransferProtocolType/TransferMethod (400): retry with them.
      if (declares || !(err instanceof RedfishError) || err.status !== 400 || !/Transfer(ProtocolType|Method)/.test(err.message)) throw err;
      await this.client.post(insert.target, withTransfer);
    }
  }

  async ejectMedia(device: MediaDevice): Promise<void> {
    if (device.doc.Inserted !== true && !device.doc.Image) return;
    const actions = isObject(device.doc.Actions) ? device.doc.Actions : {};
    const eject = isObject(actions['#VirtualMedia.EjectMedia']) ? actions['#VirtualMedia.EjectMedia'] : null;
    if (eject && typeof eject.target === 'string') await this.client.post(eject.target, {});
    else await this.client.patch(device.path, { Image: null, Inserted: false });
  }
}
