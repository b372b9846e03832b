// The IPMI commands the simulated BMC answers, on top of a SimulatedMachine: device ID, chassis
// status and control, system boot options (boot flags with their valid/persistent/EFI bits), the SDR
// repository and sensor readings. Each handler returns a completion code and the response data.
import type { MachineBootDevice, MachinePowerAction, SimulatedMachine } from '../machine.ts';
import { BootParam, BootSelector, ChassisControl, Cmd, Completion, NetFn, Privilege } from '../../drivers/ipmi/protocol/constants.ts';
import { ChassisFault, decodeBootFlags, encodeBootFlags, type BootFlags } from '../../drivers/ipmi/protocol/chassis.ts';
import { encodeFullSensor, type FullSensor } from '../../drivers/ipmi/protocol/sdr.ts';
import { thresholdStatus } from '../../drivers/ipmi/protocol/sensor-state.ts';

export interface CommandResult {
  completion: number;
  data?: Buffer | number[];
}

const MACHINE_DEVICE: Readonly<Record<number, MachineBootDevice>> = {
  [BootSelector.pxe]: 'pxe', [BootSelector.disk]: 'disk', [BootSelector.safe]: 'disk', [BootSelector.cdrom]: 'cdrom',
  [BootSelector.bios]: 'bios', [BootSelector.floppy]: 'usb',
};
const DEVICE_SELECTOR: Readonly<Partial<Record<MachineBootDevice, number>>> = {
  pxe: BootSelector.pxe, disk: BootSelector.disk, cdrom: BootSelector.cdrom, bios: BootSelector.bios, usb: BootSelector.floppy, http: BootSelector.pxe,
};

const CONTROL_ACTIONS: Readonly<Record<number, MachinePowerAction>> = {
  [ChassisControl.powerDown]: 'off', [ChassisControl.powerUp]: 'on', [ChassisControl.powerCycle]: 'cycle',
  [ChassisControl.hardReset]: 'reset', [ChassisControl.diagnosticInterrupt]: 'nmi', [ChassisControl.softShutdown]: 'soft-off',
};

/**
 * The simulated sensors: raw readings when powered on, and off (null: no reading, as a real BMC
 * reports a stopped fan or an unpowered rail rather than a reading below its thresholds); the CPU
 * temperature also by the machine's temperature faults.
 */
const SENSORS: { sensor: FullSensor; on: number; off: number | null; warm?: number; overheat?: number }[] = [
  { sensor: { recordId: 1, sensorNumber: 1, entityId: 3, sensorType: 0x01, unit: 1, m: 1, b: 0, bExp: 0, rExp: 0, thresholds: [0, 5, 10, 85, 90, 95], name: 'CPU Temp' }, on: 45, off: 22, warm: 87, overheat: 92 },
  { sensor: { recordId: 2, sensorNumber: 2, entityId: 7, sensorType: 0x01, unit: 1, m: 1, b: 0, bExp: 0, rExp: 0, thresholds: [0, 5, 10, 70, 75, 80], name: 'System Temp' }, on: 30, off: 22 },
  { sensor: { recordId: 3, sensorNumber: 3, entityId: 29, sensorType: 0x04, unit: 18, m: 100, b: 0, bExp: 0, rExp: 0, thresholds: [0, 5, 10, 200, 220, 250], name: 'Fan1' }, on: 54, off: null },
  { sensor: { recordId: 4, sensorNumber: 4, entityId: 7, sensorType: 0x02, unit: 4, m: 1, b: 0, bExp: 0, rExp: -1, thresholds: [100, 105, 110, 130, 135, 140], name: '12V' }, on: 121, off: null },
];
const SDR_RECORDS = SENSORS.map((s) => encodeFullSensor(s.sensor));

/** Per-BMC state the commands keep beside the machine. */
export class BmcState {
  /** Raw data of boot option parameters other than the flags (set in progress, ack...). */
  readonly bootParams = new Map<number, Buffer>([
    [BootParam.setInProgress, Buffer.from([0])],
    [BootParam.flagValidClearing, Buffer.from([0])],
    [BootParam.infoAck, Buffer.from([0, 0])],
  ]);
  /** Boot flags as last written (the machine holds device, persistence and mode). */
  flags: BootFlags = { valid: false, persistent: false, efi: false, selector: 0, rest: Buffer.alloc(4) };
  sdrReservation = 1;
  /** Cold and warm resets asked of the controller (tests read it). */
  resets = 0;

  constructor(readonly machine: SimulatedMachine, readonly guid: Buffer) {}

  /** The boot flags as the machine now has them: a one-time override used by a boot is no longer valid. */
  currentFlags(): BootFlags {
    const override = this.machine.getBootOverride();
    const efi = override.mode === 'uefi';
    if (override.device === 'none') {
      const consumed = this.flags.valid && MACHINE_DEVICE[this.flags.selector] !== undefined;
      return { ...this.flags, efi, selector: consumed ? 0 : this.flags.selector, valid: consumed ? false : this.flags.valid };
    }
    const selector = MACHINE_DEVICE[this.flags.selector] === override.device ? this.flags.selector : DEVICE_SELECTOR[override.device] ?? 0;
    return { ...this.flags, valid: true, persistent: override.persistent, efi, selector };
  }
}

/** Lowest privilege each command needs (Operator for anything that changes the machine). */
export function requiredPrivilege(netFn: number, cmd: number): number {
  if (netFn === NetFn.app && (cmd === Cmd.coldReset || cmd === Cmd.warmReset)) return Privilege.administrator;
  if (netFn === NetFn.chassis && (cmd === Cmd.chassisControl || cmd === Cmd.setSystemBootOptions)) return Privilege.operator;
  return Privilege.user;
}

export async function handleCommand(state: BmcState, netFn: number, cmd: number, data: Buffer): Promise<CommandResult> {
  switch (netFn) {
    case NetFn.app: return app(state, cmd);
    case NetFn.chassis: return chassis(state, cmd, data);
    case NetFn.storage: return storage(state, cmd, data);
    case NetFn.sensor: return sensor(state, cmd, data);
    default: return { completion: Completion.invalidCommand };
  }
}

function app(state: BmcState, cmd: number): CommandResult {
  switch (cmd) {
    case Cmd.getDeviceId:
      // device 0x20 rev 1, firmware 1.00 available, IPMI 2.0, supports chassis + SDR repository + sensors,
      // manufacturer 0 (none), product 0x4156 ("AV"), no aux firmware.
      return { completion: 0, data: [0x20, 0x01, 0x01, 0x00, 0x02, 0x83, 0x00, 0x00, 0x00, 0x56, 0x41] };
    case Cmd.getDeviceGuid:
    case 0x37: // Get System GUID
      return { completion: 0, data: state.guid };
    case Cmd.coldReset:
    case Cmd.warmReset:
      // The simulated controller has nothing to lose in a reset: it answers and carries on.
      state.resets += 1;
      return { completion: 0 };
    default:
      return { completion: Completion.invalidCommand };
  }
}

async function chassis(state: BmcState, cmd: number, data: Buffer): Promise<CommandResult> {
  const machine = state.machine;
  switch (cmd) {
    case 0x00: // Get Chassis Capabilities: no intrusion/lockout; FRU, SDR, SEL, SM addresses = BMC
      return { completion: 0, data: [0x00, 0x20, 0x20, 0x20, 0x20] };
    case Cmd.getChassisStatus: {
      const on = (await machine.powerState()) === 'on';
      const faults = machine.faults ?? new Set();
      // power restore policy "always off" (00b), the machine's faults, last event none
      const power = (on ? 0x01 : 0x00) | (faults.has('power') ? ChassisFault.powerFault : 0);
      const misc = 0x40 | (faults.has('drive') ? ChassisFault.driveFault : 0) | (faults.has('cooling') ? ChassisFault.coolingFault : 0);
      return { completion: 0, data: [power, 0x00, misc, 0x00] };
    }
    case Cmd.chassisControl: {
      if (data.length < 1) return { completion: Completion.requestLengthInvalid };
      const action = CONTROL_ACTIONS[data[0] & 0x0f];
      if (!action) return { completion: Completion.invalidDataField };
      // Answer at once, as real BMCs do: the machine changes state on its own time.
      machine.power(action).catch(() => {});
      return { completion: 0 };
    }
    case Cmd.setSystemBootOptions: return setBootOption(state, data);
    case Cmd.getSystemBootOptions: return getBootOption(state, data);
    default:
      return { completion: Completion.invalidCommand };
  }
}

const PARAM_LENGTH: Readonly<Record<number, number>> = { [BootParam.setInProgress]: 1, [BootParam.flagValidClearing]: 1, [BootParam.infoAck]: 2, [BootParam.flags]: 5 };

function setBootOption(state: BmcState, data: Buffer): CommandResult {
  if (data.length < 1) return { completion: Completion.requestLengthInvalid };
  const param = data[0] & 0x7f;
  const value = data.subarray(1);
  const length = PARAM_LENGTH[param];
  if (length === undefined) return { completion: Completion.parameterNotSupported };
  if (value.length < (param === BootParam.flags ? 2 : length)) return { completion: Completion.requestLengthInvalid };
  if (param !== BootParam.flags) {
    state.bootParams.set(param, Buffer.from(value.subarray(0, length)));
    return { completion: 0 };
  }
  const flags = decodeBootFlags(Buffer.concat([value, Buffer.alloc(5)]).subarray(0, 5))!;
  state.flags = flags;
  const device = flags.valid ? MACHINE_DEVICE[flags.selector] ?? 'none' : 'none';
  state.machine.setBootOverride({ device, persistent: flags.persistent, mode: flags.efi ? 'uefi' : 'bios' });
  return { completion: 0 };
}

function getBootOption(state: BmcState, data: Buffer): CommandResult {
  if (data.length < 1) return { completion: Completion.requestLengthInvalid };
  const param = data[0] & 0x7f;
  const value = param === BootParam.flags ? encodeBootFlags(state.currentFlags()) : state.bootParams.get(param);
  if (!value) return { completion: Completion.parameterNotSupported };
  return { completion: 0, data: Buffer.concat([Buffer.from([0x01, param]), value]) };
}

function storage(state: BmcState, cmd: number, data: Buffer): CommandResult {
  switch (cmd) {
    case Cmd.getSdrRepositoryInfo: {
      // SDR 1.5 (0x51), record count, free space 0, timestamps 0, supports reserve + get allocation info (non-modal update none)
      const out = Buffer.alloc(14);
      out[0] = 0x51;
      out.writeUInt16LE(SDR_RECORDS.length, 1);
      out[13] = 0x02;
      return { completion: 0, data: out };
    }
    case Cmd.reserveSdrRepository: {
      state.sdrReservation = (state.sdrReservation % 0xfffe) + 1;
      const out = Buffer.alloc(2);
      out.writeUInt16LE(state.sdrReservation);
      return { completion: 0, data: out };
    }
    case Cmd.getSdr: {
      if (data.length < 6) return { completion: Completion.requestLengthInvalid };
      const reservation = data.readUInt16LE(0);
      const recordId = data.readUInt16LE(2);
      const offset = data[4];
      const count = data[5];
      if (offset > 0 && reservation !== state.sdrReservation) return { completion: Completion.reservationCancelled };
      const index = recordId === 0 ? 0 : SDR_RECORDS.findIndex((_, i) => SENSORS[i].sensor.recordId === recordId);
      if (index < 0) return { completion: Completion.notPresent };
      const record = SDR_RECORDS[index];
      if (offset > record.length) return { completion: Completion.parameterOutOfRange };
      const next = index + 1 < SENSORS.length ? SENSORS[index + 1].sensor.recordId : 0xffff;
      const head = Buffer.alloc(2);
      head.writeUInt16LE(next);
      const slice = record.subarray(offset, count === 0xff ? record.length : offset + count);
      return { completion: 0, data: Buffer.concat([head, slice]) };
    }
    default:
      return { completion: Completion.invalidCommand };
  }
}

async function sensor(state: BmcState, cmd: number, data: Buffer): Promise<CommandResult> {
  if (cmd !== Cmd.getSensorReading && cmd !== Cmd.getSensorThresholds) return { completion: Completion.invalidCommand };
  if (data.length < 1) return { completion: Completion.requestLengthInvalid };
  const found = SENSORS.find((s) => s.sensor.sensorNumber === data[0]);
  if (!found) return { completion: Completion.notPresent };
  if (cmd === Cmd.getSensorThresholds) {
    const [lnr, lc, lnc, unc, uc, unr] = found.sensor.thresholds;
    return { completion: 0, data: [0x3f, lnc, lc, lnr, unc, uc, unr] };
  }
  const on = (await state.machine.powerState()) === 'on';
  const faults = state.machine.faults;
  const raw = faults?.has('overheat') ? found.overheat : faults?.has('warm') ? found.warm : undefined;
  const reading = raw ?? (on ? found.on : found.off);
  // event messages and scanning enabled, reading unavailable (0x20) when there is none; the thresholds it is past
  if (reading === null) return { completion: 0, data: [0x00, 0xe0, 0x00, 0x80] };
  return { completion: 0, data: [reading, 0xc0, thresholdStatus(reading, found.sensor.thresholds), 0x80] };
}
