// GET /v1/nodes/{ident}/console/ws: the node's serial console for browsers, a WebSocket that
// relays the console the conductor serves (console_info's tcp:// URL, ipmitool-socat). Anvil's own
// addition (Ironic leaves browsers to shellinabox or noVNC); the request passes the API's
// authentication and the get_console rule as any other, before the upgrade. (@fastify/websocket is
// registered once, on the server: services/api/server.ts.)
import { connect } from 'node:net';
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from '@fastify/websocket';
import { Conflict } from '../../../common/errors.ts';
import { internalInfo } from '../../../drivers/internal-info.ts';
import { resolveDriver } from '../../../drivers/registry.ts';
import type { NodeRecord } from '../../../db/nodes.ts';
import { consoleControl } from '../../conductor/console.ts';
import type { ApiContext } from '../context.ts';
import { findNodeOr404 } from '../lookup.ts';

/** Where the node's console listens, or Ironic's NodeConsoleNotEnabled (409) while it is off. */
function consoleAddress(node: NodeRecord): { host: string; port: number } {
  consoleControl(resolveDriver(node).console);
  const url = internalInfo(node).console_info?.url;
  if (!node.console_enabled || !url?.startsWith('tcp://')) throw new Conflict(`Console access is not enabled on node ${node.uuid}`, 'NodeConsoleNotEnabled');
  const { hostname, port } = new URL(url.replace(/^tcp:/, 'http:'));
  return { host: hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(port) };
}

export const nodeConsoleRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get<{ Params: { ident: string } }>('/nodes/:ident/console/ws', {
    websocket: true,
    // Refused with an HTTP error before the upgrade: an unknown node, no console, a console that is off.
    preValidation: async (req) => {
      (req as unknown as { consoleAddress: { host: string; port: number } }).consoleAddress = consoleAddress(await findNodeOr404(ctx.db.knex, req.params.ident));
    },
  }, (socket: WebSocket, req) => {
    const { host, port } = (req as unknown as { consoleAddress: { host: string; port: number } }).consoleAddress;
    const tcp = connect(port, host);
    tcp.on('data', (chunk) => socket.send(chunk));
    socket.on('message', (data: Buffer) => tcp.write(data));
    tcp.on('close', () => socket.close(1000, 'console closed'));
    tcp.on('error', (err) => {
      req.log.info({ err: err.message }, 'console relay: the console connection failed');
      socket.close(1011, 'console unreachable');
    });
    socket.on('close', () => tcp.destroy());
  });
};
