// The inspection rule language case by case: each operator (and its negation), interpolation,
// loops with any/all/first/last, each action on a subject, priorities, phases, masking, and the
// validation the API shares. Pure: no database (test/integration/api and conductor cover those).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInput } from '../../../common/errors.ts';
import { InspectionRuleFailed, type RuleSubject } from '../../../common/inspection-rules/actions.ts';
import { checkSteps, parseOperator, runRules, type InspectionRule, type RuleStep } from '../../../common/inspection-rules/engine.ts';
import { AttributeView, interpolate, pyStr, safeFormat } from '../../../common/inspection-rules/interpolate.ts';
import { OPERATORS, pythonRegex } from '../../../common/inspection-rules/operators.ts';
import { RuleExecutionError } from '../../../common/inspection-rules/signature.ts';

const INVENTORY = {
  bmc_address: '192.0.2.17',
  cpu: { count: 8, architecture: 'x86_64', flags: ['vmx', 'lm'] },
  memory: { physical_mb: 16384 },
  system_vendor: { manufacturer: 'Dell Inc.', product_name: 'PowerEdge R640' },
  interfaces: [{ name: 'eth0', mac_address: '52:54:00:12:34:56', ipv4_address: '10.1.2.3' }],
  disks: [],
  bmc_password: 'hunter2',
};

function subject(over: Partial<RuleSubject> = {}): RuleSubject & { logs: [string, string][] } {
  const logs: [string, string][] = [];
  return {
    node: { name: 'n1', driver: 'fake-hardware', driver_info: { ipmi_password: 'pw' }, properties: { capabilities: 'boot_mode:uefi' }, extra: {} },
    nodeReadOnly: { uuid: '6d2c4f0e-5b1a-4c3e-9f7d-1a2b3c4d5e6f', provision_state: 'inspecting' },
    ports: [{ uuid: '0f1e2d3c-4b5a-4968-8776-655443322110', address: '52:54:00:12:34:56', local_link_connection: {}, extra: {}, pxe_enabled: true, physical_network: null }],
    traits: ['CUSTOM_OLD'],
    inventory: structuredClone(INVENTORY),
    plugin_data: { auto_discovered: true },
    nodeFields: new Set(['name', 'driver', 'driver_info', 'properties', 'extra']),
    portFields: new Set(['local_link_connection', 'extra', 'pxe_enabled', 'physical_network']),
    log: (level, message) => logs.push([level, message]),
    logs,
    ...over,
  };
}

let seq = 0;
function rule(fields: Partial<InspectionRule>): InspectionRule {
  return { uuid: `00000000-0000-0000-0000-${String(++seq).padStart(12, '0')}`, description: null, priority: 0, phase: 'main', sensitive: false, conditions: [], actions: [{ op: 'add-trait', args: { name: 'CUSTOM_HIT' } }], ...fields };
}

/** Whether a rule with these conditions applies to the default subject. */
async function holds(...conditions: RuleStep[]): Promise<boolean> {
  const s = subject();
  return (await runRules([rule({ conditions })], 'main', s)).length === 1;
}

describe('operators', () => {
  const check = (op: string, args: Record<string, unknown>) => OPERATORS[op].check(args);

  it('eq, lt, gt compare a chain of values; force_strings compares their str()', () => {
    expect(check('eq', { values: [1, 1, 1] })).toBe(true);
    expect(check('eq', { values: [1, '1'] })).toBe(false);
    expect(check('eq', { values: [1, '1'], force_strings: true })).toBe(true);
    expect(check('eq', { values: [{ a: [1] }, { a: [1] }] })).toBe(true);
    expect(check('eq', { values: [5] })).toBe(true);
    expect(check('lt', { values: [1, 2, 3] })).toBe(true);
    expect(check('lt', { values: [1, 3, 2] })).toBe(false);
    expect(check('gt', { values: ['b', 'a'] })).toBe(true);
    expect(check('gt', { values: ['16384', 4096] })).toBe(true);
    expect(() => check('lt', { values: ['abc', 4] })).toThrow(RuleExecutionError);
    expect(() => check('eq', { values: 'x' })).toThrow(/expected a list for 'values'/);
  });

  it('is-empty, is-none, is-true, is-false as Ironic reads values', () => {
    for (const v of ['', null, [], {}]) expect(check('is-empty', { value: v }), JSON.stringify(v)).toBe(true);
    for (const v of ['x', 0, [0], { a: 1 }]) expect(check('is-empty', { value: v }), JSON.stringify(v)).toBe(false);
    expect(check('is-none', { value: null })).toBe(true);
    expect(check('is-none', { value: 'None' })).toBe(true);
    expect(check('is-none', { value: '' })).toBe(false);
    for (const v of [true, 1, 'yes', 'TRUE']) expect(check('is-true', { value: v })).toBe(true);
    for (const v of [false, 0, 'no', 'nope', null]) expect(check('is-true', { value: v })).toBe(false);
    for (const v of [false, 0, 'No', 'false', null]) expect(check('is-false', { value: v })).toBe(true);
    for (const v of [true, 2, 'maybe', []]) expect(check('is-false', { value: v })).toBe(false);
  });

  it('in-net takes IPv4 and IPv6 networks and refuses what is not one', () => {
    expect(check('in-net', { address: '10.1.2.3', subnet: '10.1.0.0/16' })).toBe(true);
    expect(check('in-net', { address: '10.2.2.3', subnet: '10.1.0.0/16' })).toBe(false);
    expect(check('in-net', { address: '2001:db8::5', subnet: '2001:db8::/64' })).toBe(true);
    expect(check('in-net', { address: '10.1.2.3', subnet: '2001:db8::/64' })).toBe(false);
    expect(() => check('in-net', { address: '10.1.2.3', subnet: '10.1.0.0/40' })).toThrow(/not a network/);
    expect(() => check('in-net', { address: 'nope', subnet: '10.0.0.0/8' })).toThrow(/not an IP address/);
  });

  it('matches is a full match, contains a search; Python inline flags and named groups are understood', () => {
    expect(check('matches', { value: 'PowerEdge R640', regex: 'PowerEdge R\\d+' })).toBe(true);
    expect(check('matches', { value: 'PowerEdge R640 x', regex: 'PowerEdge R\\d+' })).toBe(false);
    expect(check('matches', { value: 'xPowerEdge', regex: 'PowerEdge' })).toBe(false);
    expect(check('contains', { value: 'Dell Inc.', regex: '(?i)dell' })).toBe(true);
    expect(check('contains', { value: 'Dell Inc.', regex: 'dell' })).toBe(false);
    expect(check('matches', { value: 'eth0', regex: '(?P<kind>eth)\\d' })).toBe(true);
    expect(check('contains', { value: 8, regex: '^8$' })).toBe(true);
    expect(pythonRegex('a|b', true).test('ax')).toBe(true);
    expect(() => check('matches', { value: 'x', regex: '([' })).toThrow(/invalid regular expression/);
  });

  it('one-of looks a value up in a list', () => {
    expect(check('one-of', { value: 'b', values: ['a', 'b'] })).toBe(true);
    expect(check('one-of', { value: 3, values: [1, 2] })).toBe(false);
    expect(check('one-of', { value: 'a' })).toBe(false);
  });
});

describe('interpolation', () => {
  const ctx = { node: new AttributeView({ name: 'n1', driver_info: { ipmi_address: '1.2.3.4' } }), inventory: INVENTORY, plugin_data: { list: [1, 'a'] } };

  it('reads the node by attribute and the data by key, rendering as Python str()', () => {
    expect(safeFormat('{node.name}', ctx)).toBe('n1');
    expect(safeFormat('{node.driver_info[ipmi_address]}', ctx)).toBe('1.2.3.4');
    expect(safeFormat('https://{inventory[bmc_address]}:443', ctx)).toBe('https://192.0.2.17:443');
    expect(safeFormat('{inventory[interfaces][0][mac_address]}', ctx)).toBe('52:54:00:12:34:56');
    expect(safeFormat('{inventory[cpu][count]}', ctx)).toBe('8');
    expect(safeFormat('{plugin_data[list]}', ctx)).toBe("[1, 'a']");
    expect(safeFormat('{plugin_data[list]!r} {{literal}}', ctx)).toBe("[1, 'a'] {literal}");
    expect(pyStr({ a: null, b: true })).toBe("{'a': None, 'b': True}");
  });

  it('leaves the string as it was when a field does not resolve, as Ironic does', () => {
    for (const text of ['{inventory.bmc_address}', '{node[name]}', '{inventory[nope]}', '{unknown}', '{inventory[bmc_address]', 'a } b', '{inventory[bmc_address]:>20}']) {
      expect(safeFormat(text, ctx), text).toBe(text);
    }
  });

  it('formats nested values and keys; in a loop twice, so an item can name inventory fields', () => {
    expect(interpolate({ '{node.name}': ['{inventory[bmc_address]}', 3] }, ctx, false)).toEqual({ n1: ['192.0.2.17', 3] });
    const item = { value: '{inventory[bmc_address]}' };
    expect(interpolate('{item[value]}', { ...ctx, item }, true)).toBe('192.0.2.17');
    expect(interpolate('{item[value]}', { ...ctx, item }, false)).toBe('{inventory[bmc_address]}');
  });
});

describe('conditions', () => {
  it('all conditions must hold; none means the rule always applies', async () => {
    expect(await holds()).toBe(true);
    expect(await holds({ op: 'eq', args: { values: ['{inventory[cpu][architecture]}', 'x86_64'] } })).toBe(true);
    expect(await holds({ op: 'eq', args: { values: ['{inventory[cpu][architecture]}', 'x86_64'] } }, { op: 'is-empty', args: { value: '{inventory[bmc_address]}' } })).toBe(false);
  });

  it('a leading ! (with an optional space) negates; two are refused', async () => {
    expect(await holds({ op: '!is-empty', args: { value: '{inventory[bmc_address]}' } })).toBe(true);
    expect(await holds({ op: '! contains', args: { value: '{inventory[system_vendor][manufacturer]}', regex: 'Dell' } })).toBe(false);
    expect(parseOperator(' !eq ')).toEqual({ name: 'eq', negated: true });
    expect(() => parseOperator('!!eq')).toThrow(/Multiple exclamation marks/);
  });

  it('takes args as a list, in the operator\'s argument order', async () => {
    expect(await holds({ op: 'in-net', args: ['{inventory[interfaces][0][ipv4_address]}', '10.0.0.0/8'] })).toBe(true);
  });

  it('loops with multiple any (the default), all, first and last', async () => {
    const models = { op: 'eq', args: { values: ['{inventory[system_vendor][product_name]}', '{item}'] } };
    expect(await holds({ ...models, loop: ['ProLiant DL380', 'PowerEdge R640'] })).toBe(true);
    expect(await holds({ ...models, loop: ['ProLiant DL380', 'PowerEdge R640'], multiple: 'all' })).toBe(false);
    expect(await holds({ ...models, loop: ['PowerEdge R640', 'PowerEdge R640'], multiple: 'all' })).toBe(true);
    expect(await holds({ ...models, loop: ['ProLiant DL380', 'PowerEdge R640'], multiple: 'first' })).toBe(false);
    expect(await holds({ ...models, loop: ['PowerEdge R640', 'ProLiant DL380'], multiple: 'first' })).toBe(true);
    expect(await holds({ ...models, loop: ['PowerEdge R640', 'ProLiant DL380'], multiple: 'last' })).toBe(false);
    expect(await holds({ ...models, loop: ['ProLiant DL380', 'PowerEdge R640'], multiple: 'last' })).toBe(true);
    // In a loop values compare as strings: the interpolated 8 equals the item 8.
    expect(await holds({ op: 'eq', args: { values: ['{inventory[cpu][count]}', '{item}'] }, loop: [4, 8] })).toBe(true);
    // A dictionary loop is one item.
    expect(await holds({ op: 'eq', args: { values: ['{item[model]}', '{inventory[system_vendor][product_name]}'] }, loop: { model: 'PowerEdge R640' } })).toBe(true);
  });

  it('a condition that cannot be checked fails the rule with a message naming it', async () => {
    const r = rule({ description: 'bad regex', conditions: [{ op: 'matches', args: { value: 'x', regex: '(' } }] });
    await expect(runRules([r], 'main', subject())).rejects.toThrow(`Failed to apply inspection rule ${r.uuid} (bad regex): invalid regular expression`);
  });
});

describe('actions', () => {
  async function run(actions: RuleStep[], s = subject()) {
    await runRules([rule({ actions })], 'main', s);
    return s;
  }

  it('set-attribute sets node fields by slash or dot path, interpolated; refuses other fields', async () => {
    const s = await run([
      { op: 'set-attribute', args: { path: '/driver', value: 'ipmi' } },
      { op: 'set-attribute', args: { path: '/driver_info/ipmi_address', value: '{inventory[bmc_address]}' } },
      { op: 'set-attribute', args: { path: 'extra.location.rack', value: 'r1' } },
    ]);
    expect(s.node.driver).toBe('ipmi');
    expect(s.node.driver_info).toEqual({ ipmi_password: 'pw', ipmi_address: '192.0.2.17' });
    expect(s.node.extra).toEqual({ location: { rack: 'r1' } });
    await expect(run([{ op: 'set-attribute', args: { path: '/reservation', value: 'me' } }])).rejects.toThrow(/reservation is not a node field that inspection rules may change/);
  });

  it('extend-attribute appends to a list (unique when asked); del-attribute removes', async () => {
    const s = await run([
      { op: 'extend-attribute', args: { path: '/extra/tags', value: 'a' } },
      { op: 'extend-attribute', args: { path: '/extra/tags', value: 'a' } },
      { op: 'extend-attribute', args: { path: '/extra/tags', value: 'a', unique: true } },
      { op: 'del-attribute', args: { path: '/driver_info/ipmi_password' } },
      { op: 'del-attribute', args: { path: '/driver_info/absent' } },
    ]);
    expect(s.node.extra).toEqual({ tags: ['a', 'a'] });
    expect(s.node.driver_info).toEqual({});
    await expect(run([{ op: 'extend-attribute', args: { path: '/name', value: 'x' } }])).rejects.toThrow(/Cannot extend non-list attribute/);
  });

  it('set-capability and unset-capability edit the capabilities string', async () => {
    const s = await run([
      { op: 'set-capability', args: { name: 'cpu_vt', value: 'true' } },
      { op: 'set-capability', args: { name: 'boot_mode', value: 'bios' } },
      { op: 'unset-capability', args: { name: 'cpu_vt' } },
      { op: 'set-capability', args: { name: 'cores', value: '{inventory[cpu][count]}' } },
    ]);
    expect(s.node.properties).toEqual({ capabilities: 'boot_mode:bios,cores:8' });
  });

  it('add-trait and remove-trait; removing a trait the node lacks only warns', async () => {
    const s = await run([{ op: 'add-trait', args: { name: 'CUSTOM_GPU' } }, { op: 'remove-trait', args: { name: 'CUSTOM_OLD' } }, { op: 'remove-trait', args: { name: 'CUSTOM_NONE' } }]);
    expect(s.traits).toEqual(['CUSTOM_GPU']);
    expect(s.logs).toEqual([['warning', 'Failed to remove trait CUSTOM_NONE: the node does not have it']]);
  });

  it('set-, extend- and unset-plugin-data change the plugin data by dotted path', async () => {
    const s = await run([
      { op: 'set-plugin-data', args: { path: 'a.b', value: '{inventory[cpu][count]}' } },
      { op: 'extend-plugin-data', args: { path: 'seen', value: 1 } },
      { op: 'extend-plugin-data', args: { path: 'seen', value: 1, unique: true } },
      { op: 'unset-plugin-data', args: { path: 'auto_discovered' } },
      { op: 'unset-plugin-data', args: { path: 'x.y' } },
    ]);
    expect(s.plugin_data).toEqual({ a: { b: '8' }, seen: [1] });
    expect(s.logs).toEqual([['warning', 'Plugin data path x.y not found']]);
  });

  it('set-, extend- and del-port-attribute address a port by UUID or MAC; an unknown port fails', async () => {
    const s = await run([
      { op: 'set-port-attribute', args: { port_id: '52:54:00:12:34:56', path: '/physical_network', value: 'physnet1' } },
      { op: 'set-port-attribute', args: { port_id: '0f1e2d3c-4b5a-4968-8776-655443322110', path: 'local_link_connection/switch_info', value: 'tor-1' } },
      { op: 'extend-port-attribute', args: { port_id: '52:54:00:12:34:56', path: '/extra/vlans', value: 100 } },
      { op: 'del-port-attribute', args: { port_id: '52:54:00:12:34:56', path: '/pxe_enabled' } },
    ]);
    expect(s.ports[0]).toMatchObject({ physical_network: 'physnet1', local_link_connection: { switch_info: 'tor-1' }, extra: { vlans: [100] }, pxe_enabled: null });
    await expect(run([{ op: 'set-port-attribute', args: { port_id: '52:54:00:99:99:99', path: '/extra/x', value: 1 } }])).rejects.toThrow(/Port 52:54:00:99:99:99 could not be found/);
  });

  it('log writes at the level asked, and refuses an unknown level', async () => {
    const s = await run([{ op: 'log', args: { msg: 'found {inventory[system_vendor][product_name]} for {node.name}', level: 'warning' } }, { op: 'log', args: ['plain'] }]);
    expect(s.logs).toEqual([['warning', 'found PowerEdge R640 for n1'], ['info', 'plain']]);
    await expect(run([{ op: 'log', args: { msg: 'x', level: 'loud' } }])).rejects.toThrow(/Invalid log level: loud/);
  });

  it('fail ends the run with its message, naming the rule; what ran before stays changed', async () => {
    const s = subject();
    const r = rule({ actions: [{ op: 'add-trait', args: { name: 'CUSTOM_FIRST' } }, { op: 'fail', args: { msg: 'no BMC address' } }, { op: 'add-trait', args: { name: 'CUSTOM_NEVER' } }] });
    const err = await runRules([r], 'main', s).catch((e) => e);
    expect(err).toBeInstanceOf(InspectionRuleFailed);
    expect(err.message).toBe(`inspection rule ${r.uuid} failed the inspection: no BMC address`);
    expect(s.traits).toEqual(['CUSTOM_OLD', 'CUSTOM_FIRST']);
  });

  it('loops run an action once per item, each item interpolated', async () => {
    const s = await run([{
      op: 'set-attribute', args: { path: '{item[path]}', value: '{item[value]}' },
      loop: [{ path: '/driver_info/ipmi_username', value: 'admin' }, { path: '/driver_info/ipmi_address', value: '{inventory[bmc_address]}' }],
    }]);
    expect(s.node.driver_info).toEqual({ ipmi_password: 'pw', ipmi_username: 'admin', ipmi_address: '192.0.2.17' });
  });

  describe('api-call', () => {
    let server: http.Server;
    let base = '';
    const seen: { url: string; auth?: string }[] = [];
    let failures = 0;
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        seen.push({ url: req.url!, auth: req.headers['x-auth'] as string | undefined });
        if (req.url!.startsWith('/flaky') && failures-- > 0) res.writeHead(503).end();
        else res.writeHead(req.url!.startsWith('/missing') ? 404 : 200).end('ok');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('GETs the interpolated URL with its headers, retrying 5xx; a 404 or an unreachable host fails the rule', async () => {
      failures = 2;
      await run([{ op: 'api-call', args: { url: `${base}/flaky/{node.name}`, headers: { 'x-auth': 't' }, retries: 3, backoff_factor: 0 } }]);
      expect(seen.filter((s) => s.url === '/flaky/n1')).toHaveLength(3);
      expect(seen.at(-1)!.auth).toBe('t');
      await expect(run([{ op: 'api-call', args: { url: `${base}/missing`, backoff_factor: 0 } }])).rejects.toThrow(`Request to ${base}/missing failed: 404 Not Found`);
      expect(seen.filter((s) => s.url === '/missing')).toHaveLength(1);
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const nobody = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
      await new Promise<void>((r) => closed.close(() => r()));
      await expect(run([{ op: 'api-call', args: { url: nobody, retries: 0 } }])).rejects.toThrow(`Request to ${nobody} failed: connect ECONNREFUSED`);
      await expect(run([{ op: 'api-call', args: { url: base, timeout: 0 } }])).rejects.toThrow(/timeout must be greater than zero/);
    });
  });
});

describe('rules', () => {
  it('run highest priority first, creation order among equals, only the phase asked', async () => {
    const s = subject();
    const order = (name: string, priority: number, phase: 'main' | 'early' = 'main') => rule({ priority, phase, actions: [{ op: 'extend-plugin-data', args: { path: 'order', value: name } }] });
    const rules = [order('low', 1), order('high', 50), order('early', 99, 'early'), order('mid-a', 10), order('mid-b', 10)];
    await runRules(rules, 'main', s);
    expect(s.plugin_data.order).toEqual(['high', 'mid-a', 'mid-b', 'low']);
    await runRules(rules, 'early', s);
    expect((s.plugin_data.order as string[]).at(-1)).toBe('early');
  });

  it('a later rule sees what an earlier one changed', async () => {
    const s = subject();
    await runRules([
      rule({ priority: 2, actions: [{ op: 'set-attribute', args: { path: '/driver', value: 'ipmi' } }] }),
      rule({ priority: 1, conditions: [{ op: 'eq', args: { values: ['{node.driver}', 'ipmi'] } }], actions: [{ op: 'add-trait', args: { name: 'CUSTOM_IPMI' } }] }),
    ], 'main', s);
    expect(s.traits).toContain('CUSTOM_IPMI');
  });

  it('hide password, auth_token and bmc_password of the data from rules not marked sensitive', async () => {
    const copy = (sensitive: boolean) => rule({ sensitive, actions: [{ op: 'set-plugin-data', args: { path: 'seen', value: '{inventory[bmc_password]}' } }] });
    const plain = subject();
    await runRules([copy(false)], 'main', plain);
    expect(plain.plugin_data.seen).toBe('***');
    const secret = subject();
    await runRules([copy(true)], 'main', secret);
    expect(secret.plugin_data.seen).toBe('hunter2');
  });
});

describe('validation', () => {
  const bad = (conditions: RuleStep[], actions: RuleStep[] = [{ op: 'log', args: { msg: 'x' } }]) => {
    try {
      checkSteps(conditions, actions);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidInput);
      return (err as Error).message;
    }
    return 'accepted';
  };

  it('accepts every operator, negated or not, and every action with their arguments', () => {
    expect(bad([{ op: '!eq', args: { values: [1] } }, { op: 'one-of', args: ['a', ['a']] }], [{ op: 'set-port-attribute', args: ['p', '/extra/x', 1] }, { op: 'api-call', args: { url: 'http://x', retries: 1 } }])).toBe('accepted');
  });

  it('names an unknown operator or action, missing and unexpected arguments, and a misplaced multiple', () => {
    expect(bad([{ op: 'bigger', args: {} }])).toMatch(/^Unsupported condition operator: 'bigger'. Supported operators are: eq, lt, gt/);
    expect(bad([], [{ op: 'explode', args: {} }])).toMatch(/^Unsupported action: 'explode'. Supported actions are: fail, log/);
    expect(bad([{ op: 'eq', args: {} }])).toBe('Invalid parameters for condition 0 (eq): missing required argument(s): values');
    expect(bad([{ op: 'is-true', args: { value: 1, extra: 2 } }])).toBe('Invalid parameters for condition 0 (is-true): unexpected argument(s): extra');
    expect(bad([], [{ op: 'set-attribute', args: ['/driver'] }])).toBe('Invalid parameters for action 0 (set-attribute): not enough arguments provided. Missing: value');
    expect(bad([], [{ op: 'fail', args: 'boom' as never }])).toBe('Invalid parameters for action 0 (fail): args must be either a list or dictionary');
    expect(bad([{ op: 'eq', args: { values: [] }, multiple: 'all' }])).toBe('Condition 0 (eq): "multiple" applies only to a condition with a "loop"');
    expect(bad([{ op: '!!eq', args: { values: [] } }])).toMatch(/Multiple exclamation marks/);
  });
});
