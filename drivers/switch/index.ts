// The `switch` network interface (Ironic's `neutron` interface's job, without Neutron): the
// node's switch ports are moved to the provisioning network when it deploys, to its tenant
// networks (its VIFs) by the switch_to_tenant_network deploy step before the instance boots, and
// to the cleaning network when it is torn down or cleaned; to the inspection, rescuing and
// servicing networks, when configured, while the ramdisk runs for those. A change spanning several switches is
// applied switch by switch; when one fails, the switches already changed are put back, so the
// node's ports are never left half on one network and half on another.
import { DriverError, errorMessage, InvalidInput } from '../../common/errors.ts';
import type { DriverFamily, NetworkInterface, NetworkPurpose, NodeWiring, StepDefinition, TaskContext } from '../interfaces.ts';
import { internalInfo, withInternalInfo } from '../internal-info.ts';
import { networkConfig, type NetworkConfig, type NodePurpose, type SwitchConfig } from './config.ts';
import { fakeSwitch } from './fake.ts';
import { ovsSwitch } from '../ovs/index.ts';
import { sshSwitch } from '../ssh-switch/index.ts';
import { isolatedBatch, linkOf, plan } from './plan.ts';
import { placeByTraits } from './trait-placement.ts';
import { describeVlans, type SwitchBatch, type SwitchDriver } from './types.ts';

/** Switch drivers by kind (network.switches.NAME.driver). */
const DRIVER_KINDS: Record<string, (cfg: SwitchConfig, isolationVlan: number) => SwitchDriver> = {
  fake: fakeSwitch,
  ovs: ovsSwitch,
  ssh: sshSwitch,
};

/** Open drivers (sessions, sockets), one per configured switch (keyed by its whole configuration). */
const open = new Map<string, SwitchDriver>();

function driverFor(cfg: SwitchConfig, isolationVlan: number): SwitchDriver {
  const key = JSON.stringify(cfg);
  let d = open.get(key);
  if (!d) {
    const make = DRIVER_KINDS[cfg.driver];
    if (!make) throw new InvalidInput(`Switch ${cfg.name} has driver "${cfg.driver}"; the switch drivers are ${Object.keys(DRIVER_KINDS).join(', ')}`);
    d = make(cfg, isolationVlan);
    open.set(key, d);
  }
  return d;
}

async function purposeNetwork(ctx: TaskContext, cfg: NetworkConfig, wiring: NodeWiring, purpose: NodePurpose) {
  const key = `${purpose}_network`;
  const ident = typeof ctx.node.driver_info[key] === 'string' ? (ctx.node.driver_info[key] as string) : cfg.networks[purpose];
  if (!ident) return undefined;
  const network = await wiring.findNetwork(ident);
  if (!network) throw new DriverError(`The ${purpose} network ${ident} (${ctx.node.driver_info[key] ? `driver_info.${key}` : `network.${purpose}Network`}) does not exist (GET /v1/networks)`);
  return network;
}

function summary(batches: Map<string, SwitchBatch>): string {
  const parts: string[] = [];
  for (const [sw, b] of batches) {
    for (const p of b.ports) parts.push(`${sw} ${p.port} ${describeVlans(p.vlans)}`);
    for (const g of b.bonds) parts.push(`${sw} ${g.lacp ? 'LACP ' : ''}bond ${g.name} (${g.members.join(', ')}) ${describeVlans(g.vlans)}`);
  }
  return parts.join('; ');
}

async function attach(ctx: TaskContext, purpose: NetworkPurpose): Promise<void> {
  const cfg = networkConfig(ctx.config);
  if (!ctx.wiring) throw new DriverError('The switch network interface needs the conductor\'s task context (wiring)');
  const wiring = await ctx.wiring();
  const network = purpose === 'tenant' ? undefined : await purposeNetwork(ctx, cfg, wiring, purpose);
  if (purpose !== 'tenant' && !network) {
    // Ironic needs the provisioning and cleaning networks; the others are used when configured.
    if (purpose === 'provisioning' || purpose === 'cleaning') throw new DriverError(`No ${purpose} network: set driver_info.${purpose}_network or network.${purpose}Network`);
    return;
  }
  // The deploy starts on the provisioning network: the VIFs are placed by the instance's traits
  // then, so the config drive's network_data.json and the tenant step see where they went.
  if (purpose === 'provisioning' && cfg.traits.length > 0) await placeByTraits(ctx, wiring, cfg.traits);
  const batches = plan({ cfg, ports: ctx.ports, portgroups: wiring.portgroups, vifs: wiring.vifs, purpose, network });
  const state = internalInfo(ctx.node).network_switch_state;
  const done: { driver: SwitchDriver; previous: SwitchBatch | undefined; applied: SwitchBatch }[] = [];
  for (const name of [...batches.keys()].sort()) {
    const batch = batches.get(name)!;
    const driver = driverFor(cfg.switches.find((s) => s.name === name)!, cfg.isolationVlan);
    const previous = state?.batches[name];
    try {
      await driver.apply(batch, previous, ctx.signal);
      done.push({ driver, previous, applied: batch });
    } catch (err) {
      const undone: string[] = [];
      for (const d of done.reverse()) {
        try {
          await d.driver.apply(d.previous ?? isolatedBatch(d.applied, cfg.isolationVlan), d.applied, ctx.signal);
          undone.push(`${d.driver.name} put back`);
        } catch (undoErr) {
          undone.push(`putting ${d.driver.name} back failed too: ${errorMessage(undoErr)}`);
        }
      }
      const where = purpose === 'tenant' ? 'the tenant networks' : `the ${purpose} network ${network!.name}`;
      throw new DriverError(`Moving the switch ports to ${where} failed: ${errorMessage(err)}${undone.length ? ` (${undone.join('; ')})` : ''}`, 'SwitchFailure');
    }
  }
  await ctx.save(withInternalInfo(ctx.node, { network_switch_state: { purpose, batches: { ...state?.batches, ...Object.fromEntries(batches) } } }));
  await ctx.note(`Switch ports on ${purpose === 'tenant' ? 'the tenant networks' : `the ${purpose} network ${network!.name}`}: ${summary(batches) || 'no ports'}`);
  // Torn down (or cleaned): the bonds are undone on the switch, so the dynamic port groups go.
  if (purpose === 'cleaning') {
    const removed = await wiring.removeDynamicPortgroups();
    if (removed > 0) await ctx.note(`Trait-based networking: ${removed} dynamic port group(s) removed, their VIFs back on a member port`);
  }
}

const TENANT_STEP: StepDefinition = {
  kind: 'deploy', step: 'switch_to_tenant_network', priority: 30, requiresRamdisk: false, abortable: false,
  run: (ctx) => attach(ctx, 'tenant'),
};

export const switchNetwork: NetworkInterface = {
  name: 'switch',
  properties: {
    provisioning_network: 'The network (name or UUID) the node\'s ports are on while it deploys; default network.provisioningNetwork. Optional.',
    cleaning_network: 'The network its ports are on while it is cleaned and once torn down; default network.cleaningNetwork. Optional.',
    inspection_network: 'The network its ports are on while it is inspected; default network.inspectionNetwork. Optional.',
    rescuing_network: 'The network its ports are on while the rescue ramdisk boots, until the rescue password is set; default network.rescuingNetwork (none: they stay on the tenant networks). Optional.',
    servicing_network: 'The network its ports are on while the agent ramdisk runs service steps; default network.servicingNetwork (none: they stay on the tenant networks). Optional.',
  },
  validate(node, ports) {
    if (ports.length === 0) throw new InvalidInput(`Node ${node.uuid} has network_interface "switch" but no ports`);
    // Which switch each names is checked when the ports move, where the configuration is known.
    for (const port of ports) linkOf(port);
  },
  steps: [TENANT_STEP],
  attach,
  currentPurpose: (ctx) => internalInfo(ctx.node).network_switch_state?.purpose,
};

export const switchFamily: DriverFamily = {
  implementations: { network: [switchNetwork] },
  hardwareTypes: [],
  async close() {
    const drivers = [...open.values()];
    open.clear();
    await Promise.allSettled(drivers.map((d) => d.close?.()));
  },
};
