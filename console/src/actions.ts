// What a person may do to a node, as data: each action is one or two calls of Ironic's API.
// The fleet view's bulk bar and the node page share this table; both confirm before running.
import { api } from './api.ts';

export interface DeployArgs {
  image_source: string;
  image_checksum?: string;
  /** A config drive: JSON ({meta_data, user_data, network_data}) or plain user data. */
  configdrive?: string;
}

export interface Action {
  id: string;
  label: string;
  /** Shown in the confirmation. */
  says: string;
  /** Asks for an image and a config drive first. */
  deploy?: boolean;
  /** Asks for a reason first. */
  reason?: boolean;
  danger?: boolean;
  run(uuid: string, args: { deploy?: DeployArgs; reason?: string }): Promise<unknown>;
}

const provision = (target: string, extra: Record<string, unknown> = {}) => (uuid: string) =>
  api('PUT', `/v1/nodes/${uuid}/states/provision`, { target, ...extra });
const power = (target: string) => (uuid: string) => api('PUT', `/v1/nodes/${uuid}/states/power`, { target });

function configdrive(text: string | undefined): unknown {
  if (!text?.trim()) return undefined;
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object') return parsed;
  } catch {
    // Not JSON: the whole text is the user data (cloud-config, a script, Ignition).
  }
  return { user_data: text };
}

async function deploy(uuid: string, args: DeployArgs): Promise<void> {
  const patch = [{ op: 'add', path: '/instance_info/image_source', value: args.image_source }];
  if (args.image_checksum) patch.push({ op: 'add', path: '/instance_info/image_checksum', value: args.image_checksum });
  await api('PATCH', `/v1/nodes/${uuid}`, patch);
  const drive = configdrive(args.configdrive);
  await api('PUT', `/v1/nodes/${uuid}/states/provision`, { target: 'active', ...(drive ? { configdrive: drive } : {}) });
}

export const ACTIONS: Action[] = [
  { id: 'manage', label: 'Manage', says: 'verify the BMC credentials and move to manageable', run: provision('manage') },
  { id: 'inspect', label: 'Inspect', says: 'inspect the hardware', run: provision('inspect') },
  { id: 'provide', label: 'Provide', says: 'clean and make available', run: provision('provide') },
  { id: 'deploy', label: 'Deploy', says: 'write an image and boot it', deploy: true, run: (u, a) => deploy(u, a.deploy!) },
  { id: 'undeploy', label: 'Undeploy', says: 'tear the instance down and clean', danger: true, run: provision('deleted') },
  { id: 'abort', label: 'Abort', says: 'abort the operation in progress', danger: true, run: provision('abort') },
  { id: 'power-on', label: 'Power on', says: 'power on', run: power('power on') },
  { id: 'power-off', label: 'Power off', says: 'power off', danger: true, run: power('power off') },
  { id: 'reboot', label: 'Reboot', says: 'reboot', danger: true, run: power('rebooting') },
  { id: 'maintenance-on', label: 'Maintenance on', says: 'put in maintenance', reason: true, run: (u, a) => api('PUT', `/v1/nodes/${u}/maintenance`, { reason: a.reason || 'set from the console' }) },
  { id: 'maintenance-off', label: 'Maintenance off', says: 'take out of maintenance', run: (u) => api('DELETE', `/v1/nodes/${u}/maintenance`) },
];

export interface Outcome { uuid: string; error?: string }

/** Runs `action` on every node, a few at a time; returns what failed and why. */
export async function runOnAll(action: Action, uuids: string[], args: { deploy?: DeployArgs; reason?: string }, onDone?: (n: number) => void): Promise<Outcome[]> {
  const out: Outcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < uuids.length) {
      const uuid = uuids[next++];
      try {
        await action.run(uuid, args);
        out.push({ uuid });
      } catch (err) {
        out.push({ uuid, error: (err as Error).message });
      }
      onDone?.(out.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, uuids.length) }, worker));
  return out;
}
