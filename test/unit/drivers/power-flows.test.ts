// disable_power_off (API 1.95) in the flows that power a node: where a node is otherwise powered
// off and on, one reboot; where it is only powered off, nothing; as Ironic's flows do.
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import type { NodeRecord } from '../../../db/nodes.ts';
import { directDeploy } from '../../../drivers/in-band/direct.ts';
import { agentInspect } from '../../../drivers/in-band/inspect.ts';
import { bootRamdisk, powerOffAgent } from '../../../drivers/in-band/ramdisk-boot.ts';
import type { BootInterface, PowerInterface, ResolvedDriver, TaskContext } from '../../../drivers/interfaces.ts';
import { powerOffAndOn, powerOnOrReboot } from '../../../drivers/power-flows.ts';

/** A context whose power and boot interfaces write down what they were asked, in order. */
function recordingContext(disablePowerOff: boolean): { ctx: TaskContext; calls: string[] } {
  const calls: string[] = [];
  const power: PowerInterface = {
    name: 'rec', validate() {},
    async getPowerState() { return 'power on'; },
    async setPowerState(_ctx, target) { calls.push(target); },
    async reboot(_ctx, soft) { calls.push(soft ? 'soft reboot' : 'reboot'); },
  };
  const boot: BootInterface = {
    name: 'rec', validate() {},
    async prepareRamdisk(_ctx, purpose) { calls.push(`prepare ramdisk ${purpose}`); },
    async cleanUpRamdisk() { calls.push('clean up ramdisk'); },
    async prepareInstance() { calls.push('prepare instance'); },
    async cleanUpInstance() { calls.push('clean up instance'); },
  };
  const node = { uuid: 'n1', disable_power_off: disablePowerOff, driver_internal_info: { agent_url: 'http://127.0.0.1:1' }, instance_info: {}, properties: {} } as unknown as NodeRecord;
  const ctx = {
    node,
    ports: [],
    driver: { power, boot } as unknown as ResolvedDriver,
    logger: silentLogger,
    config: defaultConfig('/tmp'),
    signal: new AbortController().signal,
    async save(fields: Partial<NodeRecord>) { (ctx as { node: NodeRecord }).node = { ...ctx.node, ...fields }; },
    async note() {},
    async setBootRecords() {},
    async saveBiosSettings() {},
    async saveFirmwareComponents() {},
  } as TaskContext;
  return { ctx, calls };
}

describe('disable_power_off in the power flows', () => {
  it('boots the ramdisk with off/prepare/on, or prepare and one reboot', async () => {
    for (const [disabled, expected] of [[false, ['power off', 'prepare ramdisk clean', 'power on']], [true, ['prepare ramdisk clean', 'reboot']]] as const) {
      const { ctx, calls } = recordingContext(disabled);
      await bootRamdisk(ctx, 'clean', []);
      expect(calls).toEqual(expected);
    }
  });

  it('boots the instance by power on, or by a reboot of the still-running ramdisk', async () => {
    const on = recordingContext(false);
    await powerOnOrReboot(on.ctx);
    expect(on.calls).toEqual(['power on']);
    const reboot = recordingContext(true);
    await powerOffAndOn(reboot.ctx, async () => { reboot.calls.push('work'); });
    expect(reboot.calls).toEqual(['work', 'reboot']);
  });

  it('leaves the agent running at tear_down_agent, and drops its URL', async () => {
    const { ctx, calls } = recordingContext(true);
    await powerOffAgent(ctx);
    expect(calls).toEqual([]);
    expect(ctx.node.driver_internal_info.agent_url).toBeUndefined();
  });

  it('reboots out of the instance on tear down instead of powering off', async () => {
    const plain = recordingContext(false);
    await directDeploy.tearDown(plain.ctx);
    expect(plain.calls).toEqual(['power off', 'clean up instance']);
    const kept = recordingContext(true);
    await directDeploy.tearDown(kept.ctx);
    expect(kept.calls).toEqual(['clean up instance', 'reboot']);
  });

  it('reboots at the end of inspection, and powers nothing off on abort', async () => {
    const { ctx, calls } = recordingContext(true);
    await agentInspect.continueInspection!(ctx, { inventory: { interfaces: [] } });
    expect(calls).toEqual(['reboot', 'clean up ramdisk']);
    const aborted = recordingContext(true);
    await agentInspect.abort!(aborted.ctx);
    await directDeploy.abort!(aborted.ctx);
    expect(aborted.calls).toEqual(['clean up ramdisk', 'clean up ramdisk']);
  });
});

