// /v1/inspection_rules (1.96) on SQLite and PostgreSQL: Ironic's wire format, fields and detail,
// paging and the phase filter, sensitive rules masked, PATCH, DELETE one and all, bad rules
// answered 400 with what is wrong, and the endpoints' absence below 1.96.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../../helpers/db.ts';
import { fault, startHarness, type ApiHarness } from './harness.ts';

const V = '1.96';
const BMC_RULE = {
  description: 'IPMI from the discovered BMC address',
  priority: 100,
  conditions: [{ op: '!is-empty', args: { value: '{inventory[bmc_address]}' } }],
  actions: [
    { op: 'set-attribute', args: { path: '/driver', value: 'ipmi' } },
    { op: 'set-attribute', args: { path: '/driver_info/ipmi_address', value: '{inventory[bmc_address]}' } },
  ],
};

describe.each(BACKENDS)('inspection rules API on %s', (backend) => {
  let h: ApiHarness;
  const call = (method: string, url: string, body?: unknown, version = V) => h.call(method, url, body, version);
  beforeAll(async () => { h = await startHarness(backend); });
  afterAll(async () => { await h.close(); });

  it('creates a rule (201, Location) and shows it whole, with Ironic\'s defaults', async () => {
    const r = await call('POST', '/v1/inspection_rules', BMC_RULE);
    expect(r.status, r.raw).toBe(201);
    expect(r.headers.location).toMatch(new RegExp(`/v1/inspection_rules/${r.body.uuid}$`));
    expect(r.body).toMatchObject({
      description: BMC_RULE.description, priority: 100, phase: 'main', sensitive: false, updated_at: null,
      conditions: [{ op: '!is-empty', args: { value: '{inventory[bmc_address]}' } }],
      actions: BMC_RULE.actions.map((a) => ({ ...a, loop: [] })),
      links: [{ rel: 'self', href: expect.stringMatching(`/v1/inspection_rules/${r.body.uuid}$`) }, { rel: 'bookmark', href: expect.any(String) }],
    });
    expect(r.body.conditions[0]).not.toHaveProperty('loop');
    expect(Date.parse(r.body.created_at)).not.toBeNaN();
    const shown = await call('GET', `/v1/inspection_rules/${r.body.uuid}`);
    expect(shown.body).toEqual(r.body);
    expect((await call('GET', `/v1/inspection_rules/${r.body.uuid}?fields=uuid,priority`)).body).toEqual({ uuid: r.body.uuid, priority: 100, links: r.body.links });
    await call('DELETE', `/v1/inspection_rules/${r.body.uuid}`);
  });

  it('keeps a given uuid, a loop with its multiple, list args, and the early phase', async () => {
    const uuid = backend === 'pg' ? '2d0e7a7e-4d8b-4c59-9a8e-3f0f4f6d1a01' : '2d0e7a7e-4d8b-4c59-9a8e-3f0f4f6d1a02';
    const body = {
      uuid: uuid.toUpperCase(), phase: 'early', sensitive: null, description: null,
      conditions: [{ op: 'eq', args: ['{inventory[system_vendor][product_name]}', '{item}'], loop: ['R640', 'R650'], multiple: 'any' }],
      actions: [{ op: 'add-trait', args: ['CUSTOM_DELL'] }],
    };
    const r = await call('POST', '/v1/inspection_rules', body);
    expect(r.status, r.raw).toBe(201);
    expect(r.body).toMatchObject({ uuid, phase: 'early', sensitive: false, priority: 0, description: null, conditions: [{ op: 'eq', args: body.conditions[0].args, loop: ['R640', 'R650'], multiple: 'any' }] });
    const again = await call('POST', '/v1/inspection_rules', { ...body, uuid });
    expect(again.status).toBe(409);
    expect(fault(again)).toBe(`An inspection rule with UUID ${uuid} already exists.`);
    await call('DELETE', `/v1/inspection_rules/${uuid}`);
  });

  it('lists default fields, detail, fields; pages with limit and marker; filters by phase', async () => {
    const made: string[] = [];
    for (const [i, phase] of ['main', 'early', 'main'].entries()) {
      made.push((await call('POST', '/v1/inspection_rules', { description: `r${i}`, priority: i, phase, actions: [{ op: 'log', args: { msg: `r${i}` } }] })).body.uuid);
    }
    const list = await call('GET', '/v1/inspection_rules');
    expect(list.status).toBe(200);
    expect(list.body.inspection_rules.map((r: any) => r.uuid)).toEqual(made);
    expect(Object.keys(list.body.inspection_rules[0]).sort()).toEqual(['description', 'links', 'phase', 'priority', 'uuid']);
    const detail = await call('GET', '/v1/inspection_rules?detail=true');
    expect(detail.body.inspection_rules[0].actions).toEqual([{ op: 'log', args: { msg: 'r0' }, loop: [] }]);
    expect((await call('GET', '/v1/inspection_rules?fields=uuid,sensitive')).body.inspection_rules[0]).toEqual({ uuid: made[0], sensitive: false, links: expect.any(Array) });
    const page = await call('GET', '/v1/inspection_rules?limit=2');
    expect(page.body.inspection_rules).toHaveLength(2);
    expect(page.body.next).toMatch(new RegExp(`/v1/inspection_rules\\?limit=2&marker=${made[1]}$`));
    expect((await call('GET', `/v1/inspection_rules?limit=2&marker=${made[1]}`)).body.inspection_rules.map((r: any) => r.uuid)).toEqual([made[2]]);
    expect((await call('GET', '/v1/inspection_rules?sort_key=priority&sort_dir=desc')).body.inspection_rules.map((r: any) => r.description)).toEqual(['r2', 'r1', 'r0']);
    expect((await call('GET', '/v1/inspection_rules?phase=early')).body.inspection_rules.map((r: any) => r.uuid)).toEqual([made[1]]);
    expect((await call('GET', '/v1/inspection_rules?fields=nope')).status).toBe(400);
    expect((await call('GET', '/v1/inspection_rules?sort_key=actions')).status).toBe(400);
    expect((await call('GET', '/v1/inspection_rules?detail=true&fields=uuid')).status).toBe(400);
    expect((await call('DELETE', '/v1/inspection_rules')).status).toBe(204);
    expect((await call('GET', '/v1/inspection_rules')).body.inspection_rules).toEqual([]);
  });

  it('masks a sensitive rule\'s conditions and actions everywhere, and never lets it become readable', async () => {
    const r = await call('POST', '/v1/inspection_rules', { ...BMC_RULE, sensitive: true, actions: [{ op: 'set-attribute', args: { path: '/driver_info/ipmi_password', value: 's3cret' } }] });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ sensitive: true, conditions: null, actions: null });
    expect(r.raw).not.toContain('s3cret');
    expect((await call('GET', `/v1/inspection_rules/${r.body.uuid}`)).body).toMatchObject({ conditions: null, actions: null });
    const detail = await call('GET', '/v1/inspection_rules?detail=true');
    expect(detail.body.inspection_rules.find((x: any) => x.uuid === r.body.uuid)).toMatchObject({ conditions: null, actions: null });
    expect(detail.raw).not.toContain('s3cret');
    const unset = await call('PATCH', `/v1/inspection_rules/${r.body.uuid}`, [{ op: 'replace', path: '/sensitive', value: false }]);
    expect(unset.status).toBe(400);
    expect(fault(unset)).toBe('Inspection rules cannot have the sensitive flag unset.');
    const probe = await call('PATCH', `/v1/inspection_rules/${r.body.uuid}`, [{ op: 'test', path: '/actions/0/args/value', value: 's3cret' }]);
    expect(probe.status).toBe(400);
    expect(fault(probe)).toMatch(/only be written/);
    const copy = await call('PATCH', `/v1/inspection_rules/${r.body.uuid}`, [{ op: 'copy', from: '/actions/0/args/value', path: '/description' }]);
    expect(copy.status).toBe(400);
    const rewrite = await call('PATCH', `/v1/inspection_rules/${r.body.uuid}`, [{ op: 'replace', path: '/actions/0/args/value', value: 'other' }]);
    expect(rewrite.status, rewrite.raw).toBe(200);
    expect(rewrite.body.actions).toBeNull();
    await call('DELETE', `/v1/inspection_rules/${r.body.uuid}`);
  });

  it('patches fields, checks the result as a new rule, and refuses the uuid', async () => {
    const r = (await call('POST', '/v1/inspection_rules', BMC_RULE)).body;
    const p = await call('PATCH', `/v1/inspection_rules/${r.uuid}`, [
      { op: 'replace', path: '/priority', value: 5 }, { op: 'replace', path: '/phase', value: 'early' },
      { op: 'add', path: '/actions/-', value: { op: 'add-trait', args: { name: 'CUSTOM_IPMI' } } }, { op: 'remove', path: '/conditions/0' },
      { op: 'add', path: '/sensitive', value: false },
    ]);
    expect(p.status, p.raw).toBe(200);
    expect(p.body).toMatchObject({ priority: 5, phase: 'early', conditions: [], sensitive: false });
    expect(p.body.actions).toHaveLength(3);
    expect(p.body.updated_at).not.toBeNull();
    const badOp = await call('PATCH', `/v1/inspection_rules/${r.uuid}`, [{ op: 'replace', path: '/actions/0/op', value: 'explode' }]);
    expect(badOp.status).toBe(400);
    expect(fault(badOp)).toMatch(/^Unsupported action: 'explode'/);
    const empty = await call('PATCH', `/v1/inspection_rules/${r.uuid}`, [{ op: 'replace', path: '/actions', value: [] }]);
    expect(empty.status).toBe(400);
    expect((await call('PATCH', `/v1/inspection_rules/${r.uuid}`, [{ op: 'replace', path: '/uuid', value: r.uuid }])).status).toBe(400);
    expect((await call('PATCH', `/v1/inspection_rules/${r.uuid}`, [{ op: 'add', path: '/scope', value: 'x' }])).status).toBe(400);
    expect((await call('GET', `/v1/inspection_rules/${r.uuid}`)).body.priority).toBe(5);
    expect((await call('DELETE', `/v1/inspection_rules/${r.uuid}`)).status).toBe(204);
    const gone = await call('GET', `/v1/inspection_rules/${r.uuid}`);
    expect(gone.status).toBe(404);
    expect(fault(gone)).toBe(`Inspection rule ${r.uuid} could not be found.`);
    expect((await call('DELETE', `/v1/inspection_rules/${r.uuid}`)).status).toBe(404);
    expect((await call('PATCH', `/v1/inspection_rules/${r.uuid}`, [{ op: 'replace', path: '/priority', value: 1 }])).status).toBe(404);
  });

  it('answers bad rules with 400 and a message naming what is wrong', async () => {
    const log = [{ op: 'log', args: { msg: 'x' } }];
    const cases: [unknown, RegExp | string][] = [
      [{}, "Schema error for inspection rule: 'actions' is a required property"],
      [{ actions: [] }, /actions must NOT have fewer than 1 items/],
      [{ actions: log, scope: 'x' }, "Schema error for inspection rule: Additional properties are not allowed ('scope' was unexpected)"],
      [{ actions: log, priority: -1 }, /priority must be >= 0/],
      [{ actions: log, priority: 10000 }, /priority must be <= 9999/],
      [{ actions: log, priority: 'high' }, /"high" is not of type 'integer'/],
      [{ actions: log, description: 'd'.repeat(256) }, /description must NOT have more than 255 characters/],
      [{ actions: log, phase: 'late' }, 'Invalid phase: late. Valid phases are: main, early'],
      [{ actions: log, uuid: 'not-a-uuid' }, 'Expected UUID for uuid: not-a-uuid'],
      [{ actions: log, sensitive: 'yes' }, /"yes" is not of type 'boolean,null'/],
      [{ actions: [{ op: 'log' }] }, /'args' is a required property \(at actions.0\)/],
      [{ actions: [{ op: 'log', args: 'x' }] }, /"x" is not of type 'array,object' \(at actions.0.args\)/],
      [{ actions: [{ op: 'explode', args: {} }] }, /^Unsupported action: 'explode'. Supported actions are: fail, log, set-attribute/],
      [{ actions: [{ op: 'fail', args: {} }] }, 'Invalid parameters for action 0 (fail): missing required argument(s): msg'],
      [{ actions: [{ op: 'add-trait', args: { name: 'CUSTOM_X', value: 1 } }] }, 'Invalid parameters for action 0 (add-trait): unexpected argument(s): value'],
      [{ actions: log, conditions: [{ op: 'approx', args: {} }] }, /^Unsupported condition operator: 'approx'/],
      [{ actions: log, conditions: [{ op: '!!eq', args: { values: [] } }] }, /^Multiple exclamation marks are not allowed/],
      [{ actions: log, conditions: [{ op: 'eq', args: { values: [1] }, multiple: 'most', loop: [1] }] }, /"most" is not one of \["any","all","first","last"\]/],
      [{ actions: log, conditions: [{ op: 'in-net', args: ['10.0.0.1'] }] }, 'Invalid parameters for condition 0 (in-net): not enough arguments provided. Missing: subnet'],
      ['[1,2]', 'The body of an inspection rule must be a JSON object'],
    ];
    for (const [body, message] of cases) {
      const r = await call('POST', '/v1/inspection_rules', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      if (typeof message === 'string') expect(fault(r), JSON.stringify(body)).toBe(message);
      else expect(fault(r), JSON.stringify(body)).toMatch(message);
    }
    expect((await call('GET', '/v1/inspection_rules')).body.inspection_rules).toEqual([]);
    expect((await call('GET', '/v1/inspection_rules/nope')).status).toBe(400);
  });

  it('is absent below 1.96: GET 404, other verbs 405; /v1 lists it only from 1.96', async () => {
    for (const url of ['/v1/inspection_rules', '/v1/inspection_rules/2d0e7a7e-4d8b-4c59-9a8e-3f0f4f6d1a0f']) {
      const r = await call('GET', url, undefined, '1.95');
      expect(r.status).toBe(404);
      expect(fault(r)).toBe('The API version does not allow inspection rules');
    }
    expect((await call('POST', '/v1/inspection_rules', BMC_RULE, '1.95')).status).toBe(405);
    expect((await call('DELETE', '/v1/inspection_rules', undefined, '1.95')).status).toBe(405);
    expect((await call('PATCH', '/v1/inspection_rules/2d0e7a7e-4d8b-4c59-9a8e-3f0f4f6d1a0f', [], '1.95')).status).toBe(405);
    expect((await call('GET', '/v1', undefined, '1.95')).body.inspection_rules).toBeUndefined();
    expect((await call('GET', '/v1', undefined, '1.96')).body.inspection_rules[0].href).toMatch(/\/v1\/inspection_rules\/$/);
  });
});
