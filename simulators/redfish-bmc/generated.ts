// The backend of generated systems: one SimSystem per simulated machine, all behind one
// endpoint (Systems/{id}) or one per endpoint (per-port mode, with the vendor's own Ids).
import type { Backend, BackendContext } from './backend.ts';
import { collection, type Json, type SimRequest, type SimResponse, notAllowed } from './http.ts';
import type { SimSystem } from './system.ts';
import { IRMC_DATA } from './irmc.ts';
import { UPDATE_SERVICE_PATH, UpdateService } from './update-service.ts';
import { EVENT_SERVICE_PATH, EventService } from './event-service.ts';

const KINDS = ['systems', 'managers', 'chassis'] as const;
type Kind = (typeof KINDS)[number];

export class GeneratedBackend implements Backend {
  readonly servesRegistries = true;
  private readonly updates: UpdateService;
  readonly events: EventService;
  private readonly index: Record<Kind, Map<string, SimSystem>> = { systems: new Map(), managers: new Map(), chassis: new Map() };

  constructor(private readonly systems: SimSystem[], private readonly uuid: string) {
    this.updates = new UpdateService(systems);
    this.events = new EventService(systems);
    for (const s of systems) {
      this.index.systems.set(s.ids.system.toLowerCase(), s);
      this.index.managers.set(s.ids.manager.toLowerCase(), s);
      this.index.chassis.set(s.ids.chassis.toLowerCase(), s);
    }
  }

  root(): Json {
    const flavor = this.systems[0]?.spec.flavor ?? 'generic';
    const root: Json = {
      '@odata.id': '/redfish/v1',
      '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot',
      Id: 'RootService',
      Name: flavor === 'ilo' ? 'HPE RESTful Root Service' : flavor === 'idrac' ? 'Root Service' : 'Anvil Redfish Service',
      RedfishVersion: '1.11.0',
      UUID: this.uuid,
      Systems: { '@odata.id': '/redfish/v1/Systems' },
      Managers: { '@odata.id': '/redfish/v1/Managers' },
      Chassis: { '@odata.id': '/redfish/v1/Chassis' },
      UpdateService: { '@odata.id': UPDATE_SERVICE_PATH },
      EventService: { '@odata.id': EVENT_SERVICE_PATH },
    };
    if (flavor === 'ilo') root.Oem = { Hpe: { Manager: [{ ManagerType: 'iLO 5', ManagerFirmwareVersion: '2.46' }] } };
    if (this.systems[0]?.spec.irmc) Object.assign(root, IRMC_DATA.serviceRoot);
    if (flavor === 'idrac') root.Oem = { Dell: { '@odata.type': '#DellServiceRoot.v1_0_0.DellServiceRoot', ManagerMACAddress: '00:00:00:00:00:00' } };
    return root;
  }

  systemOf(key: string): string | null {
    const m = /^\/redfish\/v1\/(systems|managers|chassis)\/([^/]+)/.exec(key);
    if (!m) return null;
    return this.index[m[1] as Kind].get(m[2])?.ids.system ?? null;
  }

  systemIds(): string[] {
    return this.systems.map((s) => s.ids.system);
  }

  async handle(req: SimRequest, ctx: BackendContext): Promise<SimResponse | null> {
    const parts = req.key.split('/').slice(3); // '', 'redfish', 'v1', ...
    if (parts[0] === 'updateservice') return this.updates.handle(parts.slice(1), req, ctx);
    if (parts[0] === 'eventservice') return this.events.handle(parts.slice(1), req);
    const kind = parts[0] as Kind;
    if (!KINDS.includes(kind)) return null;
    if (parts.length === 1) {
      if (req.method !== 'GET') return notAllowed(req.method, req.path);
      const path = `/redfish/v1/${kind === 'systems' ? 'Systems' : kind === 'managers' ? 'Managers' : 'Chassis'}`;
      const of = (s: SimSystem) => (kind === 'systems' ? s.systemPath : kind === 'managers' ? s.managerPath : s.chassisPath);
      const type = kind === 'systems' ? 'ComputerSystemCollection' : kind === 'managers' ? 'ManagerCollection' : 'ChassisCollection';
      return { status: 200, body: collection(path, type, `${type.replace('Collection', '')} Collection`, this.systems.map(of)) };
    }
    const system = this.index[kind].get(parts[1]);
    if (!system) return null;
    return system.handle(kind, parts.slice(2), req, ctx);
  }

  close(): void {}
}
