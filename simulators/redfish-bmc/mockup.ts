// Serves a DMTF-layout mockup tree (folders with index.json, `index.json` = /redfish/v1) as it was
// captured, with live state on top: each ComputerSystem is backed by a simulated machine (power,
// boot override), virtual media devices insert and eject, and PATCHes of other resources merge in
// (as the DMTF mockup server does). Partial trees get the collections they link but lack.
import { InvalidInput } from '../../common/errors.ts';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { MemoryMachine, sampleHardware, type SimulatedMachine } from '../machine.ts';
import type { Backend, BackendContext } from './backend.ts';
import {
  collection, etagOf, ifMatchAccepts, isObject, NO_CONTENT, normalizePath, notAllowed, ok, redfishError,
  type Json, type SimRequest, type SimResponse,
} from './http.ts';
import { applyReset, BOOT_ENABLED, DEVICE_OF, isResetType, TARGET_OF } from './power.ts';

interface MockSystem {
  id: string;
  key: string;
  machine: SimulatedMachine;
  resetTypes: string[] | null;
  otherTarget: string | null;
}

interface MockMedia {
  key: string;
  system: MockSystem | null;
  /** A CD/DVD device: the one last inserted into carries the machine's (single) CD image. */
  cd: boolean;
  image: string | null;
  inserted: boolean;
  bootOnNextReset: boolean;
}

type Action = { kind: 'reset'; system: MockSystem } | { kind: 'insert' | 'eject'; media: MockMedia };

const key = (p: string) => normalizePath(p).toLowerCase();

function readTree(dir: string): Map<string, Json> {
  const out = new Map<string, Json>();
  const walk = (abs: string, rel: string) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== '_non-resource') walk(path.join(abs, entry.name), `${rel}/${entry.name}`);
    }
    const file = path.join(abs, 'index.json');
    if (existsSync(file)) {
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new InvalidInput(`Mockup file ${file} is not valid JSON: ${(err as Error).message}`);
      }
      if (isObject(doc)) out.set(key(`/redfish/v1${rel}`), doc);
    }
  };
  walk(dir, '');
  return out;
}

/** Folders that hold resources but have no index.json of their own become collections. */
function synthesize(resources: Map<string, Json>, dir: string): void {
  const children = new Map<string, Set<string>>();
  for (const k of [...resources.keys()]) {
    const parts = k.split('/');
    for (let n = parts.length - 1; n > 3; n--) {
      const parent = parts.slice(0, n).join('/');
      if (!children.has(parent)) children.set(parent, new Set());
      children.get(parent)!.add(parts.slice(0, n + 1).join('/'));
    }
  }
  const realPath = (k: string) => {
    // The folder names carry the original case; rebuild it from the disk.
    let abs = dir;
    const out = ['/redfish/v1'];
    for (const seg of k.split('/').slice(3)) {
      const found = readdirSync(abs).find((n) => n.toLowerCase() === seg) ?? seg;
      abs = path.join(abs, found);
      out.push(found);
    }
    return out.join('/');
  };
  for (const [parent, kids] of children) {
    if (resources.has(parent)) continue;
    const members = [...kids].filter((k) => resources.has(k)).map(realPath);
    if (members.length === 0) continue;
    const name = realPath(parent).split('/').pop()!;
    resources.set(parent, collection(realPath(parent), `${name}Collection`, `${name} Collection`, members));
  }
  if (!resources.has('/redfish/v1')) {
    const root: Json = { '@odata.id': '/redfish/v1', '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot', Id: 'RootService', Name: 'Root Service', RedfishVersion: '1.6.0' };
    for (const k of resources.keys()) {
      const parts = k.split('/');
      if (parts.length === 4) root[realPath(k).split('/').pop()!] = { '@odata.id': realPath(k) };
    }
    resources.set('/redfish/v1', root);
  }
}

function machineFor(doc: Json, index: number): SimulatedMachine {
  const hw = sampleHardware(index);
  const proc = isObject(doc.ProcessorSummary) ? doc.ProcessorSummary : {};
  const mem = isObject(doc.MemorySummary) ? doc.MemorySummary : {};
  if (typeof doc.Manufacturer === 'string') hw.manufacturer = doc.Manufacturer;
  if (typeof doc.Model === 'string') hw.model = doc.Model;
  if (typeof doc.SerialNumber === 'string') hw.serial = doc.SerialNumber;
  if (typeof proc.Count === 'number') hw.cpus = proc.Count;
  if (typeof mem.TotalSystemMemoryGiB === 'number') hw.memoryMb = mem.TotalSystemMemoryGiB * 1024;
  const id = String(doc.Id ?? `system-${index}`);
  return new MemoryMachine(id, typeof doc.UUID === 'string' ? doc.UUID : `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`, String(doc.Name ?? id), hw);
}

/** Seeds a machine with the state the mockup captured. */
async function seed(machine: SimulatedMachine, doc: Json): Promise<void> {
  const boot = isObject(doc.Boot) ? doc.Boot : {};
  if (boot.BootSourceOverrideMode === 'Legacy') machine.setBootOverride({ mode: 'bios' });
  if (doc.PowerState === 'On') await machine.power('on');
  const target = typeof boot.BootSourceOverrideTarget === 'string' ? DEVICE_OF[boot.BootSourceOverrideTarget] : undefined;
  if (target && boot.BootSourceOverrideEnabled !== 'Disabled') machine.setBootOverride({ device: target, persistent: boot.BootSourceOverrideEnabled === 'Continuous' });
}

export class MockupBackend implements Backend {
  readonly servesRegistries = false;
  private readonly resources: Map<string, Json>;
  private readonly systems = new Map<string, MockSystem>();
  private readonly media = new Map<string, MockMedia>();
  private readonly actions = new Map<string, Action>();
  private readonly activeCd = new Map<MockSystem, MockMedia>();

  private constructor(readonly dir: string, private readonly powerDelayMs: number) {
    this.resources = readTree(dir);
    synthesize(this.resources, dir);
  }

  /** Loads the tree; machines (if given) back the tree's systems in order, else new ones are made. */
  static async load(dir: string, opts: { machines?: SimulatedMachine[]; powerDelayMs?: number } = {}): Promise<MockupBackend> {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InvalidInput(`Mockup directory ${dir} does not exist`);
    const backend = new MockupBackend(dir, opts.powerDelayMs ?? 0);
    await backend.wire(opts.machines ?? []);
    return backend;
  }

  private async wire(given: SimulatedMachine[]): Promise<void> {
    let n = 0;
    for (const [k, doc] of this.resources) {
      const type = String(doc['@odata.type'] ?? '');
      if (!type.startsWith('#ComputerSystem.') || type.includes('Collection')) continue;
      const machine = given[n] ?? machineFor(doc, n);
      if (!given[n]) await seed(machine, doc);
      n += 1;
      const sys: MockSystem = { id: String(doc.Id ?? k.split('/').pop()), key: k, machine, resetTypes: this.resetTypesOf(doc), otherTarget: null };
      this.systems.set(k, sys);
      const reset = isObject(doc.Actions) && isObject(doc.Actions['#ComputerSystem.Reset']) ? doc.Actions['#ComputerSystem.Reset'].target : undefined;
      if (typeof reset === 'string') this.actions.set(key(reset), { kind: 'reset', system: sys });
      machine.on('boot', () => { sys.otherTarget = null; for (const m of this.media.values()) if (m.system === sys) m.bootOnNextReset = false; });
    }
    for (const [k, doc] of this.resources) {
      const type = String(doc['@odata.type'] ?? '');
      if (!type.startsWith('#VirtualMedia.') || type.includes('Collection')) continue;
      const system = this.ownerOf(k);
      const types = Array.isArray(doc.MediaTypes) ? doc.MediaTypes.map(String) : null;
      const cd = types ? types.some((t) => t === 'CD' || t === 'DVD') : /cd/i.test(String(doc.Id ?? ''));
      const m: MockMedia = { key: k, system, cd, image: typeof doc.Image === 'string' && doc.Image ? doc.Image : null, inserted: doc.Inserted === true, bootOnNextReset: false };
      this.media.set(k, m);
      if (cd && system && (!this.activeCd.has(system) || m.inserted)) {
        this.activeCd.set(system, m);
        if (m.inserted && m.image) await system.machine.insertMedia(m.image);
      }
      const actions = isObject(doc.Actions) ? doc.Actions : {};
      const oem = isObject(doc.Oem) && isObject(doc.Oem.Hpe) && isObject(doc.Oem.Hpe.Actions) ? doc.Oem.Hpe.Actions : {};
      for (const [name, spec] of [...Object.entries(actions), ...Object.entries(oem)]) {
        if (!isObject(spec) || typeof spec.target !== 'string') continue;
        if (/InsertMedia$|InsertVirtualMedia$/.test(name)) this.actions.set(key(spec.target), { kind: 'insert', media: m });
        if (/EjectMedia$|EjectVirtualMedia$/.test(name)) this.actions.set(key(spec.target), { kind: 'eject', media: m });
      }
    }
  }

  private resetTypesOf(doc: Json): string[] | null {
    const reset = isObject(doc.Actions) ? doc.Actions['#ComputerSystem.Reset'] : undefined;
    if (!isObject(reset)) return null;
    const allowed = reset['ResetType@Redfish.AllowableValues'];
    if (Array.isArray(allowed)) return allowed.map(String);
    const info = typeof reset['@Redfish.ActionInfo'] === 'string' ? this.resources.get(key(reset['@Redfish.ActionInfo'])) : undefined;
    const param = info && Array.isArray(info.Parameters) ? info.Parameters.find((p) => isObject(p) && p.Name === 'ResetType') : undefined;
    return isObject(param) && Array.isArray(param.AllowableValues) ? param.AllowableValues.map(String) : null;
  }

  /** The system a virtual media device belongs to: the one whose path holds it, else the manager's (or the only) system. */
  private ownerOf(k: string): MockSystem | null {
    for (const sys of this.systems.values()) if (k.startsWith(`${sys.key}/`)) return sys;
    const managerKey = /^\/redfish\/v1\/managers\/[^/]+/.exec(k)?.[0];
    const manager = managerKey ? this.resources.get(managerKey) : undefined;
    const servers = manager && isObject(manager.Links) && Array.isArray(manager.Links.ManagerForServers) ? manager.Links.ManagerForServers : [];
    for (const s of servers) if (isObject(s) && typeof s['@odata.id'] === 'string' && this.systems.has(key(s['@odata.id']))) return this.systems.get(key(s['@odata.id']))!;
    return this.systems.size === 1 ? [...this.systems.values()][0] : null;
  }

  root(): Json {
    return this.resources.get('/redfish/v1')!;
  }

  systemOf(k: string): string | null {
    for (const sys of this.systems.values()) if (k === sys.key || k.startsWith(`${sys.key}/`)) return sys.id;
    return null;
  }

  systemIds(): string[] {
    return [...this.systems.values()].map((s) => s.id);
  }

  machines(): SimulatedMachine[] {
    return [...this.systems.values()].map((s) => s.machine);
  }

  private async render(k: string): Promise<Json | null> {
    const doc = this.resources.get(k);
    if (!doc) return null;
    const sys = this.systems.get(k);
    const media = this.media.get(k);
    let live: Json = doc;
    if (sys) {
      const power = await sys.machine.powerState();
      const boot = sys.machine.getBootOverride();
      const target = boot.device === 'none' ? sys.otherTarget ?? 'None' : TARGET_OF[boot.device];
      const docBoot = isObject(doc.Boot) ? doc.Boot : {};
      const liveBoot: Json = { ...docBoot, BootSourceOverrideTarget: target, BootSourceOverrideEnabled: target === 'None' ? 'Disabled' : boot.persistent ? 'Continuous' : 'Once' };
      if ('BootSourceOverrideMode' in docBoot) liveBoot.BootSourceOverrideMode = boot.mode === 'uefi' ? 'UEFI' : 'Legacy';
      live = { ...doc, PowerState: power === 'on' ? 'On' : 'Off', Boot: liveBoot };
    } else if (media) {
      const state = this.mediaState(media);
      live = { ...doc, Image: state.image, ImageName: state.image ? state.image.split('/').pop() : null, Inserted: state.inserted, ConnectedVia: state.inserted ? 'URI' : 'NotConnected' };
      if (isObject(doc.Oem) && isObject(doc.Oem.Hpe)) live.Oem = { ...doc.Oem, Hpe: { ...doc.Oem.Hpe, BootOnNextServerReset: media.bootOnNextReset } };
    }
    if ('@odata.etag' in doc && live !== doc) {
      const { '@odata.etag': _old, ...rest } = live;
      live = { ...rest, '@odata.etag': etagOf(rest) };
    }
    return live;
  }

  private mediaState(m: MockMedia): { image: string | null; inserted: boolean } {
    if (m.cd && m.system && this.activeCd.get(m.system) === m) return m.system.machine.getVirtualMedia();
    return { image: m.image, inserted: m.inserted };
  }

  private async setMedia(m: MockMedia, image: string | null): Promise<void> {
    const active = m.system ? this.activeCd.get(m.system) : undefined;
    if (m.cd && m.system && (image !== null || active === m)) {
      // The machine has one CD: the device inserted into last is the one it reads.
      if (active && active !== m) { active.image = null; active.inserted = false; }
      this.activeCd.set(m.system, m);
      if (image) await m.system.machine.insertMedia(image);
      else await m.system.machine.ejectMedia();
    } else {
      m.image = image;
      m.inserted = image !== null;
    }
  }

  async handle(req: SimRequest, ctx: BackendContext): Promise<SimResponse | null> {
    const action = this.actions.get(req.key);
    if (action) return req.method === 'POST' ? this.act(action, req, ctx) : notAllowed(req.method, req.path);
    const current = await this.render(req.key);
    if (!current) return null;
    if (req.method === 'GET') return ok(current);
    if (req.method !== 'PATCH') return notAllowed(req.method, req.path);
    if (!isObject(req.body)) return redfishError(400, 'Base.1.8.MalformedJSON', 'The request body must be a JSON object.');
    const etag = current['@odata.etag'];
    const ifMatch = req.headers['if-match'];
    if (typeof etag === 'string' && ifMatch !== undefined && !ifMatchAccepts(String(ifMatch), etag)) {
      return redfishError(412, 'Base.1.8.PreconditionFailed', 'The ETag supplied did not match the ETag required to change this resource.');
    }
    const sys = this.systems.get(req.key);
    if (sys) return this.patchSystem(sys, current, req.body);
    const media = this.media.get(req.key);
    if (media) return this.patchMedia(media, req.body);
    this.resources.set(req.key, merge(this.resources.get(req.key)!, req.body));
    return NO_CONTENT;
  }

  private async act(action: Action, req: SimRequest, ctx: BackendContext): Promise<SimResponse> {
    const body = isObject(req.body) ? req.body : {};
    if (action.kind === 'reset') {
      const type = body.ResetType;
      const allowed = action.system.resetTypes;
      if (typeof type !== 'string') return redfishError(400, 'Base.1.8.ActionParameterMissing', 'The action ComputerSystem.Reset requires the parameter ResetType to be present in the request body.');
      if (!isResetType(type) || (allowed && !allowed.includes(type))) return redfishError(400, 'Base.1.8.ActionParameterValueNotInList', `The value ${type} for the parameter ResetType is not in the list of acceptable values.`);
      if (ctx.faults.for(action.system.id)?.powerStuck) return NO_CONTENT;
      await applyReset(action.system.machine, type, this.powerDelayMs);
      return NO_CONTENT;
    }
    if (action.kind === 'eject') {
      await this.setMedia(action.media, null);
      action.media.bootOnNextReset = false;
      return NO_CONTENT;
    }
    if (typeof body.Image !== 'string' || body.Image === '') return redfishError(400, 'Base.1.8.ActionParameterMissing', 'The action VirtualMedia.InsertMedia requires the parameter Image to be present in the request body.');
    await this.setMedia(action.media, body.Image);
    return NO_CONTENT;
  }

  private patchSystem(sys: MockSystem, current: Json, body: Json): SimResponse {
    const boot = body.Boot;
    if (!isObject(boot) || Object.keys(body).some((k) => k !== 'Boot')) return redfishError(400, 'Base.1.8.PropertyNotWritable', 'Only Boot can be changed on this system.');
    const allowed = isObject(current.Boot) ? current.Boot['BootSourceOverrideTarget@Redfish.AllowableValues'] : undefined;
    for (const [k, v] of Object.entries(boot)) {
      if (k === 'BootSourceOverrideTarget') {
        if (typeof v !== 'string' || (Array.isArray(allowed) && !allowed.includes(v))) return redfishError(400, 'Base.1.8.PropertyValueNotInList', `The value ${JSON.stringify(v)} for the property BootSourceOverrideTarget is not in the list of acceptable values.`);
        const device = DEVICE_OF[v];
        sys.machine.setBootOverride({ device: device ?? 'none' });
        sys.otherTarget = device ? null : v === 'None' ? null : v;
      } else if (k === 'BootSourceOverrideEnabled') {
        if (typeof v !== 'string' || !BOOT_ENABLED.includes(v)) return redfishError(400, 'Base.1.8.PropertyValueNotInList', `The value ${JSON.stringify(v)} for the property BootSourceOverrideEnabled is not in the list of acceptable values.`);
        if (v === 'Disabled') { sys.machine.setBootOverride({ device: 'none' }); sys.otherTarget = null; } else sys.machine.setBootOverride({ persistent: v === 'Continuous' });
      } else if (k === 'BootSourceOverrideMode') {
        if (v !== 'UEFI' && v !== 'Legacy') return redfishError(400, 'Base.1.8.PropertyValueNotInList', `The value ${JSON.stringify(v)} for the property BootSourceOverrideMode is not in the list of acceptable values.`);
        sys.machine.setBootOverride({ mode: v === 'UEFI' ? 'uefi' : 'bios' });
      }
    }
    return NO_CONTENT;
  }

  private async patchMedia(m: MockMedia, body: Json): Promise<SimResponse> {
    if (isObject(body.Oem) && isObject(body.Oem.Hpe) && typeof body.Oem.Hpe.BootOnNextServerReset === 'boolean') {
      m.bootOnNextReset = body.Oem.Hpe.BootOnNextServerReset;
      if (m.bootOnNextReset && m.system) m.system.machine.setBootOverride({ device: 'cdrom', persistent: false });
    }
    if ('Image' in body || 'Inserted' in body) {
      const image = typeof body.Image === 'string' && body.Image !== '' ? body.Image : body.Inserted === false ? null : this.mediaState(m).image;
      await this.setMedia(m, body.Inserted === false ? null : image);
    }
    return NO_CONTENT;
  }

  close(): void {}
}

function merge(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = isObject(v) && isObject(base[k]) ? merge(base[k] as Json, v) : v;
  return out;
}
