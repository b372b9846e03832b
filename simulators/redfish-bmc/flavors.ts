import { InvalidInput } from '../../common/errors.ts';
import { IRMC_DATA } from './irmc.ts';

// Vendor flavours of a generated system, shaped on the mockups in test/fixtures/redfish-mockups/:
// where virtual media lives, which reset types are advertised and how, ETag rules, Ids, OEM parts.
export type Flavor = 'generic' | 'idrac' | 'ilo' | 'irmc' | 'irmc-s4';
export const FLAVORS: readonly Flavor[] = ['generic', 'idrac', 'ilo', 'irmc', 'irmc-s4'];

export interface MediaDeviceSpec {
  id: string;
  mediaTypes: string[];
  /** The device that carries the machine's CD image. */
  cd: boolean;
}

export interface FlavorSpec {
  flavor: Flavor;
  /** Ids used when one BMC serves one system (per-port mode); many systems use the machine's id. */
  soleIds: { system: string; manager: string; chassis: string };
  resetTypes: string[];
  /** 'allowable': ResetType@Redfish.AllowableValues; 'actioninfo': @Redfish.ActionInfo (AMI, OpenBMC, Supermicro). */
  resetInfo: 'allowable' | 'actioninfo';
  bootTargets: string[];
  /** iLO rejects any PATCH that carries BootSourceOverrideMode. */
  overrideModeWritable: boolean;
  vmediaUnder: 'system' | 'manager';
  vmedia: MediaDeviceSpec[];
  /** iDRAC 6.x+ and AMI answer 400 to InsertMedia without TransferProtocolType. */
  requireTransferProtocol: boolean;
  /** Which resources carry @odata.etag: every one (iLO), settable ones (system, bios), or virtual media (iDRAC R660). */
  etags: 'all' | 'settable' | 'vmedia';
  /** 428 to a PATCH of a resource with an ETag when If-Match is missing (Lenovo and others). */
  requireIfMatch: boolean;
  storage: 'simple' | 'storage';
  /** Path segment of the BIOS resource (iLO links it in lower case). */
  biosSegment: string;
  manufacturer?: string;
  maxSessions: number;
  /** Fujitsu iRMC's generation: its OEM resources (irmc.ts), reset types that follow the power state, bare ETags. */
  irmc?: 'S6' | 'S4';
}

const COMMON_TARGETS = ['None', 'Pxe', 'Hdd', 'Cd', 'BiosSetup', 'UefiHttp', 'Usb'];

/** iRMC S6 (and late S5): standard virtual media under Managers/iRMC beside the OEM remote image mount. */
const IRMC_S6: FlavorSpec = {
  flavor: 'irmc',
  soleIds: { system: '0', manager: 'iRMC', chassis: '0' },
  resetTypes: [...new Set([...IRMC_DATA.resetTypesWhenOn, ...IRMC_DATA.resetTypesWhenOff])],
  resetInfo: 'allowable',
  bootTargets: IRMC_DATA.bootTargets,
  overrideModeWritable: true,
  vmediaUnder: 'manager',
  vmedia: [{ id: '0', mediaTypes: ['CD', 'DVD'], cd: true }, { id: '1', mediaTypes: ['USBStick'], cd: false }],
  requireTransferProtocol: false,
  etags: 'settable',
  requireIfMatch: true,
  storage: 'storage',
  biosSegment: 'Bios',
  manufacturer: IRMC_DATA.manufacturer,
  maxSessions: 8,
  irmc: 'S6',
};

export const FLAVOR_SPECS: Record<Flavor, FlavorSpec> = {
  generic: {
    flavor: 'generic',
    soleIds: { system: 'system', manager: 'bmc', chassis: 'chassis' },
    resetTypes: ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'PowerCycle', 'Nmi', 'ForceOn'],
    resetInfo: 'actioninfo',
    bootTargets: COMMON_TARGETS,
    overrideModeWritable: true,
    vmediaUnder: 'system',
    vmedia: [{ id: 'CD1', mediaTypes: ['CD', 'DVD'], cd: true }, { id: 'Floppy1', mediaTypes: ['Floppy', 'USBStick'], cd: false }],
    requireTransferProtocol: false,
    etags: 'settable',
    requireIfMatch: true,
    storage: 'simple',
    biosSegment: 'Bios',
    maxSessions: 64,
  },
  idrac: {
    flavor: 'idrac',
    soleIds: { system: 'System.Embedded.1', manager: 'iDRAC.Embedded.1', chassis: 'System.Embedded.1' },
    // iDRAC 9: no ForceOn.
    resetTypes: ['On', 'ForceOff', 'ForceRestart', 'GracefulRestart', 'GracefulShutdown', 'PushPowerButton', 'Nmi', 'PowerCycle'],
    resetInfo: 'allowable',
    bootTargets: ['None', 'Pxe', 'Floppy', 'Cd', 'Hdd', 'BiosSetup', 'Utilities', 'UefiTarget', 'SDCard', 'UefiHttp'],
    overrideModeWritable: true,
    vmediaUnder: 'system',
    vmedia: [{ id: '1', mediaTypes: ['CD', 'DVD', 'USBStick'], cd: true }, { id: '2', mediaTypes: ['CD', 'DVD', 'USBStick'], cd: false }],
    requireTransferProtocol: true,
    etags: 'vmedia',
    requireIfMatch: false,
    storage: 'storage',
    biosSegment: 'Bios',
    manufacturer: 'Dell Inc.',
    maxSessions: 16,
  },
  ilo: {
    flavor: 'ilo',
    soleIds: { system: '1', manager: '1', chassis: '1' },
    // iLO 5: no PowerCycle, no ForceOn.
    resetTypes: ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'Nmi', 'PushPowerButton', 'GracefulRestart'],
    resetInfo: 'allowable',
    bootTargets: ['None', 'Cd', 'Hdd', 'Usb', 'SDCard', 'Utilities', 'Diags', 'BiosSetup', 'Pxe', 'UefiShell', 'UefiHttp', 'UefiTarget'],
    overrideModeWritable: false,
    vmediaUnder: 'manager',
    vmedia: [{ id: '1', mediaTypes: ['Floppy', 'USBStick'], cd: false }, { id: '2', mediaTypes: ['CD', 'DVD'], cd: true }],
    requireTransferProtocol: false,
    etags: 'all',
    requireIfMatch: false,
    storage: 'storage',
    biosSegment: 'bios',
    manufacturer: 'HPE',
    maxSessions: 16,
  },
  irmc: IRMC_S6,
  // iRMC S4: the standard VirtualMedia collection is empty (the remote image mount only) and the Bios resource has no attributes.
  'irmc-s4': { ...IRMC_S6, flavor: 'irmc-s4', vmedia: [], irmc: 'S4' },
};

export function parseFlavor(value: string): Flavor {
  const f = value.toLowerCase() as Flavor;
  if (!FLAVORS.includes(f)) throw new InvalidInput(`Unknown Redfish simulator flavor "${value}": use one of ${FLAVORS.join(', ')}`);
  return f;
}
