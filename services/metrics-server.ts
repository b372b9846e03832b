// The /metrics-only HTTP server of processes without the API's port (a conductor, netboot), on
// metrics.listen. It answers GET /metrics with this process's registry and nothing else, without
// credentials, as exporters do: bind it to a management address that only the scraper reaches.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseListen, type AnvilConfig } from '../common/config.ts';
import type { Logger } from '../common/logger.ts';
import { exposition } from '../common/metrics.ts';
import { origin } from '../common/url-host.ts';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the server when metrics.listen is set; undefined otherwise. */
export async function startMetricsServer(config: AnvilConfig, logger: Logger): Promise<MetricsServer | undefined> {
  if (!config.metrics.listen) return undefined;
  const { host, port } = parseListen(config.metrics.listen, 'metrics.listen');
  const server = http.createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Only GET /metrics is served here\n');
      return;
    }
    exposition().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body),
      (err) => {
        logger.warn({ err }, 'collecting metrics failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('Collecting metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const bound = (server.address() as AddressInfo).port;
  const url = `${origin('http', host, bound)}/metrics`;
  logger.info(`metrics on ${url}`);
  return { url, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}
