// /v1/deploy_templates (1.55) as Ironic serves it: CRUD and PATCH, the name a trait, the steps
// checked (interface, priority, args, duplicates), secrets in args masked, version gating. On
// SQLite and PostgreSQL. What a template does at deploy time: test/integration/deploy/deploy.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../../helpers/db.ts';
import { fault, startHarness, type ApiHarness } from './harness.ts';

const RAID = { interface: 'raid', step: 'create_configuration', args: { logical_disks: [{ size_gb: 'MAX', raid_level: '1', is_root_volume: true }], delete_configuration: true }, priority: 10 };
const BIOS = { interface: 'bios', step: 'apply_configuration', args: { settings: [{ name: 'LogicalProc', value: 'Enabled' }], password: 'hunter2' }, priority: '150' };

describe.each(BACKENDS)('deploy templates on %s', (backend) => {
  let h: ApiHarness;
  beforeAll(async () => { h = await startHarness(backend); });
  afterAll(async () => { await h.close(); });

  it('creates, lists, shows, patches and deletes a template, masking secrets in step args', async () => {
    const r = await h.call('POST', '/v1/deploy_templates', { name: 'CUSTOM_RAID1', steps: [RAID, BIOS], extra: { team: 'a' } }, '1.55');
    expect(r.status, r.raw).toBe(201);
    expect(r.headers.location).toMatch(new RegExp(`/v1/deploy_templates/${r.body.uuid}$`));
    expect(r.body).toMatchObject({ name: 'CUSTOM_RAID1', extra: { team: 'a' }, updated_at: null, steps: [RAID, { ...BIOS, priority: 150, args: { ...BIOS.args, password: '******' } }] });
    expect(r.body.created_at).toMatch(/\+00:00$/);
    expect(r.body.links.map((l: { rel: string }) => l.rel)).toEqual(['self', 'bookmark']);

    const list = await h.call('GET', '/v1/deploy_templates');
    expect(list.status).toBe(200);
    expect(list.body.deploy_templates).toEqual([{ uuid: r.body.uuid, name: 'CUSTOM_RAID1', links: expect.any(Array) }]);
    expect((await h.call('GET', '/v1/deploy_templates/detail')).body.deploy_templates[0].steps).toHaveLength(2);
    expect((await h.call('GET', '/v1/deploy_templates?detail=True')).body.deploy_templates[0].extra).toEqual({ team: 'a' });
    expect((await h.call('GET', '/v1/deploy_templates?fields=name,steps')).body.deploy_templates[0]).toEqual({ name: 'CUSTOM_RAID1', steps: expect.any(Array), links: expect.any(Array) });
    expect((await h.call('GET', `/v1/deploy_templates/CUSTOM_RAID1`)).body.uuid).toBe(r.body.uuid);
    expect((await h.call('GET', `/v1/deploy_templates/${r.body.uuid}?fields=uuid`)).body).toEqual({ uuid: r.body.uuid, links: expect.any(Array) });

    const patched = await h.call('PATCH', `/v1/deploy_templates/${r.body.uuid}`, [
      { op: 'replace', path: '/steps/0/priority', value: 20 }, { op: 'remove', path: '/steps/1' }, { op: 'replace', path: '/name', value: 'CUSTOM_MIRROR' }, { op: 'add', path: '/extra/b', value: 1 },
    ]);
    expect(patched.status, patched.raw).toBe(200);
    expect(patched.body).toMatchObject({ name: 'CUSTOM_MIRROR', steps: [{ ...RAID, priority: 20 }], extra: { team: 'a', b: 1 } });
    expect(patched.body.updated_at).toMatch(/\+00:00$/);
    const uuidPatch = await h.call('PATCH', `/v1/deploy_templates/${r.body.uuid}`, [{ op: 'replace', path: '/uuid', value: '00000000-0000-4000-8000-000000000000' }]);
    expect(uuidPatch.status).toBe(400);
    const emptied = await h.call('PATCH', `/v1/deploy_templates/${r.body.uuid}`, [{ op: 'remove', path: '/steps/0' }]);
    expect(emptied.status).toBe(400);

    expect((await h.call('DELETE', '/v1/deploy_templates/CUSTOM_MIRROR')).status).toBe(204);
    const gone = await h.call('GET', `/v1/deploy_templates/${r.body.uuid}`);
    expect(gone.status).toBe(404);
    expect(fault(gone)).toBe(`DeployTemplate ${r.body.uuid} could not be found.`);
  });

  it('pages and sorts templates', async () => {
    for (const n of ['CUSTOM_P1', 'CUSTOM_P2', 'CUSTOM_P3']) expect((await h.call('POST', '/v1/deploy_templates', { name: n, steps: [RAID] })).status).toBe(201);
    const first = await h.call('GET', '/v1/deploy_templates?limit=2&sort_key=name&sort_dir=desc');
    expect(first.body.deploy_templates.map((t: { name: string }) => t.name)).toEqual(['CUSTOM_P3', 'CUSTOM_P2']);
    expect(first.body.next).toContain('marker=');
    const next = await h.call('GET', first.body.next.replace(/^https?:\/\/[^/]+/, ''));
    expect(next.body.deploy_templates.map((t: { name: string }) => t.name)).toEqual(['CUSTOM_P1']);
    expect((await h.call('GET', '/v1/deploy_templates?sort_key=steps')).status).toBe(400);
    for (const n of ['CUSTOM_P1', 'CUSTOM_P2', 'CUSTOM_P3']) await h.call('DELETE', `/v1/deploy_templates/${n}`);
  });

  it('refuses bad templates with Ironic\'s messages, a second one of the same name with 409', async () => {
    const name = 'CUSTOM_BAD';
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: 'lower_case', steps: [RAID] }, /Deploy template name must be a valid trait/],
      [{ name: 'A'.repeat(256), steps: [RAID] }, /name/],
      [{ steps: [RAID] }, /name/],
      [{ name }, /steps/],
      [{ name, steps: [] }, /steps/],
      [{ name, steps: [{ interface: 'raid', step: 'create_configuration', priority: 10 }] }, /args/],
      [{ name, steps: [{ interface: 'raid', step: 'create_configuration', args: {} }] }, /priority/],
      [{ name, steps: [{ ...RAID, priority: -1 }] }, /priority/],
      [{ name, steps: [{ ...RAID, interface: 'network' }] }, /interface/],
      [{ name, steps: [{ ...RAID, step: '' }] }, /step/],
      [{ name, steps: [{ ...RAID, colour: 'red' }] }, /colour/],
      [{ name, steps: [RAID, { ...RAID, priority: 5 }] }, /Duplicate deploy steps. A deploy template cannot have multiple deploy steps with the same interface and step. Duplicates: interface: raid, step: create_configuration/],
      [{ name, steps: [RAID], uuid: 'not-a-uuid' }, /UUID/],
      [{ name, steps: [RAID], owner: 'p' }, /owner/],
    ];
    for (const [body, message] of cases) {
      const r = await h.call('POST', '/v1/deploy_templates', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(fault(r), JSON.stringify(body)).toMatch(message);
    }
    expect((await h.call('POST', '/v1/deploy_templates', { name, steps: [RAID] })).status).toBe(201);
    const again = await h.call('POST', '/v1/deploy_templates', { name, steps: [RAID] });
    expect(again.status).toBe(409);
    expect(fault(again)).toBe(`A deploy template with name ${name} already exists.`);
    const other = await h.call('POST', '/v1/deploy_templates', { name: 'CUSTOM_OTHER', steps: [RAID] });
    const renamed = await h.call('PATCH', `/v1/deploy_templates/${other.body.uuid}`, [{ op: 'replace', path: '/name', value: name }]);
    expect(renamed.status).toBe(409);
  });

  it('is not there below 1.55: 404 for GET, 405 for the other verbs', async () => {
    expect((await h.call('GET', '/v1/deploy_templates', undefined, '1.54')).status).toBe(404);
    expect((await h.call('POST', '/v1/deploy_templates', { name: 'CUSTOM_OLD', steps: [RAID] }, '1.54')).status).toBe(405);
    expect((await h.call('DELETE', '/v1/deploy_templates/CUSTOM_BAD', undefined, '1.54')).status).toBe(405);
    const root = await h.call('GET', '/v1', undefined, '1.55');
    expect(root.body.deploy_templates).toBeDefined();
    expect((await h.call('GET', '/v1', undefined, '1.54')).body.deploy_templates).toBeUndefined();
  });
});
