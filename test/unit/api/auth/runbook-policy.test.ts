// Who may use the endpoints of API 1.82–1.95: Ironic's defaults for runbooks (owner managers,
// public runbooks), virtual media, shards and disable_power_off, and the rules chosen per request.
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../../../services/api/auth/identity.ts';
import { Policy } from '../../../../services/api/auth/policy/enforcer.ts';
import { nodePatchRules, provisionRules, ROUTE_POLICIES, runbookPatchRules } from '../../../../services/api/auth/policy/routes.ts';

function project(id: string, roles: string[]): Identity {
  return { strategy: 'keystone', userId: `u-${id}`, userName: `user-${id}`, projectId: id, projectName: `name-${id}`, projectDomainId: 'default', roles, system: false };
}
const systemMember: Identity = { strategy: 'keystone', userId: 's', userName: 's', projectId: null, projectName: null, projectDomainId: null, roles: ['member', 'reader'], system: true };

describe('policy of API 1.82-1.95', () => {
  const policy = new Policy({}, { serviceProjectName: 'service' });
  const owned = { 'runbook.owner': 'p1' };

  it('lets a project manager manage and use its own runbooks, readers read them, nobody else', () => {
    const manager = project('p1', ['manager', 'member', 'reader']);
    const reader = project('p1', ['reader']);
    const stranger = project('p2', ['manager', 'member', 'reader']);
    for (const rule of ['baremetal:runbook:update', 'baremetal:runbook:delete', 'baremetal:runbook:use']) {
      expect(policy.allowed(rule, manager, owned), rule).toBe(true);
      expect(policy.allowed(rule, stranger, owned), rule).toBe(false);
      expect(policy.allowed(rule, systemMember, owned), rule).toBe(true);
    }
    expect(policy.allowed('baremetal:runbook:get', reader, owned)).toBe(true);
    expect(policy.allowed('baremetal:runbook:get', stranger, owned)).toBe(false);
    expect(policy.allowed('baremetal:runbook:create', manager, {})).toBe(true);
    expect(policy.allowed('baremetal:runbook:create', reader, {})).toBe(false);
    expect(policy.allowed('baremetal:runbook:update:public', manager, owned)).toBe(false);
    expect(policy.allowed('baremetal:runbook:list_all', reader, {})).toBe(false);
    expect(policy.allowed('baremetal:runbook:list', reader, {})).toBe(true);
  });

  it('guards virtual media, shards and disable_power_off as Ironic does', () => {
    const member = project('p1', ['member', 'reader']);
    const node = { 'node.owner': 'p1', 'node.lessee': null };
    expect(policy.allowed('baremetal:node:vmedia:attach', member, node)).toBe(true);
    expect(policy.allowed('baremetal:node:vmedia:get', project('p2', ['reader']), node)).toBe(false);
    expect(policy.allowed('baremetal:shards:get', member, {})).toBe(false);
    expect(policy.allowed('baremetal:node:update:disable_power_off', member, node)).toBe(false);
    expect(nodePatchRules({ body: [{ op: 'add', path: '/disable_power_off', value: true }] } as never)).toEqual(['baremetal:node:update:disable_power_off']);
  });

  it('picks the rules of a request: runbook owner and public patches, runbook use in provisioning', () => {
    expect(runbookPatchRules({ body: [{ op: 'add', path: '/owner', value: 'p' }, { op: 'replace', path: '/steps/0/order', value: 1 }] } as never).sort())
      .toEqual(['baremetal:runbook:update', 'baremetal:runbook:update:owner']);
    expect(runbookPatchRules({ body: [{ op: 'replace', path: '/public', value: true }] } as never)).toEqual(['baremetal:runbook:update:public']);
    expect(provisionRules({ body: { target: 'clean', runbook: 'CUSTOM_X' } } as never)).toEqual(['baremetal:node:set_provision_state', 'baremetal:runbook:use']);
    expect(provisionRules({ body: { target: 'manage' } } as never)).toEqual(['baremetal:node:set_provision_state']);
    for (const route of ['GET /shards', 'GET /runbooks', 'POST /runbooks', 'GET /nodes/:ident/vmedia', 'POST /nodes/:ident/vmedia', 'DELETE /nodes/:ident/vmedia', 'GET /nodes/:ident/children']) {
      expect(ROUTE_POLICIES[route], route).toBeDefined();
    }
  });
});
