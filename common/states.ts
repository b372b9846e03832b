// Ironic's provision state machine, spelled as Ironic spells it (ironic/common/states.py).
// One table of (state, event) -> state, read by the API (is this verb allowed now?) and by the
// conductor (where does this step lead?). Side effects live in the conductor, never here.

export const ProvisionState = {
  ENROLL: 'enroll',
  VERIFYING: 'verifying',
  MANAGEABLE: 'manageable',
  INSPECTING: 'inspecting',
  INSPECT_WAIT: 'inspect wait',
  INSPECT_FAILED: 'inspect failed',
  CLEANING: 'cleaning',
  CLEAN_WAIT: 'clean wait',
  CLEAN_HOLD: 'clean hold',
  CLEAN_FAILED: 'clean failed',
  AVAILABLE: 'available',
  DEPLOYING: 'deploying',
  DEPLOY_WAIT: 'wait call-back',
  DEPLOY_HOLD: 'deploy hold',
  DEPLOY_FAILED: 'deploy failed',
  ACTIVE: 'active',
  DELETING: 'deleting',
  ERROR: 'error',
  ADOPTING: 'adopting',
  ADOPT_FAILED: 'adopt failed',
  RESCUING: 'rescuing',
  RESCUE_WAIT: 'rescue wait',
  RESCUE_FAILED: 'rescue failed',
  RESCUE: 'rescue',
  UNRESCUING: 'unrescuing',
  UNRESCUE_FAILED: 'unrescue failed',
  SERVICING: 'servicing',
  SERVICE_WAIT: 'service wait',
  SERVICE_HOLD: 'service hold',
  SERVICE_FAILED: 'service failed',
} as const;
export type ProvisionStateName = (typeof ProvisionState)[keyof typeof ProvisionState];
export const ALL_PROVISION_STATES: readonly ProvisionStateName[] = Object.values(ProvisionState);

export const PowerState = {
  ON: 'power on',
  OFF: 'power off',
  REBOOT: 'rebooting',
  SOFT_OFF: 'soft power off',
  SOFT_REBOOT: 'soft rebooting',
} as const;
export type PowerStateName = (typeof PowerState)[keyof typeof PowerState];

/** Events: the API's verbs plus the conductor's internal outcomes. */
export type ProvisionEvent =
  | 'manage' | 'provide' | 'inspect' | 'clean' | 'deploy' | 'rebuild' | 'delete' | 'abort'
  | 'adopt' | 'rescue' | 'unrescue' | 'unhold' | 'service'
  | 'done' | 'fail' | 'wait' | 'resume' | 'hold';

/** PUT /states/provision `target` -> event, with the microversion that introduced the verb. */
export const VERBS: Record<string, { event: ProvisionEvent; minVersion: number }> = {
  active: { event: 'deploy', minVersion: 1 },
  deploy: { event: 'deploy', minVersion: 73 },
  rebuild: { event: 'rebuild', minVersion: 1 },
  deleted: { event: 'delete', minVersion: 1 },
  undeploy: { event: 'delete', minVersion: 73 },
  manage: { event: 'manage', minVersion: 4 },
  provide: { event: 'provide', minVersion: 4 },
  inspect: { event: 'inspect', minVersion: 6 },
  abort: { event: 'abort', minVersion: 13 },
  clean: { event: 'clean', minVersion: 15 },
  adopt: { event: 'adopt', minVersion: 17 },
  rescue: { event: 'rescue', minVersion: 38 },
  unrescue: { event: 'unrescue', minVersion: 38 },
  unhold: { event: 'unhold', minVersion: 85 },
  service: { event: 'service', minVersion: 87 },
};

const S = ProvisionState;
type Row = [from: ProvisionStateName, event: ProvisionEvent, to: ProvisionStateName];

// Transcribed from the add_transition calls of ironic/common/states.py.
const TRANSITIONS: Row[] = [
  [S.ENROLL, 'manage', S.VERIFYING],
  [S.VERIFYING, 'done', S.MANAGEABLE],
  [S.VERIFYING, 'fail', S.ENROLL],

  [S.MANAGEABLE, 'provide', S.CLEANING],
  [S.MANAGEABLE, 'clean', S.CLEANING],
  [S.MANAGEABLE, 'inspect', S.INSPECTING],
  [S.MANAGEABLE, 'adopt', S.ADOPTING],
  [S.MANAGEABLE, 'manage', S.MANAGEABLE],

  [S.INSPECTING, 'done', S.MANAGEABLE],
  [S.INSPECTING, 'wait', S.INSPECT_WAIT],
  [S.INSPECTING, 'fail', S.INSPECT_FAILED],
  [S.INSPECT_WAIT, 'done', S.MANAGEABLE],
  [S.INSPECT_WAIT, 'resume', S.INSPECTING],
  [S.INSPECT_WAIT, 'fail', S.INSPECT_FAILED],
  [S.INSPECT_WAIT, 'abort', S.INSPECT_FAILED],
  [S.INSPECT_FAILED, 'manage', S.MANAGEABLE],
  [S.INSPECT_FAILED, 'inspect', S.INSPECTING],

  [S.ADOPTING, 'done', S.ACTIVE],
  [S.ADOPTING, 'fail', S.ADOPT_FAILED],
  [S.ADOPT_FAILED, 'adopt', S.ADOPTING],
  [S.ADOPT_FAILED, 'manage', S.MANAGEABLE],

  [S.AVAILABLE, 'deploy', S.DEPLOYING],
  [S.AVAILABLE, 'manage', S.MANAGEABLE],

  [S.DEPLOYING, 'wait', S.DEPLOY_WAIT],
  [S.DEPLOYING, 'hold', S.DEPLOY_HOLD],
  [S.DEPLOYING, 'done', S.ACTIVE],
  [S.DEPLOYING, 'fail', S.DEPLOY_FAILED],
  [S.DEPLOY_WAIT, 'resume', S.DEPLOYING],
  [S.DEPLOY_WAIT, 'hold', S.DEPLOY_HOLD],
  [S.DEPLOY_WAIT, 'fail', S.DEPLOY_FAILED],
  [S.DEPLOY_WAIT, 'abort', S.DEPLOY_FAILED],
  [S.DEPLOY_WAIT, 'delete', S.DELETING],
  [S.DEPLOY_HOLD, 'unhold', S.DEPLOY_WAIT],
  [S.DEPLOY_HOLD, 'abort', S.DEPLOY_FAILED],
  [S.DEPLOY_FAILED, 'rebuild', S.DEPLOYING],
  [S.DEPLOY_FAILED, 'deploy', S.DEPLOYING],
  [S.DEPLOY_FAILED, 'delete', S.DELETING],

  [S.ACTIVE, 'rebuild', S.DEPLOYING],
  [S.ACTIVE, 'delete', S.DELETING],
  [S.ACTIVE, 'rescue', S.RESCUING],
  [S.ACTIVE, 'service', S.SERVICING],
  [S.ERROR, 'rebuild', S.DEPLOYING],
  [S.ERROR, 'delete', S.DELETING],

  [S.DELETING, 'clean', S.CLEANING],
  [S.DELETING, 'fail', S.ERROR],

  [S.CLEANING, 'done', S.AVAILABLE],
  [S.CLEANING, 'manage', S.MANAGEABLE],
  [S.CLEANING, 'wait', S.CLEAN_WAIT],
  [S.CLEANING, 'hold', S.CLEAN_HOLD],
  [S.CLEANING, 'fail', S.CLEAN_FAILED],
  [S.CLEAN_WAIT, 'resume', S.CLEANING],
  [S.CLEAN_WAIT, 'hold', S.CLEAN_HOLD],
  [S.CLEAN_WAIT, 'fail', S.CLEAN_FAILED],
  [S.CLEAN_WAIT, 'abort', S.CLEAN_FAILED],
  [S.CLEAN_HOLD, 'unhold', S.CLEAN_WAIT],
  [S.CLEAN_HOLD, 'abort', S.CLEAN_FAILED],
  [S.CLEAN_FAILED, 'manage', S.MANAGEABLE],

  [S.RESCUING, 'done', S.RESCUE],
  [S.RESCUING, 'wait', S.RESCUE_WAIT],
  [S.RESCUING, 'fail', S.RESCUE_FAILED],
  [S.RESCUE_WAIT, 'resume', S.RESCUING],
  [S.RESCUE_WAIT, 'fail', S.RESCUE_FAILED],
  [S.RESCUE_WAIT, 'abort', S.RESCUE_FAILED],
  [S.RESCUE_WAIT, 'delete', S.DELETING],
  [S.RESCUE, 'rescue', S.RESCUING],
  [S.RESCUE, 'unrescue', S.UNRESCUING],
  [S.RESCUE, 'delete', S.DELETING],
  [S.RESCUE_FAILED, 'rescue', S.RESCUING],
  [S.RESCUE_FAILED, 'unrescue', S.UNRESCUING],
  [S.RESCUE_FAILED, 'delete', S.DELETING],
  [S.UNRESCUING, 'done', S.ACTIVE],
  [S.UNRESCUING, 'fail', S.UNRESCUE_FAILED],
  [S.UNRESCUE_FAILED, 'rescue', S.RESCUING],
  [S.UNRESCUE_FAILED, 'unrescue', S.UNRESCUING],
  [S.UNRESCUE_FAILED, 'delete', S.DELETING],

  [S.SERVICING, 'done', S.ACTIVE],
  [S.SERVICING, 'wait', S.SERVICE_WAIT],
  [S.SERVICING, 'hold', S.SERVICE_HOLD],
  [S.SERVICING, 'fail', S.SERVICE_FAILED],
  [S.SERVICE_WAIT, 'resume', S.SERVICING],
  [S.SERVICE_WAIT, 'hold', S.SERVICE_HOLD],
  [S.SERVICE_WAIT, 'fail', S.SERVICE_FAILED],
  [S.SERVICE_WAIT, 'abort', S.SERVICE_FAILED],
  [S.SERVICE_WAIT, 'delete', S.DELETING],
  [S.SERVICE_HOLD, 'service', S.SERVICING],
  [S.SERVICE_HOLD, 'unhold', S.SERVICE_WAIT],
  [S.SERVICE_HOLD, 'fail', S.SERVICE_FAILED],
  [S.SERVICE_HOLD, 'abort', S.SERVICE_FAILED],
  [S.SERVICE_FAILED, 'service', S.SERVICING],
  [S.SERVICE_FAILED, 'rescue', S.RESCUING],
  [S.SERVICE_FAILED, 'delete', S.DELETING],
  [S.SERVICE_FAILED, 'abort', S.ACTIVE],
];

const table = new Map<string, ProvisionStateName>();
for (const [from, event, to] of TRANSITIONS) table.set(`${from}\u0000${event}`, to);

/** The state `event` leads to from `from`, or undefined when the event is not allowed there. */
export function nextState(from: string, event: ProvisionEvent): ProvisionStateName | undefined {
  return table.get(`${from}\u0000${event}`);
}

/** The values a node's `fault` may take (ironic/common/faults.py); the API's `fault` filter accepts only these. */
export const VALID_FAULTS: readonly string[] = ['power failure', 'clean failure', 'rescue abort failure', 'service failure'];

export const STABLE_STATES: ReadonlySet<string> = new Set([S.ENROLL, S.MANAGEABLE, S.AVAILABLE, S.ACTIVE, S.ERROR, S.RESCUE]);

/** States in which a conductor has work to do on its own (it claims such nodes). */
export const WORKING_STATES: ReadonlySet<string> = new Set([
  S.VERIFYING, S.INSPECTING, S.CLEANING, S.DEPLOYING, S.DELETING, S.ADOPTING, S.RESCUING, S.UNRESCUING, S.SERVICING,
]);

/** States that wait for the deploy agent; heartbeats and timeouts move them on. */
export const WAIT_STATES: ReadonlySet<string> = new Set([S.INSPECT_WAIT, S.CLEAN_WAIT, S.DEPLOY_WAIT, S.RESCUE_WAIT, S.SERVICE_WAIT]);

/** Ironic's UNSTABLE_STATES: a node in one of these is in the middle of something. */
export const UNSTABLE_STATES: ReadonlySet<string> = new Set([...WORKING_STATES, ...WAIT_STATES]);

/** States where an operation waits for an operator's unhold (or abort). */
export const HOLD_STATES: ReadonlySet<string> = new Set([S.CLEAN_HOLD, S.DEPLOY_HOLD, S.SERVICE_HOLD]);

/** Where `abort` is honoured (manager.py _do_abort). */
export const ABORTABLE_STATES: ReadonlySet<string> = new Set([
  S.CLEAN_WAIT, S.RESCUE_WAIT, S.INSPECT_WAIT, S.CLEAN_HOLD, S.DEPLOY_WAIT, S.DEPLOY_HOLD, S.SERVICE_WAIT, S.SERVICE_HOLD, S.SERVICE_FAILED,
]);

export const DELETE_ALLOWED_STATES: ReadonlySet<string> = new Set([S.MANAGEABLE, S.ENROLL, S.ADOPT_FAILED]);

export const UPDATE_ALLOWED_STATES: ReadonlySet<string> = new Set([
  S.DEPLOY_FAILED, S.INSPECT_FAILED, S.INSPECT_WAIT, S.CLEAN_FAILED, S.ERROR, S.VERIFYING, S.ADOPT_FAILED,
  S.RESCUE_FAILED, S.UNRESCUE_FAILED, S.SERVICE_HOLD, S.SERVICE_FAILED,
]);

/** States in which the agent may look itself up (ramdisk.py LOOKUP_ALLOWED_STATES). */
export const LOOKUP_ALLOWED_STATES: ReadonlySet<string> = new Set([
  S.DEPLOYING, S.DEPLOY_WAIT, S.CLEANING, S.CLEAN_WAIT, S.INSPECTING, S.INSPECT_WAIT, S.RESCUING, S.RESCUE_WAIT, S.SERVICE_WAIT,
]);

/** With fast track the agent stays up between phases, so it may also look itself up while the node rests (Ironic's FASTTRACK_LOOKUP_ALLOWED_STATES). */
export const FAST_TRACK_LOOKUP_ALLOWED_STATES: ReadonlySet<string> = new Set([...LOOKUP_ALLOWED_STATES, S.ENROLL, S.MANAGEABLE, S.AVAILABLE]);

/**
 * Maintenance works as in Ironic with [conductor]allow_provisioning_in_maintenance = False, the
 * setting under which no node waits in maintenance for ever. The API refuses these verbs on a node
 * in maintenance (400 NodeInMaintenance), naming the operation as Ironic does (api node.py,
 * deployments.validate_node, manager.py do_node_clean/rescue/unrescue/service, do_provisioning_action).
 */
export const REFUSED_IN_MAINTENANCE: Readonly<Partial<Record<ProvisionEvent, string>>> = {
  deploy: 'provisioning', rebuild: 'provisioning', clean: 'cleaning', provide: 'providing', rescue: 'rescuing', unrescue: 'unrescuing', service: 'service',
};

/**
 * Operations a conductor stops when it finds their node in maintenance (a heart-beat in the wait
 * state, or the working state itself), with the last_error Ironic gives (agent_base.py
 * _heartbeat_in_maintenance). Other working states (verifying, inspecting, deleting, ...) run in
 * maintenance, as Ironic's do.
 */
export const ABORTED_IN_MAINTENANCE: Readonly<Record<string, string>> = {
  [S.CLEANING]: 'Cleaning aborted as node is in maintenance mode',
  [S.CLEAN_WAIT]: 'Cleaning aborted as node is in maintenance mode',
  [S.DEPLOYING]: 'Deploy aborted as node is in maintenance mode',
  [S.DEPLOY_WAIT]: 'Deploy aborted as node is in maintenance mode',
  [S.RESCUING]: 'Rescue aborted as node is in maintenance mode',
  [S.RESCUE_WAIT]: 'Rescue aborted as node is in maintenance mode',
  [S.SERVICING]: 'Service aborted as node is in maintenance mode',
  [S.SERVICE_WAIT]: 'Service aborted as node is in maintenance mode',
};

/** The failure state each transient state falls to when its work fails or times out. */
export function failureState(state: string): ProvisionStateName | undefined {
  return nextState(state, 'fail');
}

// The target_provision_state shown while a node is in a transient state, as Ironic's conductor sets it.
const TARGETS: Record<string, ProvisionStateName> = {
  [S.VERIFYING]: S.MANAGEABLE,
  [S.INSPECTING]: S.MANAGEABLE, [S.INSPECT_WAIT]: S.MANAGEABLE, [S.INSPECT_FAILED]: S.MANAGEABLE,
  [S.CLEANING]: S.AVAILABLE, [S.CLEAN_WAIT]: S.AVAILABLE, [S.CLEAN_HOLD]: S.AVAILABLE, [S.CLEAN_FAILED]: S.AVAILABLE,
  [S.DELETING]: S.AVAILABLE,
  [S.DEPLOYING]: S.ACTIVE, [S.DEPLOY_WAIT]: S.ACTIVE, [S.DEPLOY_HOLD]: S.ACTIVE, [S.DEPLOY_FAILED]: S.ACTIVE,
  [S.ADOPTING]: S.ACTIVE, [S.ADOPT_FAILED]: S.ACTIVE, [S.UNRESCUING]: S.ACTIVE, [S.UNRESCUE_FAILED]: S.ACTIVE,
  [S.SERVICING]: S.ACTIVE, [S.SERVICE_WAIT]: S.ACTIVE, [S.SERVICE_HOLD]: S.ACTIVE, [S.SERVICE_FAILED]: S.ACTIVE,
  [S.RESCUING]: S.RESCUE, [S.RESCUE_WAIT]: S.RESCUE, [S.RESCUE_FAILED]: S.RESCUE,
};

/** What a move along the table changes on the node row. */
export interface TransitionFields {
  provision_state: ProvisionStateName;
  target_provision_state: ProvisionStateName | null;
  provision_updated_at: number;
  /** Cleared when the node comes to rest: the operation the request asked for is over (db/requests.ts). */
  provision_request?: null;
}

/**
 * The fields that move a node from its state by `event`, for the API's verbs and the conductor's
 * outcomes alike, or undefined when the table has no such move. The target is carried along, so a
 * manual clean keeps `manageable` to its end; `clean` from manageable is what starts one. A node
 * that comes to rest (a stable or failure state) drops the arguments of its operation.
 */
export function transitionFields(node: { provision_state: string; target_provision_state: string | null }, event: ProvisionEvent): TransitionFields | undefined {
  const to = nextState(node.provision_state, event);
  if (!to) return undefined;
  const carried = event === 'clean' && node.provision_state === S.MANAGEABLE ? S.MANAGEABLE : node.target_provision_state;
  const fields: TransitionFields = { provision_state: to, target_provision_state: targetFor(to, carried), provision_updated_at: Date.now() };
  if (!UNSTABLE_STATES.has(to) && !HOLD_STATES.has(to)) fields.provision_request = null;
  return fields;
}

/**
 * target_provision_state for a node entering `state`. Stable states have none. Cleaning keeps
 * `manageable` as its target when it is a manual clean (the caller passes the target it had).
 */
export function targetFor(state: string, currentTarget?: string | null): ProvisionStateName | null {
  if (STABLE_STATES.has(state)) return null;
  const cleaningFamily: string[] = [S.CLEANING, S.CLEAN_WAIT, S.CLEAN_HOLD, S.CLEAN_FAILED];
  if (cleaningFamily.includes(state) && currentTarget === S.MANAGEABLE) return S.MANAGEABLE;
  return TARGETS[state] ?? null;
}
