// What differs between plain Redfish, Dell iDRAC and HPE iLO: the interface names and a few
// operations a vendor does its own way. Each family passes its Vendor to the shared factories.
import type { BootDevice, BootMode } from '../interfaces.ts';
import type { Json } from './client.ts';
import type { RedfishNode } from './system.ts';

export interface Vendor {
  /** Implementation names: power/management/inspect share one, boot has its own. */
  readonly name: string;
  readonly bootName: string;
  /** Whether the vendor has bios, raid and vendor interfaces of its own name (iDRAC's idrac-redfish). */
  readonly ownOutOfBand?: boolean;
  /** Sets the boot override; the default PATCHes Boot on the system. */
  setBootDevice?(rn: RedfishNode, device: BootDevice, persistent: boolean): Promise<void>;
  setBootMode?(rn: RedfishNode, mode: BootMode): Promise<void>;
  /** Mounts the boot ISO; the default inserts it into the standard virtual CD. */
  insertBootMedia?(rn: RedfishNode, image: string): Promise<void>;
  /** Unmounts what insertBootMedia mounted; the default ejects the standard virtual CD. */
  ejectBootMedia?(rn: RedfishNode): Promise<void>;
  /** Waits, after the BMC reports a new power state, until the host may be asked for more (iRMC: the BIOS has left POST). */
  settlePower?(rn: RedfishNode, state: 'power on' | 'power off'): Promise<void>;
  /** Makes the next boot (or every boot) start from the inserted virtual CD. */
  bootFromMedia?(rn: RedfishNode, persistent: boolean): Promise<void>;
  /** Stages BIOS attributes in the settings object for the next reset; returns the job it made, if any. The default PATCHes them. */
  stageBiosSettings?(rn: RedfishNode, settingsPath: string, attributes: Json): Promise<string | null>;
  /** Waits for the job stageBiosSettings made, after the reset that runs it. */
  waitForSettingsJob?(rn: RedfishNode, job: string): Promise<void>;
}
