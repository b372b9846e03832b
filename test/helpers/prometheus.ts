// Debian's Prometheus as the tests' real scraper: `promtool check metrics` (the reference parser
// and linter of the text format) and a Prometheus server scraping a target every second, queried
// through its HTTP API, so a test reads what Prometheus itself made of an exposition.
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort } from './ports.ts';

/**
 * promtool's verdict on an exposition: a parse error throws (exit 1); lint findings (exit 3) come
 * back one per line, empty when clean.
 */
export async function promtoolCheck(text: string): Promise<string[]> {
  const r = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
  const out = `${r.stdout}${r.stderr}`.trim();
  if (r.exitCode !== 0 && r.exitCode !== 3) throw new Error(`promtool rejected the exposition (${r.exitCode}): ${out}`);
  return out ? out.split('\n') : [];
}

export interface VectorSample { metric: Record<string, string>; value: number }

export interface PrometheusServer {
  /** An instant query; the samples of its vector. */
  query(promql: string): Promise<VectorSample[]>;
  /** Polls `promql` until `accept` takes its samples (Prometheus scrapes every second). */
  until(promql: string, accept: (samples: VectorSample[]) => boolean, ms?: number): Promise<VectorSample[]>;
  close(): Promise<void>;
}

export async function startPrometheus(target: { host: string; port: number; path?: string; basicAuth?: { username: string; password: string } }): Promise<PrometheusServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-prometheus-'));
  const port = await freeTcpPort();
  const auth = target.basicAuth ? `\n    basic_auth: { username: "${target.basicAuth.username}", password: "${target.basicAuth.password}" }` : '';
  writeFileSync(path.join(dir, 'prometheus.yml'), `global: { scrape_interval: 1s, scrape_timeout: 1s }
scrape_configs:
  - job_name: anvil
    metrics_path: ${target.path ?? '/metrics'}${auth}
    static_configs: [{ targets: ["${target.host}:${target.port}"] }]
`);
  const proc: ResultPromise = execa('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ], { reject: false, stdio: ['ignore', 'ignore', 'pipe'] });
  const base = `http://127.0.0.1:${port}`;
  const query = async (promql: string): Promise<VectorSample[]> => {
    const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`Prometheus query ${promql} failed: ${body.error}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  const until = async (promql: string, accept: (s: VectorSample[]) => boolean, ms = 60_000): Promise<VectorSample[]> => {
    const end = Date.now() + ms;
    let last: VectorSample[] = [];
    let error: unknown;
    while (Date.now() < end) {
      try {
        last = await query(promql);
        if (accept(last)) return last;
      } catch (err) {
        error = err; // not up yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`Prometheus: ${promql} never matched; last: ${JSON.stringify(last)}${error ? ` (${String(error)})` : ''}`);
  };
  return {
    query,
    until,
    async close() {
      proc.kill('SIGTERM');
      await proc;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
