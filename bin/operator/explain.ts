// `anvil nodes explain NODE`: why a node is where it is, in plain words: its state and what it is
// waiting for, the step it is on, the last error and maintenance reason, the last events of its
// history, and what to do next. The advice per state is one table.
import { UNSTABLE_STATES } from '../../common/states.ts';
import type { ApiClient } from './client.ts';

/** What a node in each provision state is doing or waiting for, and what an operator does next. */
const BY_STATE: Record<string, { now: string; next: string }> = {
  enroll: { now: 'is enrolled; Anvil has not checked its BMC yet', next: 'manage it (baremetal node manage NODE): its BMC credentials are verified' },
  verifying: { now: 'is having its BMC access verified', next: 'wait; it goes to manageable, or back to enroll with last_error saying what the BMC answered' },
  manageable: { now: 'is managed and idle', next: 'inspect it (baremetal node inspect NODE) or make it available with provide (cleaning first unless automated_clean is false)' },
  inspecting: { now: 'is being inspected', next: 'wait; it goes back to manageable with its hardware recorded' },
  'inspect wait': { now: 'waits for the inspection ramdisk to send its inventory', next: 'check the node network-boots (DHCP, iPXE) and reaches the API; it times out after conductor.timeouts.inspectWait' },
  'inspect failed': { now: 'failed inspection', next: 'fix what last_error names, then inspect again or manage it' },
  cleaning: { now: 'is being cleaned', next: 'wait; it goes to available (or manageable for a manual clean)' },
  'clean wait': { now: 'waits for the deploy agent to run its clean steps', next: 'check the node network-boots into the ramdisk and its agent heart-beats; it times out after conductor.timeouts.cleanCallback' },
  'clean failed': { now: 'failed cleaning and was put in maintenance', next: 'fix what last_error names, unset maintenance (baremetal node maintenance unset NODE), then manage and provide it again' },
  available: { now: 'is clean and ready for a workload', next: 'deploy it (baremetal node deploy NODE with instance_info.image_source), or claim it through an allocation' },
  deploying: { now: 'is being deployed', next: 'wait; it goes to active' },
  'wait call-back': { now: 'waits for the deploy agent to boot and call back', next: 'check the node network-boots into the ramdisk and reaches the API; it times out after conductor.timeouts.deployCallback' },
  'deploy failed': { now: 'failed to deploy', next: 'fix what last_error names, then deploy again (rebuild) or undeploy it to clean it and return it to available' },
  active: { now: 'is deployed and running its workload', next: 'nothing; undeploy (baremetal node undeploy NODE) when the workload is done' },
  deleting: { now: 'is being undeployed', next: 'wait; it is cleaned and returns to available' },
  error: { now: 'failed to undeploy', next: 'fix what last_error names, then undeploy again' },
  rescuing: { now: 'is booting the rescue ramdisk', next: 'wait; it goes to rescue' },
  'rescue wait': { now: 'waits for the rescue ramdisk to call back', next: 'check the node network-boots; it times out after conductor.timeouts.rescueCallback' },
  rescue: { now: 'runs the rescue ramdisk', next: 'log in to repair it, then unrescue it' },
  'rescue failed': { now: 'failed to rescue', next: 'fix what last_error names, then rescue again or unrescue' },
  'unrescue failed': { now: 'failed to leave rescue', next: 'fix what last_error names, then unrescue again' },
  servicing: { now: 'is being serviced', next: 'wait; it returns to active' },
  'service wait': { now: 'waits for the agent to run its service steps', next: 'check the agent heart-beats; it times out after conductor.timeouts.serviceCallback' },
  'service failed': { now: 'failed servicing', next: 'fix what last_error names, then service again or abort to return to active' },
  adopting: { now: 'is being adopted', next: 'wait; it goes to active' },
  'adopt failed': { now: 'failed adoption', next: 'fix what last_error names, then adopt again or manage it' },
};

/** Faults that put a node in maintenance, and what clears them. */
const BY_FAULT: Record<string, string> = {
  'power failure': 'its BMC stopped answering power-state reads: check the BMC is reachable and its credentials (driver_info), then unset maintenance',
  'clean failure': 'cleaning failed: fix the cause, unset maintenance, then manage and provide it',
  'rescue abort failure': 'aborting a rescue failed: check the BMC, then unset maintenance',
};

export interface Explanation {
  node: { uuid: string; name: string | null; provision_state: string; target_provision_state: string | null; power_state: string | null; maintenance: boolean };
  summary: string;
  step: Record<string, unknown> | null;
  last_error: string | null;
  maintenance_reason: string | null;
  fault: string | null;
  locked_by: string | null;
  recent: { at: string; severity: string; event: string }[];
  next: string;
}

function stepOf(node: Record<string, any>): Record<string, unknown> | null {
  for (const key of ['deploy_step', 'clean_step', 'service_step']) {
    const s = node[key];
    if (s && typeof s === 'object' && Object.keys(s).length > 0) return { kind: key.replace('_step', ''), ...s };
  }
  return null;
}

export async function explainNode(api: ApiClient, ident: string, events = 5): Promise<Explanation> {
  const node = await api.get(`/v1/nodes/${encodeURIComponent(ident)}`);
  const history = await api.all<{ created_at: string; severity: string; event: string }>(`/v1/nodes/${node.uuid}/history?detail=True`, 'history');
  const state: string = node.provision_state;
  const advice = BY_STATE[state] ?? { now: `is in state "${state}"`, next: 'see docs for this state' };
  const who = node.name ? `${node.name} (${node.uuid})` : node.uuid;
  const target = node.target_provision_state && UNSTABLE_STATES.has(state) ? `, on its way to ${node.target_provision_state}` : '';
  let summary = `Node ${who} ${advice.now}${target}; power is ${node.power_state ?? 'not read yet'}.`;
  let next = advice.next;
  if (node.reservation) summary += ` Conductor ${node.reservation} is working on it right now.`;
  if (node.maintenance) {
    summary += ` It is in maintenance${node.maintenance_reason ? `: ${node.maintenance_reason}` : ''}.`;
    next = node.fault && BY_FAULT[node.fault] ? `${BY_FAULT[node.fault]}.` : `unset maintenance (baremetal node maintenance unset ${node.name ?? node.uuid}) once the reason is dealt with; then: ${advice.next}`;
  }
  const step = stepOf(node);
  if (step) summary += ` Current ${step.kind} step: ${String(step.interface)}.${String(step.step)}.`;
  if (node.last_error) summary += ` Last error: ${node.last_error}`;
  return {
    node: { uuid: node.uuid, name: node.name ?? null, provision_state: state, target_provision_state: node.target_provision_state ?? null, power_state: node.power_state ?? null, maintenance: Boolean(node.maintenance) },
    summary,
    step,
    last_error: node.last_error ?? null,
    maintenance_reason: node.maintenance_reason ?? null,
    fault: node.fault ?? null,
    locked_by: node.reservation ?? null,
    recent: history.slice(-events).map((h) => ({ at: h.created_at, severity: h.severity, event: h.event })),
    next,
  };
}

export function explanationText(x: Explanation): string {
  const lines = [x.summary, ''];
  if (x.recent.length > 0) {
    lines.push('What happened last:');
    for (const h of x.recent) lines.push(`  ${h.at}  ${h.severity.padEnd(7)} ${h.event}`);
    lines.push('');
  }
  lines.push(`What to do next: ${x.next}`);
  return `${lines.join('\n')}\n`;
}
