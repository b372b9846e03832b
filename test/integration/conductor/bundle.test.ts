// The production entry: the bundle scripts/bundle.ts builds (dist/anvil.mjs) runs with plain
// `node`, no tsx: it migrates a new database (the migrations are bundled), serves the API and
// conductor, drives a node, and stops on SIGTERM with status 0.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../../scripts/bundle.ts';
import { freeTcpPort } from '../../helpers/ports.ts';
import { eventually } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

describe('production bundle', { timeout: 180_000 }, () => {
  let dir: string;
  let outdir: string;
  let outfile: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-bundle-'));
    // Its own folder in dist/, so a bundle someone runs meanwhile is left alone.
    outdir = path.join(ROOT, 'dist', `test-${process.pid}-${Date.now()}`);
    outfile = path.join(outdir, 'anvil.mjs');
    await bundle(outdir);
  });
  afterAll(() => {
    rmSync(outdir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs all-in-one without tsx: migrates, serves, works a node, stops cleanly', async () => {
    const port = await freeTcpPort();
    const child = spawn(process.execPath, [outfile, 'all-in-one'], {
      cwd: dir,
      env: { ...process.env, ANVIL_DATABASE_URL: `sqlite:${path.join(dir, 'anvil.sqlite')}`, ANVIL_API_LISTEN: `127.0.0.1:${port}`, ANVIL_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout!.on('data', (d) => output.push(String(d)));
    child.stderr!.on('data', (d) => output.push(String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      const headers = { 'X-OpenStack-Ironic-API-Version': '1.72', 'Content-Type': 'application/json' };
      await eventually(async () => {
        if (child.exitCode !== null) throw new Error(`the bundle exited: ${output.join('')}`);
        return fetch(`${base}/`).then((r) => r.ok, () => false);
      }, 90_000, 'the bundle to answer');
      const created = await fetch(`${base}/v1/nodes`, { method: 'POST', headers, body: JSON.stringify({ driver: 'fake-hardware', name: 'bundled' }) });
      expect(created.status).toBe(201);
      const put = await fetch(`${base}/v1/nodes/bundled/states/provision`, { method: 'PUT', headers, body: JSON.stringify({ target: 'manage' }) });
      expect(put.status).toBe(202);
      await eventually(async () => (await (await fetch(`${base}/v1/nodes/bundled`, { headers })).json()).provision_state === 'manageable', 60_000, 'the node to be manageable');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
