// Who may use /v1/inspection_rules: system readers read them, system admins change them; no
// project-scoped caller does either (rules act on every node, whoever owns it).
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../../../services/api/auth/identity.ts';
import { Policy } from '../../../../services/api/auth/policy/enforcer.ts';
import { ROUTE_POLICIES } from '../../../../services/api/auth/policy/routes.ts';

const system = (roles: string[]): Identity => ({ strategy: 'keystone', userId: 's', userName: 's', projectId: null, projectName: null, projectDomainId: null, roles, system: true });
const project = (roles: string[]): Identity => ({ strategy: 'keystone', userId: 'p', userName: 'p', projectId: 'p1', projectName: 'p1', projectDomainId: 'default', roles, system: false });

describe('policy of inspection rules (1.96)', () => {
  const policy = new Policy({}, { serviceProjectName: 'service' });
  const changes = ['baremetal:inspection_rule:create', 'baremetal:inspection_rule:update', 'baremetal:inspection_rule:delete'];

  it('lets system readers read, system admins change, and no project caller do either', () => {
    expect(policy.allowed('baremetal:inspection_rule:get', system(['reader']), {})).toBe(true);
    for (const rule of changes) {
      expect(policy.allowed(rule, system(['admin', 'member', 'reader']), {}), rule).toBe(true);
      expect(policy.allowed(rule, system(['member', 'reader']), {}), rule).toBe(false);
      expect(policy.allowed(rule, project(['admin', 'manager', 'member', 'reader']), {}), rule).toBe(false);
    }
    expect(policy.allowed('baremetal:inspection_rule:get', project(['admin', 'reader']), {})).toBe(false);
  });

  it('guards every route of the resource with its rule', () => {
    expect(ROUTE_POLICIES['GET /inspection_rules'].rules).toEqual(['baremetal:inspection_rule:get']);
    expect(ROUTE_POLICIES['GET /inspection_rules/:uuid'].rules).toEqual(['baremetal:inspection_rule:get']);
    expect(ROUTE_POLICIES['POST /inspection_rules'].rules).toEqual(['baremetal:inspection_rule:create']);
    expect(ROUTE_POLICIES['PATCH /inspection_rules/:uuid'].rules).toEqual(['baremetal:inspection_rule:update']);
    expect(ROUTE_POLICIES['DELETE /inspection_rules/:uuid'].rules).toEqual(['baremetal:inspection_rule:delete']);
    expect(ROUTE_POLICIES['DELETE /inspection_rules'].rules).toEqual(['baremetal:inspection_rule:delete']);
  });
});
