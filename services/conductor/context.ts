// The TaskContext a driver gets (drivers/interfaces.ts): the node as locked by this conductor.
// Every save is a compare-and-set on `reservation`, so a conductor that lost its lock (it was
// declared dead and its nodes taken over) cannot overwrite what the new owner does.
import type { BiosSetting, BootRecord, FirmwareComponent, NodeVolumes, NodeWiring, PowerInterface, ResolvedDriver, TaskContext } from '../../drivers/interfaces.ts';
import { attachmentsOfNode, findNetwork, networksByIds } from '../../db/networks.ts';
import { portgroupsOfNode } from '../../db/portgroups.ts';
import { createDynamicPortgroup, moveAttachment, removeDynamicPortgroups } from '../../db/dynamic-portgroups.ts';
import { resolveDriver } from '../../drivers/registry.ts';
import { setBootRecords } from '../../db/boot-records.ts';
import { deleteVolumeTargetsOfNode, volumesOfNode } from '../../db/volumes.ts';
import { replaceBiosSettings } from '../../db/bios.ts';
import { saveFirmwareComponents } from '../../db/firmware.ts';
import { recordHistory, retractHistory, type Severity } from '../../db/history.ts';
import { updateNode, type NodeRecord } from '../../db/nodes.ts';
import { enqueueTask } from '../../db/tasks.ts';
import { fingerprint } from '../../common/secrets.ts';
import { internalInfo } from '../../drivers/internal-info.ts';
import { portsOfNode, type PortRecord } from '../../db/ports.ts';
import type { Logger } from '../../common/logger.ts';
import { DriverError } from '../../common/errors.ts';
import type { Knex } from 'knex';
import type { AnvilConfig } from '../../common/config.ts';
import type { Runtime } from './runtime.ts';

/** The node lock was lost under running work; whatever it was doing must stop without writing. */
export class LockLost extends Error {
  constructor(node: string, host: string) {
    super(`conductor ${host} no longer holds the lock of node ${node}`);
    this.name = 'LockLost';
  }
}

export class NodeTask implements TaskContext {
  node: NodeRecord;
  readonly ports: readonly PortRecord[];
  readonly driver: ResolvedDriver;
  readonly logger: Logger;
  readonly config: AnvilConfig;
  signal: AbortSignal;
  /** event_type of the history lines note() writes (deploy, cleaning, power, ...). */
  eventType = 'provisioning';
  private closed = false;

  constructor(private readonly rt: Runtime, node: NodeRecord, ports: readonly PortRecord[], driver: ResolvedDriver, signal: AbortSignal, private readonly readOnly = false) {
    this.node = node;
    this.ports = ports;
    this.driver = driver;
    this.signal = signal;
    this.config = rt.config;
    this.logger = rt.logger.child({ node: node.uuid });
  }

  async save(fields: Partial<NodeRecord>): Promise<void> {
    if (this.readOnly) throw new Error(`node ${this.node.uuid} is not locked by this conductor: a read-only operation tried to save`);
    if (this.closed) throw new LockLost(this.node.uuid, this.rt.host);
    const updated = await updateNode(this.rt.db.knex, this.node.id, fields, { reservation: this.rt.host });
    if (!updated) throw new LockLost(this.node.uuid, this.rt.host);
    this.node = updated;
  }

  /**
   * Saves fields with the history line that says why. The line is written first, so a reader who
   * sees the new state also finds its line; if the save then finds the lock lost, the line is taken
   * back. (Two statements rather than a transaction's four: this is the conductor's hot path.)
   */
  async saveAndNote(fields: Partial<NodeRecord>, message: (node: NodeRecord) => string, severity: Severity = 'info'): Promise<void> {
    if (this.closed) throw new LockLost(this.node.uuid, this.rt.host);
    const event = message({ ...this.node, ...fields });
    await this.note(event, severity);
    const updated = await updateNode(this.rt.db.knex, this.node.id, fields, { reservation: this.rt.host });
    if (!updated) {
      await retractHistory(this.rt.db.knex, this.node.id, this.rt.host, event);
      throw new LockLost(this.node.uuid, this.rt.host);
    }
    this.node = updated;
  }

  async note(message: string, severity: Severity = 'info'): Promise<void> {
    await recordHistory(this.rt.db.knex, this.node, { event: message, severity, event_type: this.eventType, conductor: this.rt.host });
  }

  async setBootRecords(records: readonly BootRecord[]): Promise<void> {
    if (this.readOnly || this.closed) throw new LockLost(this.node.uuid, this.rt.host);
    await setBootRecords(this.rt.db.knex, this.node, records);
  }

  async saveBiosSettings(settings: readonly BiosSetting[]): Promise<void> {
    if (this.readOnly || this.closed) throw new LockLost(this.node.uuid, this.rt.host);
    await replaceBiosSettings(this.rt.db.knex, this.node.id, settings);
  }

  async saveFirmwareComponents(components: readonly FirmwareComponent[]): Promise<void> {
    if (this.readOnly || this.closed) throw new LockLost(this.node.uuid, this.rt.host);
    await saveFirmwareComponents(this.rt.db.knex, this.node.id, components);
  }

  volumes(): Promise<NodeVolumes> {
    return volumesOfNode(this.rt.db.knex, this.node.id);
  }

  async deleteVolumeTargets(): Promise<void> {
    if (this.readOnly || this.closed) throw new LockLost(this.node.uuid, this.rt.host);
    await deleteVolumeTargetsOfNode(this.rt.db.knex, this.node.id);
  }

  async wiring(): Promise<NodeWiring> {
    const knex = this.rt.db.knex;
    const [portgroups, attached] = await Promise.all([portgroupsOfNode(knex, this.node.id), attachmentsOfNode(knex, this.node.id)]);
    const networks = await networksByIds(knex, attached.map((a) => a.network_id));
    return {
      portgroups,
      vifs: attached.map((a) => ({ network: networks.get(a.network_id)!, port_id: a.port_id, portgroup_id: a.portgroup_id, address: a.address })),
      findNetwork: (ident) => findNetwork(knex, ident),
      currentPorts: () => portsOfNode(knex, this.node.id),
      createDynamicPortgroup: (portIds, physicalNetwork) => this.writable(() => createDynamicPortgroup(knex, this.node.id, portIds, physicalNetwork)),
      moveVif: (networkId, to) => this.writable(() => moveAttachment(knex, this.node.id, networkId, to)),
      removeDynamicPortgroups: () => this.writable(() => removeDynamicPortgroups(knex, this.node.id)),
    };
  }

  private writable<T>(write: () => Promise<T>): Promise<T> {
    if (this.readOnly || this.closed) throw new LockLost(this.node.uuid, this.rt.host);
    return write();
  }

  async resumeAgent(): Promise<void> {
    if (this.readOnly || this.closed) throw new LockLost(this.node.uuid, this.rt.host);
    const { agent_url: url, agent_secret_token: token } = internalInfo(this.node);
    if (typeof url !== 'string' || typeof token !== 'string') throw new DriverError(`Node ${this.node.uuid} has no running agent to resume`);
    // The same task the API queues for an agent's heart-beat, so the same checks run (the token still the node's).
    await enqueueTask(this.rt.db, this.node, 'heartbeat', { callback_url: url, token_fingerprint: fingerprint(token) });
  }

  /** The conductor running this task (its database and host name), for what it reports of the task. */
  get runtime(): Pick<Runtime, 'db' | 'host'> {
    return this.rt;
  }

  /** The database, for what the conductor stores beside the node row (inventory, ports). */
  get knex(): Knex {
    return this.rt.db.knex;
  }

  /** Whether this context still holds the node lock (the last transition may have released it with its own update). */
  get locked(): boolean {
    return !this.closed && this.node.reservation === this.rt.host;
  }

  /** After the work is over nothing may save through this context any more (a driver call left running in the background). */
  close(): void {
    this.closed = true;
  }
}

/** Builds the context of a node this conductor has locked. Throws when the node's driver can't be composed. */
export function openTask(rt: Runtime, node: NodeRecord, ports: readonly PortRecord[], signal: AbortSignal): NodeTask {
  const resolved = resolveDriver(node);
  const driver: ResolvedDriver = { ...resolved, power: recordingPower(resolved.power) };
  return new NodeTask(rt, node, ports, driver, signal);
}

/**
 * The node's power interface, recording every change it makes in power_state, as Ironic's
 * node_power_action does: a deploy that powers the node on leaves it shown as `power on`.
 */
function recordingPower(power: PowerInterface): PowerInterface {
  return {
    name: power.name,
    properties: power.properties,
    validate: (node, ports) => power.validate(node, ports),
    getPowerState: (ctx) => power.getPowerState(ctx),
    async setPowerState(ctx, target, timeoutSec) {
      // As Ironic's node_power_action: a node with disable_power_off is never powered off, whoever asks.
      if (target !== 'power on' && ctx.node.disable_power_off) throw new DriverError(`Refusing to power off node ${ctx.node.uuid}: disable_power_off is set`, 'PowerStateFailure');
      await power.setPowerState(ctx, target, timeoutSec);
      await ctx.save({ power_state: target === 'soft power off' ? 'power off' : target });
    },
    async reboot(ctx, soft, timeoutSec) {
      await power.reboot(ctx, soft, timeoutSec);
      await ctx.save({ power_state: 'power on' });
    },
  };
}

/** A context for reads without the lock (Ironic's shared lock), as the power-state sync uses. */
export async function openReadOnlyTask(rt: Runtime, node: NodeRecord, signal: AbortSignal): Promise<NodeTask> {
  const driver = resolveDriver(node);
  return new NodeTask(rt, node, await portsOfNode(rt.db.knex, node.id), driver, signal, true);
}
