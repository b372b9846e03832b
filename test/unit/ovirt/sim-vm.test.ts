// A simulated Engine VM: the statuses its actions go through, the Engine's refusals, and its boot
// order driving the machine's boot device (a start's run-once devices last one run).
import { describe, expect, it } from 'vitest';
import { MemoryMachine, sampleHardware, type MachineBootDevice } from '../../../simulators/machine.ts';
import { ActionRefused, SimVm } from '../../../simulators/ovirt-engine/vm.ts';

function vmOf(): { vm: SimVm; machine: MemoryMachine; boots: MachineBootDevice[] } {
  const machine = new MemoryMachine('m1', 'u1', 'vm-1', sampleHardware(1));
  const boots: MachineBootDevice[] = [];
  machine.on('boot', (d: MachineBootDevice) => boots.push(d));
  return { vm: new SimVm(machine, 'u1', 'c1', 'h1', 0), machine, boots };
}

const settled = async (vm: SimVm, status: string) => {
  for (let i = 0; i < 100 && (await vm.status()) !== status; i++) await new Promise((r) => setImmediate(r));
  return vm.status();
};

describe('a simulated Engine VM', () => {
  it('starts from its first boot device, reboots, shuts down, and refuses what the Engine refuses', async () => {
    const { vm, machine, boots } = vmOf();
    expect(await vm.status()).toBe('down');
    await expect(vm.act('stop')).rejects.toThrow(new ActionRefused('[Cannot stop VM. VM is not running.]'));
    vm.setBootDevices(['network', 'hd']);
    await vm.act('start');
    expect(await settled(vm, 'up')).toBe('up');
    expect(boots).toEqual(['pxe']);
    await expect(vm.act('start')).rejects.toThrow('[Cannot run VM. VM is running.]');
    vm.setBootDevices(['hd']);
    await vm.act('reboot');
    expect(await settled(vm, 'up')).toBe('up');
    expect(boots).toEqual(['pxe', 'disk']);
    await vm.act('shutdown');
    expect(await settled(vm, 'down')).toBe('down');
    expect(await machine.powerState()).toBe('off');
  });

  it('boots run-once devices for one run only', async () => {
    const { vm, boots } = vmOf();
    await vm.act('start', ['cdrom']);
    await settled(vm, 'up');
    await vm.act('stop');
    await vm.act('start');
    await settled(vm, 'up');
    expect(boots).toEqual(['cdrom', 'disk']);
  });

  it('shows down when its machine powers itself off (the deploy agent does)', async () => {
    const { vm, machine } = vmOf();
    await vm.act('start');
    await settled(vm, 'up');
    await machine.power('off');
    expect(await vm.status()).toBe('down');
  });
});
