// `anvil all-in-one` as a user runs it: no configuration at all (SQLite under ./data), the ready
// line, a node driven by the in-process conductor, a clean exit on SIGTERM, and a second start
// on the same file that keeps every node. Also the sub-commands' help and a bad config file.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../../helpers/ports.ts';
import { eventually } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const ANVIL = path.join(ROOT, 'bin/anvil.js');
const HEADERS = { 'X-OpenStack-Ironic-API-Version': '1.72', 'Content-Type': 'application/json' };

/** Env without ANVIL_* settings of the machine running the tests, so defaults are what is tested. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ANVIL_')) env[k] = v;
  return { ...env, ...extra };
}

describe('anvil all-in-one, api and conductor commands', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-roles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function allInOne(port: number): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
    const child = spawn(process.execPath, [ANVIL, 'all-in-one'], { cwd: dir, env: cleanEnv({ ANVIL_API_LISTEN: `127.0.0.1:${port}` }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += String(d); });
    child.stderr!.on('data', (d) => { out += String(d); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`all-in-one exited: ${out}`);
      return out.includes(`API listening on http://127.0.0.1:${port}`);
    }, 90_000, 'the API ready line');
    return { child, output: () => out, exited };
  }

  it('runs with no configuration, works a node, stops on SIGTERM and keeps its nodes across a restart', async () => {
    const port = await freeTcpPort();
    const base = `http://127.0.0.1:${port}`;
    let run = await allInOne(port);
    expect(existsSync(path.join(dir, 'data', 'anvil.sqlite'))).toBe(true);
    let res = await fetch(`${base}/v1/nodes`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ name: 'kept', driver: 'fake-hardware' }) });
    expect(res.status).toBe(201);
    const { uuid } = (await res.json()) as { uuid: string };
    res = await fetch(`${base}/v1/nodes/${uuid}/states/provision`, { method: 'PUT', headers: HEADERS, body: JSON.stringify({ target: 'manage' }) });
    expect(res.status).toBe(202);
    await eventually(async () => ((await (await fetch(`${base}/v1/nodes/${uuid}`, { headers: HEADERS })).json()) as { provision_state: string }).provision_state === 'manageable', 30_000, 'manageable');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/SIGTERM received, stopping/);

    run = await allInOne(port);
    const node = (await (await fetch(`${base}/v1/nodes/kept`, { headers: HEADERS })).json()) as { uuid: string; provision_state: string };
    expect(node).toMatchObject({ uuid, provision_state: 'manageable' });
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
  }, 180_000);

  it('documents every role sub-command in --help', async () => {
    const run = promisify(execFile);
    const commands = ['all-in-one', 'api', 'conductor'];
    const [top, ...each] = await Promise.all([[], ...commands.map((c) => [c])].map((args) => run(process.execPath, [ANVIL, ...args, '--help'], { env: cleanEnv({}) })));
    for (const cmd of commands) expect(top.stdout).toMatch(new RegExp(`^  ${cmd} \\[options\\]`, 'm'));
    for (const help of each) {
      expect(help.stdout).toContain('--config <file>');
      expect(help.stdout).toContain('ANVIL_DATABASE_URL');
    }
  }, 120_000);

  it('refuses a configuration file with an unknown key, naming it', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'conductor:\n  workerz: 5\n');
    const child = spawn(process.execPath, [ANVIL, 'conductor', '--config', file], { cwd: dir, env: cleanEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => { err += String(d); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('anvil: Unknown configuration key "conductor.workerz"');
  }, 120_000);
});
