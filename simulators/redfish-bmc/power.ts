// Redfish vocabulary → the simulated machine (reset types, boot override targets), shared by
// generated systems and mockup trees.
import type { MachineBootDevice, MachinePowerAction, SimulatedMachine } from '../machine.ts';

export const TARGET_OF: Record<MachineBootDevice, string> = { none: 'None', pxe: 'Pxe', disk: 'Hdd', cdrom: 'Cd', bios: 'BiosSetup', usb: 'Usb', http: 'UefiHttp' };
export const DEVICE_OF: Record<string, MachineBootDevice> = Object.fromEntries(Object.entries(TARGET_OF).map(([d, t]) => [t, d as MachineBootDevice]));
export const BOOT_ENABLED = ['Disabled', 'Once', 'Continuous'];

const RESET_ACTIONS: Record<string, MachinePowerAction> = {
  On: 'on',
  ForceOn: 'on',
  ForceOff: 'off',
  GracefulShutdown: 'soft-off',
  ForceRestart: 'reset',
  GracefulRestart: 'soft-reset',
  PowerCycle: 'cycle',
  Nmi: 'nmi',
};

/**
 * Applies a reset type to the machine. A change between on and off shows after `delayMs` (real BMCs
 * report it seconds after the 204); restarts happen at once, as the system stays On throughout.
 */
export async function applyReset(machine: SimulatedMachine, resetType: string, delayMs: number): Promise<void> {
  let action = RESET_ACTIONS[resetType];
  if (resetType === 'PushPowerButton') action = (await machine.powerState()) === 'on' ? 'soft-off' : 'on';
  if (!action) throw new Error(`Unknown ResetType ${resetType}`);
  const run = () => machine.power(action).catch(() => undefined);
  if (delayMs > 0 && (action === 'on' || action === 'off' || action === 'soft-off')) setTimeout(run, delayMs).unref();
  else await run();
}

export function isResetType(value: string): boolean {
  return value in RESET_ACTIONS || value === 'PushPowerButton';
}
