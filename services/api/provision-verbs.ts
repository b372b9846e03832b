// The verbs of PUT /v1/nodes/{ident}/states/provision as data (ironic node.py
// NodeStatesController.provision, manager.py do_provisioning_action): per event, the body
// arguments it takes, the rules it obeys and what it records (which verbs maintenance refuses is
// common/states.ts REFUSED_IN_MAINTENANCE). The route finds the node, asks
// askProvision() and writes the answer; the move itself is common/states.ts's transitionFields.
import { InvalidInput, MissingParameter, NotAcceptable } from '../../common/errors.ts';
import { ABORTABLE_STATES, ProvisionState as S, REFUSED_IN_MAINTENANCE, transitionFields, VERBS, type ProvisionEvent } from '../../common/states.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import type { ProvisionRequest } from '../../db/requests.ts';
import { sha512Crypt } from '../../common/secrets.ts';
import { Forbidden } from './errors.ts';
import { requireMinor, versionString } from './version.ts';

type Json = Record<string, unknown>;

export interface ProvisionBody {
  target: string;
  configdrive?: string | Json | null;
  clean_steps?: unknown[];
  deploy_steps?: unknown[];
  service_steps?: unknown[];
  rescue_password?: string;
  disable_ramdisk?: boolean;
}

type Argument = Exclude<keyof ProvisionBody, 'target'>;

/** Each body argument: the version that introduced it, and the refusal for a verb that does not take it. */
const ARGUMENTS: Record<Argument, { since?: number; onlyFor: string }> = {
  configdrive: { onlyFor: 'Adding a config drive is only supported when setting provision state to active or rebuild' },
  clean_steps: { onlyFor: '"clean_steps" is only valid when setting target provision state to clean' },
  deploy_steps: { since: 69, onlyFor: '"deploy_steps" is only valid when setting target provision state to active or rebuild' },
  service_steps: { onlyFor: '"service_steps" is only valid when setting target provision state to service' },
  rescue_password: { onlyFor: '"rescue_password" is only valid when setting target provision state to rescue' },
  disable_ramdisk: { since: 70, onlyFor: '"disable_ramdisk" is only valid when setting target provision state to clean or service' },
};

/** What a verb writes beside the move: node fields, its history line, and a task for the conductor that holds the node. */
export interface ProvisionWrite {
  fields: Partial<NodeRecord>;
  history: { event: string; severity: 'info' | 'warning' };
  /** Abort stops work in progress through a node task; every other verb wakes the conductors. */
  task?: { kind: string; args: Json };
}

interface VerbRules {
  /** Body arguments this verb takes; the others are refused with their onlyFor message. */
  takes?: readonly Argument[];
  refusedWhenProtected?: boolean;
  /** States the verb is honoured in, narrower than the state table's rows (abort: manager.py _do_abort). */
  onlyIn?: ReadonlySet<string>;
  /** The verb's own checks of the body against the node at the request's version. */
  check?(body: ProvisionBody, node: NodeRecord, version: number): void;
  /** The arguments the request carries to the conductor (db/requests.ts); a verb without any records none. */
  request?(body: ProvisionBody): ProvisionRequest;
  /** The verb goes on with the operation in progress and keeps its request (unhold). */
  continues?: boolean;
  /** Other fields the verb sets. */
  fields?(node: NodeRecord): Partial<NodeRecord>;
  /** The history line and task of this verb, when not the plain "requested" line. */
  write?(node: NodeRecord, to: string): Omit<ProvisionWrite, 'fields'> & { fields?: Partial<NodeRecord> };
}

const CONFIGDRIVE_KEYS = ['meta_data', 'network_data', 'user_data', 'vendor_data'];

function checkConfigdrive(drive: string | Json, version: number): void {
  if (typeof drive === 'string') {
    if (!drive.includes('://') && !/^[A-Za-z0-9+/=\s]*$/.test(drive)) {
      throw new InvalidInput('The configdrive must be a URL or base64 encoded gzipped ISO9660 image; it holds characters outside base64.');
    }
    return;
  }
  requireMinor(version, 56, 'A configdrive given as a JSON object');
  for (const key of Object.keys(drive)) {
    if (!CONFIGDRIVE_KEYS.includes(key)) throw new InvalidInput(`Invalid configdrive key "${key}": allowed keys are ${CONFIGDRIVE_KEYS.join(', ')}.`);
  }
  if ('vendor_data' in drive) requireMinor(version, 59, 'configdrive.vendor_data');
  const ud = drive.user_data;
  if (ud !== undefined && ud !== null && typeof ud !== 'string' && typeof ud !== 'object') throw new InvalidInput('configdrive.user_data must be a string, an object or a list.');
}

function required(body: ProvisionBody, arg: 'clean_steps' | 'service_steps', target: string): void {
  if (!body[arg]) throw new MissingParameter(`"${arg}" is required when setting target provision state to ${target}`);
}

/** The body's value of each argument given (undefined and null ones left out). */
function given(body: ProvisionBody, args: Partial<Record<keyof ProvisionRequest, Argument>>): ProvisionRequest {
  const request: Record<string, unknown> = {};
  for (const [field, arg] of Object.entries(args) as [string, Argument][]) if (body[arg] != null) request[field] = body[arg];
  return request as ProvisionRequest;
}

const deploying: VerbRules = {
  takes: ['configdrive', 'deploy_steps'],
  check(body, _node, version) {
    if (body.configdrive != null) checkConfigdrive(body.configdrive, version);
  },
  request: (body) => given(body, { steps: 'deploy_steps', configdrive: 'configdrive' }),
};

/** Rules of each verb, by the event it sends (common/states.ts VERBS names the targets). */
const RULES: Readonly<Partial<Record<ProvisionEvent, VerbRules>>> = {
  deploy: deploying,
  rebuild: { ...deploying, refusedWhenProtected: true },
  delete: { refusedWhenProtected: true },
  inspect: { fields: () => ({ inspection_started_at: Date.now() }) },
  clean: {
    takes: ['clean_steps', 'disable_ramdisk'],
      check: (body) => required(body, 'clean_steps', 'clean'),
    request: (body) => given(body, { steps: 'clean_steps', disable_ramdisk: 'disable_ramdisk' }),
  },
  service: {
    takes: ['service_steps', 'disable_ramdisk'],
    check(body, _node, version) {
      required(body, 'service_steps', 'service');
      if (body.disable_ramdisk !== undefined) requireMinor(version, 108, 'disable_ramdisk with the service verb');
    },
    request: (body) => given(body, { steps: 'service_steps', disable_ramdisk: 'disable_ramdisk' }),
  },
  rescue: {
    takes: ['rescue_password'],
    check(body) {
      if (!body.rescue_password?.trim()) throw new MissingParameter('A non-empty "rescue_password" is required when setting target provision state to rescue');
    },
    // Hashed at once, as Ironic's conductor does: the plain password is stored nowhere.
    request: (body) => ({ rescue_password_hash: sha512Crypt(body.rescue_password!) }),
  },
  unhold: { continues: true },
  abort: {
    onlyIn: ABORTABLE_STATES,
    check(_body, node, version) {
      if (node.provision_state === S.INSPECT_WAIT) requireMinor(version, 41, 'Aborting inspection');
      if (node.provision_state === S.DEPLOY_WAIT) requireMinor(version, 110, 'Aborting a deployment in "wait call-back"');
    },
    write(node, to) {
      const why = `Aborted by user in state "${node.provision_state}"`;
      return {
        fields: { last_error: why },
        history: { event: `${why}; now "${to}"`, severity: 'warning' },
        task: { kind: 'abort', args: { from_state: node.provision_state } },
      };
    },
  },
};

/** The event of a target, after the checks that need no node: it exists, and at the request's version. */
export function verbOf(target: string, version: number): ProvisionEvent {
  const verb = VERBS[target];
  if (!verb) throw new InvalidInput(`Invalid target "${target}": it must be one of ${Object.keys(VERBS).join(', ')}.`, 'InvalidStateRequested');
  if (version < verb.minVersion) throw new NotAcceptable(`The "${target}" provision action requires API version ${versionString(verb.minVersion)} or later.`);
  return verb.event;
}

/**
 * What the verb writes on this node, after its arguments and rules are checked (throws Ironic's
 * errors); undefined when the node's state does not take it.
 */
export function askProvision(event: ProvisionEvent, body: ProvisionBody, node: NodeRecord, version: number): ProvisionWrite | undefined {
  const rules = RULES[event] ?? {};
  for (const arg of Object.keys(ARGUMENTS) as Argument[]) {
    if (body[arg] === undefined || (arg === 'configdrive' && body[arg] === null)) continue;
    const { since, onlyFor } = ARGUMENTS[arg];
    if (since) requireMinor(version, since, arg);
    if (!rules.takes?.includes(arg)) throw new InvalidInput(onlyFor);
  }
  rules.check?.(body, node, version);
  const refused = node.maintenance ? REFUSED_IN_MAINTENANCE[event] : undefined;
  if (refused) throw new InvalidInput(`The ${refused} operation can't be performed on node ${node.uuid} because it's in maintenance mode.`, 'NodeInMaintenance');
  if (rules.refusedWhenProtected && node.protected) throw new Forbidden(`Node ${node.uuid} is protected and cannot be undeployed, rebuilt or deleted`, 'NodeProtected');
  const move = transitionFields(node, event);
  if (!move || (rules.onlyIn && !rules.onlyIn.has(node.provision_state))) return undefined;
  const special = rules.write?.(node, move.provision_state);
  return {
    fields: {
      ...move,
      last_error: null,
      ...(rules.continues ? {} : { provision_request: rules.request?.(body) ?? null }),
      ...rules.fields?.(node),
      ...special?.fields,
    },
    history: special?.history ?? { event: `"${body.target}" requested: "${node.provision_state}" -> "${move.provision_state}"`, severity: 'info' },
    task: special?.task,
  };
}
