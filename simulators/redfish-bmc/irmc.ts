// Fujitsu iRMC's OEM side of a generated system (flavours irmc and irmc-s4), from the data in
// irmc/oem.json (sources in irmc/README.md): Oem.ts_fujitsu on the system and the BIOS (its POST
// flag), the BootConfig resource, the remote image mount (OEM VirtualMedia settings and the
// FTSComputerSystem.VirtualMedia action), the OEM reset, the OEM System and FirmwareInventory.
// OEM PATCHes need If-Match with the resource's @odata.etag as iRMC writes it: a bare number,
// not the quoted form (iRMC answers 412 to that).
import { readFileSync } from 'node:fs';
import type { MachineBootDevice, SimulatedMachine } from '../machine.ts';
import type { BackendContext } from './backend.ts';
import { isObject, NO_CONTENT, notAllowed, ok, redfishError, type Json, type SimRequest, type SimResponse } from './http.ts';
import { applyReset, DEVICE_OF, TARGET_OF } from './power.ts';

interface ErrorSpec { status: number; id: string; message: string }
interface OemData {
  serviceRoot: Json;
  manager: Record<'S6' | 'S4', { Model: string; FirmwareVersion: string }>;
  manufacturer: string;
  resetTypesWhenOn: string[];
  resetTypesWhenOff: string[];
  ftsResetTypes: string[];
  bootTargets: string[];
  bootConfigDevices: string[];
  mainBoard: Json;
  oemSystem: Json;
  firmwareInventory: Json;
  virtualMediaImage: Json;
  errors: Record<'etagQuoted' | 'ifMatchMissing' | 'inPost' | 'remoteMountDisabled' | 'actionNotAllowed', ErrorSpec>;
}

export const IRMC_DATA = JSON.parse(readFileSync(new URL('./irmc/oem.json', import.meta.url), 'utf8')) as OemData;

export function irmcError(which: keyof OemData['errors'], ...args: string[]): SimResponse {
  const e = IRMC_DATA.errors[which];
  return redfishError(e.status, e.id, args.reduce((m, a, i) => m.replace(`%${i + 1}`, a), e.message));
}

const FTS_RESETS: Record<string, string> = { PowerOff: 'ForceOff', PowerCycle: 'PowerCycle', ImmediateReset: 'ForceRestart', PulseNmi: 'Nmi', PressPowerButton: 'PushPowerButton' };

type Image = { RemoteMountEnabled: boolean; CDImage: Json; HDImage: Json };

/** What the owning SimSystem lends: its machine, paths, POST state and the delay of power changes. */
export interface IrmcHost {
  machine: SimulatedMachine;
  systemPath: string;
  inPost(): boolean;
  powerDelayMs: number;
  /** The system's Id, which the fault table is keyed by. */
  systemId: string;
}

export class IrmcOem {
  private etagSeq = 1_700_000_000;
  private readonly etags = new Map<string, number>();
  private image: Image = { RemoteMountEnabled: false, CDImage: { ...IRMC_DATA.virtualMediaImage }, HDImage: { ...IRMC_DATA.virtualMediaImage } };
  private cdConnected = false;
  private readonly oemSystem: Json = { ...IRMC_DATA.oemSystem };

  constructor(private readonly host: IrmcHost, readonly generation: 'S6' | 'S4') {}

  private get base(): string { return `${this.host.systemPath}/Oem/ts_fujitsu`; }

  /** A resource's ETag: a bare number, bumped by every change. */
  private etag(resource: string): string {
    if (!this.etags.has(resource)) this.etags.set(resource, this.etagSeq++);
    return String(this.etags.get(resource));
  }

  private changed(resource: string): void {
    this.etags.set(resource, this.etagSeq++);
  }

  /** null when the PATCH may proceed; iRMC's 428 without If-Match and 412 for a quoted or stale one. */
  precondition(req: SimRequest, resource: string): SimResponse | null {
    const ifMatch = req.headers['if-match'];
    if (ifMatch === undefined) return irmcError('ifMatchMissing');
    return String(ifMatch).trim() === this.etag(resource) ? null : irmcError('etagQuoted');
  }

  resetTypes(power: 'on' | 'off'): string[] {
    return power === 'on' ? IRMC_DATA.resetTypesWhenOn : IRMC_DATA.resetTypesWhenOff;
  }

  private mediaActions(): string[] {
    const configured = Number(this.image.CDImage.MaximumNumberOfDevices) > 0 && this.image.CDImage.ImageName !== '';
    const cd = this.cdConnected ? ['DisconnectCD'] : configured ? ['ConnectCD'] : [];
    return [...cd, 'ConnectHD'].filter((a) => a !== 'ConnectHD' || Number(this.image.HDImage.MaximumNumberOfDevices) > 0);
  }

  systemOem(): Json {
    return { ts_fujitsu: { '@odata.type': '#FTSComputerSystem.v1_0_0.FTSComputerSystem', MainBoard: { ...IRMC_DATA.mainBoard, SerialNumber: `MB${this.host.machine.hardware.serial}` } } };
  }

  systemActions(): Json {
    const param = this.generation === 'S4' ? 'VirtualMediaAction' : 'FTSVirtualMediaAction';
    return {
      '#FTSComputerSystem.Reset': { target: `${this.host.systemPath}/Actions/Oem/FTSComputerSystem.Reset`, 'FTSResetType@Redfish.AllowableValues': IRMC_DATA.ftsResetTypes },
      '#FTSComputerSystem.VirtualMedia': { target: `${this.host.systemPath}/Actions/Oem/FTSComputerSystem.VirtualMedia`, [`${param}@Redfish.AllowableValues`]: this.mediaActions() },
    };
  }

  biosOem(): Json {
    return { ts_fujitsu: { '@odata.type': '#FTSBios.v1_0_0.FTSBios', IsBiosInPostPhase: this.host.inPost() } };
  }

  managerFacts(): { Model: string; FirmwareVersion: string } {
    return IRMC_DATA.manager[this.generation];
  }

  private bootConfig(): Json {
    const boot = this.host.machine.getBootOverride();
    const device = TARGET_OF[boot.device];
    return {
      '@odata.id': `${this.base}/BootConfig`,
      '@odata.type': '#FTSBootConfig.v1_0_0.FTSBootConfig',
      '@odata.etag': this.etag('bootconfig'),
      Id: 'BootConfig',
      BootDevice: IRMC_DATA.bootConfigDevices.includes(device) ? device : 'None',
      'BootDevice@Redfish.AllowableValues': IRMC_DATA.bootConfigDevices,
      NextBootOnlyEnabled: boot.device !== 'none' && !boot.persistent,
    };
  }

  private virtualMedia(): Json {
    const hide = (slot: Json) => Object.fromEntries(Object.entries(slot).filter(([k]) => k !== 'Password'));
    return {
      '@odata.id': `${this.base}/VirtualMedia`,
      '@odata.type': '#FTSVirtualMedia.v1_0_0.FTSVirtualMedia',
      '@odata.etag': this.etag('virtualmedia'),
      Id: 'VirtualMedia',
      RemoteMountEnabled: this.image.RemoteMountEnabled,
      CDImage: hide(this.image.CDImage),
      HDImage: hide(this.image.HDImage),
    };
  }

  /** Requests under the system: rest = lower-cased segments after Systems/{id}; null when not iRMC's. */
  async handle(rest: string[], req: SimRequest, ctx: BackendContext): Promise<SimResponse | null> {
    const at = rest.join('/');
    if (at === 'oem/ts_fujitsu/bootconfig') {
      if (req.method === 'GET') return ok(this.bootConfig());
      if (req.method !== 'PATCH') return notAllowed(req.method, req.path);
      return this.patchBootConfig(req);
    }
    if (at === 'oem/ts_fujitsu/virtualmedia') {
      if (req.method === 'GET') return ok(this.virtualMedia());
      if (req.method !== 'PATCH') return notAllowed(req.method, req.path);
      return this.patchVirtualMedia(req);
    }
    if (at === 'oem/ts_fujitsu/system') {
      if (req.method !== 'GET') return notAllowed(req.method, req.path);
      return ok({ '@odata.id': `${this.base}/System`, '@odata.etag': this.etag('system'), Id: 'System', ...this.oemSystem, SystemIP: '0.0.0.0' });
    }
    if (at === 'oem/ts_fujitsu/firmwareinventory') {
      if (req.method !== 'GET') return notAllowed(req.method, req.path);
      return ok({ '@odata.id': `${this.base}/FirmwareInventory`, Id: 'FirmwareInventory', ...IRMC_DATA.firmwareInventory, BMCFirmware: this.managerFacts().FirmwareVersion });
    }
    if (at === 'actions/oem/ftscomputersystem.reset') return req.method === 'POST' ? this.ftsReset(req, ctx) : notAllowed(req.method, req.path);
    if (at === 'actions/oem/ftscomputersystem.virtualmedia') return req.method === 'POST' ? this.mediaAction(req) : notAllowed(req.method, req.path);
    return null;
  }

  private patchBootConfig(req: SimRequest): SimResponse {
    const failed = this.precondition(req, 'bootconfig');
    if (failed) return failed;
    if (this.host.inPost()) return irmcError('inPost');
    const body = isObject(req.body) ? req.body : {};
    const device = body.BootDevice;
    if (device !== undefined && (typeof device !== 'string' || !IRMC_DATA.bootConfigDevices.includes(device))) {
      return irmcError('actionNotAllowed', JSON.stringify(device), 'BootDevice');
    }
    const once = body.NextBootOnlyEnabled;
    const current = this.host.machine.getBootOverride();
    const target: MachineBootDevice = typeof device === 'string' ? (device === 'Floppy' ? 'usb' : DEVICE_OF[device] ?? 'none') : current.device;
    this.host.machine.setBootOverride({ device: target, persistent: typeof once === 'boolean' ? !once : current.persistent });
    this.changed('bootconfig');
    return ok(this.bootConfig());
  }

  private patchVirtualMedia(req: SimRequest): SimResponse {
    const failed = this.precondition(req, 'virtualmedia');
    if (failed) return failed;
    const body = isObject(req.body) ? req.body : {};
    if (typeof body.RemoteMountEnabled === 'boolean') this.image.RemoteMountEnabled = body.RemoteMountEnabled;
    for (const slot of ['CDImage', 'HDImage'] as const) {
      const change = body[slot];
      if (isObject(change)) this.image[slot] = { ...this.image[slot], ...change };
    }
    this.changed('virtualmedia');
    return ok(this.virtualMedia());
  }

  /** Connect mounts the share's image as the machine's CD (as nfs:// or smb:// URL); Disconnect ejects it. */
  private async mediaAction(req: SimRequest): Promise<SimResponse> {
    const body = isObject(req.body) ? req.body : {};
    const param = this.generation === 'S4' ? 'VirtualMediaAction' : 'FTSVirtualMediaAction';
    const action = body[param];
    if (typeof action !== 'string' || !this.mediaActions().includes(action)) return irmcError('actionNotAllowed', JSON.stringify(action), param);
    if (!this.image.RemoteMountEnabled) return irmcError('remoteMountDisabled');
    if (action === 'ConnectCD') {
      const cd = this.image.CDImage;
      const scheme = cd.ShareType === 'SMB' ? 'smb' : 'nfs';
      const share = String(cd.ShareName).replace(/^\/+/, '');
      await this.host.machine.insertMedia(`${scheme}://${String(cd.Server)}/${share}/${String(cd.ImageName)}`);
      this.cdConnected = true;
    } else if (action === 'DisconnectCD') {
      await this.host.machine.ejectMedia();
      this.cdConnected = false;
    }
    return NO_CONTENT;
  }

  private async ftsReset(req: SimRequest, ctx: BackendContext): Promise<SimResponse> {
    const body = isObject(req.body) ? req.body : {};
    const type = body.FTSResetType;
    if (typeof type !== 'string' || !FTS_RESETS[type]) return irmcError('actionNotAllowed', JSON.stringify(type), 'FTSResetType');
    if (ctx.faults.for(this.host.systemId)?.powerStuck) return NO_CONTENT;
    await applyReset(this.host.machine, FTS_RESETS[type], this.host.powerDelayMs);
    return NO_CONTENT;
  }
}
