// The contract between the switch network interface and the switch drivers (OVS over OVSDB, SSH
// CLI dialects, the in-memory fake): what one switch's ports should carry, as data. A driver
// applies a batch whole or not at all, and says which switch and port failed.
import { DriverError } from '../../common/errors.ts';

/** The VLANs of a switch port: untagged (access, or a trunk's native VLAN) and tagged (a trunk's). */
export interface VlanSetting {
  untagged: number | null;
  tagged: readonly number[];
}

/** One physical port of the switch on its own (not in a bond). */
export interface PortSetting {
  port: string;
  vlans: VlanSetting;
}

/** A link aggregation of physical ports of this switch (a node's port group), with LACP when the group's mode is 802.3ad. */
export interface BondSetting {
  name: string;
  members: readonly string[];
  lacp: boolean;
  vlans: VlanSetting;
}

/** What one switch should look like for one node's ports after the change. */
export interface SwitchBatch {
  ports: readonly PortSetting[];
  bonds: readonly BondSetting[];
}

/** One configured switch: applies batches to it. */
export interface SwitchDriver {
  /** The switch's name in the configuration (network.switches), used in every error. */
  readonly name: string;
  /** The driver kind (ovs, ssh, fake), for messages. */
  readonly kind: string;
  /**
   * Applies the batch whole or not at all: members of a bond leave their single-port setting and
   * join the bond; a physical port given alone leaves any bond it was in (the bond goes once it
   * has no member). `previous` is what Anvil last applied to these ports (its undo, for drivers
   * whose switches have no transactions). Throws SwitchError.
   */
  apply(batch: SwitchBatch, previous: SwitchBatch | undefined, signal?: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

/** A switch change that failed; the message names the switch and, when known, the port. */
export class SwitchError extends DriverError {
  constructor(readonly switchName: string, readonly port: string | undefined, reason: string) {
    super(`switch ${switchName}${port ? ` port ${port}` : ''}: ${reason}`, 'SwitchFailure');
  }
}

export function describeVlans(v: VlanSetting): string {
  if (v.tagged.length === 0) return v.untagged === null ? 'no VLAN' : `access VLAN ${v.untagged}`;
  return `trunk ${v.tagged.join(',')}${v.untagged === null ? '' : ` native ${v.untagged}`}`;
}
