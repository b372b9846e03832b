// The UpdateService of generated systems: a FirmwareInventory (each system's BIOS and BMC) and
// SimpleUpdate, which runs as a task (TaskService). As on real BMCs, a BMC image is active once the
// task ends (the BMC restarts itself); a BIOS image is staged and flashed at the host's next reset.
import type { BackendContext } from './backend.ts';
import { collection, isObject, link, notAllowed, ok, redfishError, type Json, type SimRequest, type SimResponse } from './http.ts';
import type { SimSystem } from './system.ts';

export const UPDATE_SERVICE_PATH = '/redfish/v1/UpdateService';
const INVENTORY_PATH = `${UPDATE_SERVICE_PATH}/FirmwareInventory`;
const SIMPLE_UPDATE = `${UPDATE_SERVICE_PATH}/Actions/UpdateService.SimpleUpdate`;

export type FirmwareKind = 'BIOS' | 'BMC';
const KINDS: FirmwareKind[] = ['BIOS', 'BMC'];

/** The version an image carries, from its file name (bios-2.2.0.bin → 2.2.0), as the simulator's stand-in for package metadata. */
export function imageVersion(uri: string): string | null {
  const file = uri.split(/[?#]/)[0].split('/').pop() ?? '';
  return /(\d+(?:\.\d+)+)/.exec(file)?.[1] ?? null;
}

function memberId(system: SimSystem, kind: FirmwareKind, single: boolean): string {
  return single ? kind : `${kind}-${system.ids.system}`;
}

export class UpdateService {
  constructor(private readonly systems: SimSystem[]) {}

  private get single(): boolean {
    return this.systems.length === 1;
  }

  private members(): { id: string; system: SimSystem; kind: FirmwareKind }[] {
    return this.systems.flatMap((system) => KINDS.map((kind) => ({ id: memberId(system, kind, this.single), system, kind })));
  }

  private renderItem(id: string, system: SimSystem, kind: FirmwareKind): Json {
    return {
      '@odata.id': `${INVENTORY_PATH}/${id}`,
      '@odata.type': '#SoftwareInventory.v1_2_3.SoftwareInventory',
      Id: id,
      Name: kind === 'BIOS' ? 'System BIOS' : 'BMC Firmware',
      Version: system.firmwareVersion(kind),
      Updateable: true,
      Status: { State: 'Enabled', Health: 'OK' },
      RelatedItem: [link(kind === 'BIOS' ? system.systemPath : system.managerPath)],
    };
  }

  async handle(rest: string[], req: SimRequest, ctx: BackendContext): Promise<SimResponse | null> {
    const at = rest.join('/');
    if (at === '') {
      if (req.method !== 'GET') return notAllowed(req.method, req.path);
      return ok({
        '@odata.id': UPDATE_SERVICE_PATH, '@odata.type': '#UpdateService.v1_8_0.UpdateService', Id: 'UpdateService', Name: 'Update Service', ServiceEnabled: true,
        FirmwareInventory: link(INVENTORY_PATH),
        Actions: { '#UpdateService.SimpleUpdate': { target: SIMPLE_UPDATE, 'TransferProtocol@Redfish.AllowableValues': ['HTTP', 'HTTPS'] } },
      });
    }
    if (at === 'firmwareinventory') return req.method === 'GET' ? ok(collection(INVENTORY_PATH, 'SoftwareInventoryCollection', 'Firmware Inventory Collection', this.members().map((m) => `${INVENTORY_PATH}/${m.id}`))) : notAllowed(req.method, req.path);
    if (rest[0] === 'firmwareinventory' && rest.length === 2) {
      const m = this.members().find((x) => x.id.toLowerCase() === rest[1]);
      if (!m) return null;
      return req.method === 'GET' ? ok(this.renderItem(m.id, m.system, m.kind)) : notAllowed(req.method, req.path);
    }
    if (at === 'actions/updateservice.simpleupdate') return req.method === 'POST' ? this.simpleUpdate(req, ctx) : notAllowed(req.method, req.path);
    return null;
  }

  /** The inventory members, systems or managers a request's Targets name. */
  private targetsOf(body: Json): { system: SimSystem; kind: FirmwareKind }[] | SimResponse {
    const targets = body.Targets;
    if (targets === undefined) {
      if (this.single) return [{ system: this.systems[0], kind: 'BIOS' }];
      return redfishError(400, 'Base.1.8.ActionParameterMissing', 'The action UpdateService.SimpleUpdate requires the parameter Targets on a service with several systems.');
    }
    if (!Array.isArray(targets) || targets.length === 0 || targets.some((t) => typeof t !== 'string')) return redfishError(400, 'Base.1.8.ActionParameterValueTypeError', 'The parameter Targets must be a non-empty array of URIs.');
    const out: { system: SimSystem; kind: FirmwareKind }[] = [];
    for (const t of targets as string[]) {
      const key = t.replace(/\/+$/, '').toLowerCase();
      const member = this.members().find((m) => `${INVENTORY_PATH}/${m.id}`.toLowerCase() === key);
      const system = this.systems.find((s) => s.systemPath.toLowerCase() === key);
      const manager = this.systems.find((s) => s.managerPath.toLowerCase() === key);
      if (member) out.push(member);
      else if (system) out.push({ system, kind: 'BIOS' });
      else if (manager) out.push({ system: manager, kind: 'BMC' });
      else return redfishError(400, 'Base.1.8.ActionParameterValueNotInList', `The target ${t} of UpdateService.SimpleUpdate is not an updatable resource.`);
    }
    return out;
  }

  private simpleUpdate(req: SimRequest, ctx: BackendContext): SimResponse {
    const body = isObject(req.body) ? req.body : {};
    const uri = body.ImageURI;
    if (typeof uri !== 'string' || uri === '') return redfishError(400, 'Base.1.8.ActionParameterMissing', 'The action UpdateService.SimpleUpdate requires the parameter ImageURI to be present in the request body.');
    if (!/^https?:\/\//i.test(uri)) return redfishError(400, 'Base.1.8.ActionParameterNotSupported', `The ImageURI ${uri} uses a transfer protocol this service does not support (HTTP, HTTPS).`);
    const targets = this.targetsOf(body);
    if (!Array.isArray(targets)) return targets;
    const version = imageVersion(uri);
    const task = ctx.tasks.create('Firmware Update', 0, async () => {
      // A BMC fetches the image before it flashes anything: an unreachable or missing image fails the task.
      const res = await fetch(uri).catch((err: Error) => { throw new Error(`Downloading ${uri} failed: ${err.message}`); });
      if (!res.ok) throw new Error(`Downloading ${uri} failed: HTTP ${res.status}`);
      await res.arrayBuffer();
      if (!version) throw new Error(`The image ${uri} is not a valid firmware package (no version in it).`);
      for (const { system, kind } of targets) system.stageFirmware(kind, version);
    });
    return { status: 202, headers: { Location: `/redfish/v1/TaskService/TaskMonitors/${task.id}` }, body: ctx.tasks.render(task) };
  }
}
