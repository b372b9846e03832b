// The policy engine: oslo.policy's check language, Ironic's defaults for the personas the issue
// names, scope enforcement and policy-file overrides.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemAdmin, type Identity } from '../../../../services/api/auth/identity.ts';
import { NEEDS_TARGET, parseCheck, type CheckContext } from '../../../../services/api/auth/policy/checks.ts';
import { Policy, readPolicyFile } from '../../../../services/api/auth/policy/enforcer.ts';
import { RULE_DEFAULTS } from '../../../../services/api/auth/policy/rules.ts';
import { listRules, nodePatchRules, ROUTE_POLICIES } from '../../../../services/api/auth/policy/routes.ts';

function ctx(creds: CheckContext['creds'], target: CheckContext['target'] = {}, rules: Record<string, boolean> = {}): CheckContext {
  return { creds, target, constants: {}, rule: (n) => rules[n] ?? false };
}

function project(id: string, roles: string[]): Identity {
  return { strategy: 'keystone', userId: `u-${id}`, userName: `user-${id}`, projectId: id, projectName: `name-${id}`, projectDomainId: 'default', roles, system: false };
}
function system(roles: string[]): Identity {
  return { strategy: 'keystone', userId: 'u-sys', userName: 'sys', projectId: null, projectName: null, projectDomainId: null, roles, system: true };
}

describe('check strings', () => {
  it('gives "and" precedence over "or" and "not" over both, as oslo.policy does', () => {
    const c = parseCheck('role:a or role:b and role:c');
    expect(c(ctx({ roles: ['a'] }))).toBe(true);
    expect(c(ctx({ roles: ['b'] }))).toBe(false);
    expect(c(ctx({ roles: ['b', 'c'] }))).toBe(true);
    expect(parseCheck('not role:a and role:b')(ctx({ roles: ['b'] }))).toBe(true);
    expect(parseCheck('not (role:a or role:b)')(ctx({ roles: ['b'] }))).toBe(false);
    expect(parseCheck('(role:a)')(ctx({ roles: ['a'] }))).toBe(true);
  });

  it('reads @, !, the empty string, rule: references and literal and target matches', () => {
    expect(parseCheck('@')(ctx({}))).toBe(true);
    expect(parseCheck('!')(ctx({}))).toBe(false);
    expect(parseCheck('')(ctx({}))).toBe(true);
    expect(parseCheck('rule:x')(ctx({}, {}, { x: true }))).toBe(true);
    expect(parseCheck('system_scope:all')(ctx({ system_scope: 'all' }))).toBe(true);
    expect(parseCheck('system_scope:all')(ctx({ system_scope: null }))).toBe(false);
    const owner = parseCheck('project_id:%(node.owner)s');
    expect(owner(ctx({ project_id: 'p1' }, { 'node.owner': 'p1' }))).toBe(true);
    expect(owner(ctx({ project_id: 'p1' }, { 'node.owner': 'p2' }))).toBe(false);
    // A node with no owner is nobody's, even for a credential that is also empty.
    expect(owner(ctx({ project_id: null }, { 'node.owner': null }))).toBe(false);
    expect(parseCheck('(project_id:%(node.owner)s)')(ctx({ project_id: 'p1' }, { 'node.owner': 'p1' }))).toBe(true);
  });

  it('asks for the target only when a check reaches it', () => {
    const c = parseCheck('(role:admin and system_scope:all) or project_id:%(node.owner)s');
    expect(c(ctx({ roles: ['admin'], system_scope: 'all' }, null))).toBe(true);
    let thrown: unknown;
    try {
      c(ctx({ roles: ['reader'], project_id: 'p' }, null));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBe(NEEDS_TARGET);
  });

  it('refuses malformed check strings with a message naming them', () => {
    for (const bad of ['role:a or', '(role:a', 'role:a)', 'and role:a', 'nonsense']) expect(() => parseCheck(bad), bad).toThrow(/Policy check/);
  });
});

describe("Ironic's defaults", () => {
  const policy = new Policy({}, { serviceProjectName: 'service' });
  const node = (owner: string | null, lessee: string | null) => ({ 'node.owner': owner, 'node.lessee': lessee });

  it('lets system admins, members and readers do what their role allows', () => {
    const admin = system(['admin', 'member', 'reader']);
    const member = system(['member', 'reader']);
    const reader = system(['reader']);
    expect(policy.allowed('baremetal:node:delete', admin, {})).toBe(true);
    expect(policy.allowed('baremetal:node:delete', member, {})).toBe(false);
    expect(policy.allowed('baremetal:node:update:driver_info', member, {})).toBe(true);
    expect(policy.allowed('baremetal:node:list_all', reader, {})).toBe(true);
    expect(policy.allowed('baremetal:node:get', reader, node(null, null))).toBe(true);
    expect(policy.allowed('baremetal:node:set_power_state', reader, node(null, null))).toBe(false);
    expect(policy.allowed('baremetal:chassis:get', reader, {})).toBe(true);
  });

  it('scopes project users to the nodes they own or lease', () => {
    const ownerMember = project('A', ['member', 'reader']);
    const lesseeAdmin = project('B', ['admin', 'member', 'reader']);
    const lesseeMember = project('B', ['member', 'reader']);
    const stranger = project('C', ['admin', 'member', 'reader']);
    const n = node('A', 'B');
    expect(policy.allowed('baremetal:node:update:driver_info', ownerMember, n)).toBe(true);
    expect(policy.allowed('baremetal:node:set_provision_state', ownerMember, n)).toBe(true);
    expect(policy.allowed('baremetal:node:set_provision_state', lesseeAdmin, n)).toBe(true);
    expect(policy.allowed('baremetal:node:set_provision_state', lesseeMember, n)).toBe(false);
    expect(policy.allowed('baremetal:node:set_power_state', lesseeMember, n)).toBe(true);
    expect(policy.allowed('baremetal:node:update:driver_info', lesseeAdmin, n)).toBe(false);
    expect(policy.allowed('baremetal:node:get', lesseeMember, n)).toBe(true);
    expect(policy.allowed('baremetal:node:get', stranger, n)).toBe(false);
    expect(policy.allowed('baremetal:node:list_all', ownerMember, {})).toBe(false);
    expect(policy.allowed('baremetal:node:list', ownerMember, {})).toBe(true);
  });

  it('enforces scope types: a project token never passes a system-only rule', () => {
    const serviceInServiceProject: Identity = { ...project('svc', ['service']), projectName: 'service' };
    // rule:service_role matches the service project's service role, but chassis rules are system-scoped.
    expect(policy.allowed('baremetal:node:list_all', serviceInServiceProject, {})).toBe(true);
    expect(policy.allowed('baremetal:chassis:get', serviceInServiceProject, {})).toBe(false);
  });

  it('denies unknown rules and unscoped identities; passes public rules for anyone', () => {
    const unscoped: Identity = { ...project('x', ['admin']), projectId: null };
    expect(policy.allowed('baremetal:node:frobnicate', systemAdmin('noauth', null), {})).toBe(false);
    expect(policy.allowed('baremetal:node:get', unscoped, {})).toBe(false);
    expect(policy.allowed('baremetal:node:ipa_heartbeat', unscoped, {})).toBe(true);
  });

  it('names every rule a route uses, and every route rule has a default', () => {
    const names = new Set(RULE_DEFAULTS.map((r) => r.name));
    expect(names.size).toBe(RULE_DEFAULTS.length);
    for (const [route, p] of Object.entries(ROUTE_POLICIES)) {
      if (typeof p.rules !== 'function') for (const r of p.rules) expect(names.has(r), `${route}: ${r}`).toBe(true);
      if (p.list) for (const r of Object.values(listRules(p.list))) expect(names.has(r), route).toBe(true);
    }
  });

  it('maps each patched node field to its rule, as Ironic does', () => {
    const rules = (ops: unknown[]) => nodePatchRules({ body: ops } as never).sort();
    expect(rules([{ op: 'add', path: '/driver_info/ipmi_address', value: 'x' }])).toEqual(['baremetal:node:update:driver_info']);
    expect(rules([{ op: 'replace', path: '/power_interface', value: 'fake' }, { op: 'add', path: '/extra/a', value: 1 }])).toEqual(['baremetal:node:update:driver_interfaces', 'baremetal:node:update_extra']);
    expect(rules([{ op: 'replace', path: '/automated_clean', value: false }])).toEqual(['baremetal:node:disable_cleaning']);
    expect(rules([{ op: 'replace', path: '/automated_clean', value: true }])).toEqual(['baremetal:node:update']);
    expect(rules([{ op: 'replace', path: '/description', value: 'x' }])).toEqual(['baremetal:node:update']);
    expect(rules([])).toEqual(['baremetal:node:update']);
  });
});

describe('docs/security.md', () => {
  it('lists every rule with its default check string', () => {
    const doc = readFileSync(path.join(import.meta.dirname, '../../../../docs/security.md'), 'utf8');
    for (const r of RULE_DEFAULTS) expect(doc, r.name).toContain(`| \`${r.name}\` |`);
    for (const r of RULE_DEFAULTS) if (r.check) expect(doc, r.name).toContain(`\`${r.check}\` |`);
  });
});

describe('policy file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-policy-'));

  it('overrides any rule; other rules keep their defaults', () => {
    const file = path.join(dir, 'policy.yaml');
    writeFileSync(file, '"baremetal:node:delete": "!"\n"baremetal:node:get": "role:auditor"\n');
    const policy = new Policy(readPolicyFile(file), { serviceProjectName: 'service' });
    const admin = systemAdmin('http_basic', 'root');
    expect(policy.allowed('baremetal:node:delete', admin, {})).toBe(false);
    expect(policy.allowed('baremetal:node:get', admin, {})).toBe(false);
    expect(policy.allowed('baremetal:node:get', { ...admin, roles: ['auditor'] }, {})).toBe(true);
    expect(policy.allowed('baremetal:node:create', admin, {})).toBe(true);
  });

  it('refuses a file that is not a mapping of strings, or a bad check string, naming the rule', () => {
    const list = path.join(dir, 'list.yaml');
    writeFileSync(list, '- a\n- b\n');
    expect(() => readPolicyFile(list)).toThrow(/must hold a mapping/);
    const num = path.join(dir, 'num.yaml');
    writeFileSync(num, '"baremetal:node:get": 3\n');
    expect(() => readPolicyFile(num)).toThrow(/"baremetal:node:get" must be a check string/);
    expect(() => new Policy({ 'baremetal:node:get': 'role:a or' }, { serviceProjectName: 'service' })).toThrow(/"baremetal:node:get"/);
    expect(() => readPolicyFile(path.join(dir, 'absent.yaml'))).toThrow(/Cannot read policy file/);
  });
});
