// Secrets never leak: a whole lifecycle (enroll -> manage -> provide -> deploy with a config drive
// -> rescue and unrescue (both failing: the fake deploy cannot rescue) -> undeploy) through the API with http_basic and a conductor in the same
// process, every log line at debug level captured, then every log line, every answer and the
// node's history grepped for each secret: BMC passwords, a password in an image URL, config-drive
// user data, the rescue password, basic-auth passwords (right and wrong), a stray X-Auth-Token
// and the agent token (beyond the one lookup answer that hands it out).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskSecrets } from '../../../common/secrets.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { startHarness, type ApiHarness } from './harness.ts';

const SECRETS = {
  bmc: 'S3cret-BMC-pw-7f1e',
  redfish: 'S3cret-redfish-pw-2b9c',
  urlPassword: 'S3cret-url-pw-91aa',
  userData: 'S3cret-user-data-4d2e',
  rescue: 'S3cret-rescue-pw-c0de',
  basic: 'S3cret-basic-pw-77ab',
  wrongBasic: 'S3cret-wrong-pw-0f0f',
  stray: 'S3cret-stray-token-5a5a',
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-secrets-'));
const userFile = path.join(dir, 'htpasswd');
writeFileSync(userFile, execFileSync('htpasswd', ['-nbB', '-C', '5', 'ops', SECRETS.basic], { encoding: 'utf8' }));
const basic = (password: string) => `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`;

describe.each(BACKENDS)('secrets through a whole lifecycle at debug level (%s)', (backend) => {
  let h: ApiHarness;
  let conductor: Conductor;
  const logs: string[] = [];
  const answers: string[] = [];
  let agentToken = '';

  beforeAll(async () => {
    const logger = pino({ level: 'debug', formatters: { log: (o) => maskSecrets(o) } }, { write: (l: string) => void logs.push(l) });
    h = await startHarness(backend, { logger, conductorRow: false, configure: (c) => Object.assign(c.auth, { strategy: 'http_basic', userFile }) });
    Object.assign(h.config.conductor, { hostname: `secrets-${backend}`, pollInterval: 0.05 });
    conductor = new Conductor({ db: h.t.db, config: h.config, logger });
    await conductor.start();
  });
  afterAll(async () => {
    await conductor?.stop();
    await h?.close();
  });

  async function call(method: string, url: string, body?: unknown, auth = basic(SECRETS.basic), extra: Record<string, string> = {}) {
    const headers: Record<string, string> = { 'X-OpenStack-Ironic-API-Version': '1.89', authorization: auth, ...extra };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await h.app.inject({ method: method as 'GET', url, headers, payload: body === undefined ? undefined : JSON.stringify(body) });
    answers.push(`${method} ${url} -> ${res.statusCode} ${res.body}`);
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, raw: res.body };
  }
  async function until(node: string, state: string): Promise<void> {
    for (let i = 0; i < 400; i++) {
      const r = await call('GET', `/v1/nodes/${node}?fields=provision_state,last_error`);
      if (r.body.provision_state === state) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    const last = await call('GET', `/v1/nodes/${node}?fields=provision_state,target_provision_state,last_error,rescue_interface,deploy_interface`);
    throw new Error(`${node} never reached ${state}: ${last.raw}`);
  }

  it('leaves no secret in any log line, answer or history event', async () => {
    const created = await call('POST', '/v1/nodes', {
      driver: 'fake-hardware', name: 'sec-1', rescue_interface: 'fake',
      driver_info: { ipmi_password: SECRETS.bmc, redfish_password: SECRETS.redfish, ipmi_address: '192.0.2.1' },
      instance_info: { image_source: `http://user:${SECRETS.urlPassword}@images.example/img.qcow2`, image_checksum: 'abc' },
    });
    expect(created.status).toBe(201);
    await call('POST', '/v1/ports', { address: '52:54:00:5e:c0:01', node_uuid: created.body.uuid });
    for (const [target, state, extra] of [
      ['manage', 'manageable', {}],
      ['provide', 'available', {}],
      ['active', 'active', { configdrive: { user_data: SECRETS.userData, meta_data: { hostname: 'sec-1' } } }],
      // The fake rescue interface rescues at once; only the password's hash is kept (shown masked).
      ['rescue', 'rescue', { rescue_password: SECRETS.rescue }],
      ['unrescue', 'active', {}],
      ['deleted', 'available', {}],
    ] as const) {
      const r = await call('PUT', '/v1/nodes/sec-1/states/provision', { target, ...extra });
      expect(r.status, `${target}: ${r.raw}`).toBe(202);
      await until('sec-1', state);
    }
    await call('PATCH', '/v1/nodes/sec-1', [{ op: 'replace', path: '/driver_info/ipmi_password', value: SECRETS.bmc }]);
    await call('GET', '/v1/nodes/sec-1');
    await call('GET', '/v1/nodes/detail');
    await call('GET', '/v1/nodes/sec-1/history?detail=true');
    expect((await call('GET', '/v1/nodes', undefined, basic(SECRETS.wrongBasic))).status).toBe(401);
    expect((await call('GET', '/v1/nodes', undefined, basic(SECRETS.basic), { 'X-Auth-Token': SECRETS.stray })).status).toBe(200);

    // The agent's side: the token is handed out once, then only ever shown as ******.
    const agentNode = await call('POST', '/v1/nodes', { driver: 'fake-hardware', name: 'sec-agent' });
    await call('POST', '/v1/ports', { address: '52:54:00:5e:c0:02', node_uuid: agentNode.body.uuid });
    await h.t.db.knex('nodes').where({ uuid: agentNode.body.uuid }).update({ provision_state: 'clean wait', target_provision_state: 'available' });
    const lookup = await h.app.inject({ method: 'GET', url: '/v1/lookup?addresses=52:54:00:5e:c0:02', headers: { 'X-OpenStack-Ironic-API-Version': '1.89' } });
    agentToken = JSON.parse(lookup.body).config.agent_token;
    expect(agentToken.length).toBeGreaterThan(30);
    const beat = await h.app.inject({ method: 'POST', url: `/v1/heartbeat/${agentNode.body.uuid}`, headers: { 'X-OpenStack-Ironic-API-Version': '1.89', 'content-type': 'application/json' }, payload: JSON.stringify({ callback_url: 'http://192.0.2.9:9999', agent_token: agentToken }) });
    answers.push(beat.body);
    answers.push((await h.app.inject({ method: 'GET', url: '/v1/lookup?addresses=52:54:00:5e:c0:02', headers: { 'X-OpenStack-Ironic-API-Version': '1.89' } })).body);
    await call('GET', '/v1/nodes/sec-agent');
    await new Promise((r) => setTimeout(r, 300));

    const history = await h.t.db.knex('node_history').select('event');
    const haystacks = { logs, answers, history: history.map((e: { event: string }) => e.event) };
    expect(logs.length).toBeGreaterThan(10);
    expect(logs.some((l) => l.includes('"level":20'))).toBe(true);
    const needles = { ...SECRETS, basicHeader: basic(SECRETS.basic).slice(6), wrongHeader: basic(SECRETS.wrongBasic).slice(6), agentToken };
    for (const [where, lines] of Object.entries(haystacks)) {
      for (const [what, secret] of Object.entries(needles)) {
        const leaks = lines.filter((l) => l.includes(secret));
        expect(leaks, `${what} in ${where}`).toEqual([]);
      }
    }
    expect(answers.join('\n')).toContain('******');
  });
});
