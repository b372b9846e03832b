// How node fields read in the console.
import type { FleetRow } from './api.ts';

/**
 * Anvil has no `health` field (Ironic 1.109 reads it from the BMC): the console's health says
 * what needs a person, from Ironic's own signals: a fault, maintenance, a failure state.
 */
export function health(n: Pick<FleetRow, 'fault' | 'maintenance' | 'provision_state'>): { text: string; level: 'ok' | 'warn' | 'bad' } {
  if (n.fault) return { text: `fault: ${n.fault}`, level: 'bad' };
  if (/failed$|^error$/.test(n.provision_state)) return { text: 'failed', level: 'bad' };
  if (n.maintenance) return { text: 'maintenance', level: 'warn' };
  return { text: 'ok', level: 'ok' };
}

export function stateClass(state: string): string {
  if (/failed$|^error$/.test(state)) return 'state bad';
  if (state === 'active') return 'state good';
  if (state === 'available' || state === 'manageable') return 'state calm';
  if (state === 'enroll') return 'state quiet';
  return 'state busy';
}

export function ago(ms: number | null | undefined): string {
  if (!ms) return '';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export const STATE_GROUPS: Record<string, string[]> = {
  failed: ['enroll failed', 'inspect failed', 'clean failed', 'deploy failed', 'rescue failed', 'unrescue failed', 'adopt failed', 'service failed', 'error'],
  'in progress': ['verifying', 'inspecting', 'inspect wait', 'cleaning', 'clean wait', 'deploying', 'wait call-back', 'deleting', 'rescuing', 'rescue wait', 'unrescuing', 'adopting', 'servicing', 'service wait'],
  active: ['active'],
  available: ['available'],
  manageable: ['manageable'],
  enroll: ['enroll'],
};
