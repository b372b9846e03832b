// /v1/nodes/{ident}/vmedia: virtual media attached through the node's management interface
// (Metal3's DataImage). POST and DELETE from 1.89, GET from 1.93 (404 before, as in Ironic).
// Each call is a node task the node's conductor runs against the BMC; the API answers when it is done.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInput } from '../../../common/errors.ts';
import { VMEDIA_DEVICE_TYPES, type VirtualMedia } from '../../../drivers/interfaces.ts';
import type { ApiContext } from '../context.ts';
import { noContent, queryValue, type Query } from '../http.ts';
import { findNodeOr404 } from '../lookup.ts';
import { runNodeTask } from '../tasks.ts';
import { requireEndpoint } from '../version.ts';

/** URL schemes a BMC can mount (Ironic's image_publisher.VMEDIA_SUPPORTED_URL_SCHEMES). */
const URL_SCHEMES = ['http', 'https', 'nfs', 'cifs', 'smb'];

const ATTACH_SCHEMA = {
  type: 'object',
  required: ['device_type', 'image_url'],
  additionalProperties: false,
  properties: {
    device_type: { type: 'string', enum: [...VMEDIA_DEVICE_TYPES] },
    image_url: { type: 'string' },
    image_download_source: { type: 'string', enum: ['http', 'local', 'swift'] },
  },
};

interface AttachBody { device_type: string; image_url: string; image_download_source?: string }
type Req<B = unknown> = FastifyRequest<{ Params: { ident: string }; Body: B }>;

function checkImageUrl(url: string): void {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  const scheme = m ? m[1].toLowerCase() : '';
  if (!URL_SCHEMES.includes(scheme)) throw new InvalidInput(`Unsupported or missing URL scheme: ${scheme}`);
}

/** `?device_types=cdrom,disk`: the kinds to detach (all when absent). */
function deviceTypes(q: Query): string[] | undefined {
  const raw = queryValue(q, 'device_types');
  if (raw === undefined || raw.trim() === '') return undefined;
  const kinds = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const invalid = kinds.filter((k) => !(VMEDIA_DEVICE_TYPES as readonly string[]).includes(k));
  if (invalid.length) throw new InvalidInput(`Invalid device type(s) ${invalid.join(', ')} (valid are ${VMEDIA_DEVICE_TYPES.join(', ')})`);
  return kinds;
}

async function attach(req: Req<AttachBody>, reply: FastifyReply, ctx: ApiContext) {
  requireEndpoint(req, 89);
  checkImageUrl(req.body.image_url);
  const node = await findNodeOr404(ctx.db.knex, req.params.ident);
  await runNodeTask(ctx, node, 'attach_virtual_media', { device_type: req.body.device_type, image_url: req.body.image_url });
  return noContent(reply);
}

async function detach(req: Req, reply: FastifyReply, ctx: ApiContext) {
  requireEndpoint(req, 89);
  const kinds = deviceTypes(req.query as Query);
  const node = await findNodeOr404(ctx.db.knex, req.params.ident);
  await runNodeTask(ctx, node, 'detach_virtual_media', kinds ? { device_types: kinds } : {});
  return noContent(reply);
}

export const nodeVmediaRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get<{ Params: { ident: string } }>('/nodes/:ident/vmedia', async (req) => {
    requireEndpoint(req, 93);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    return runNodeTask<VirtualMedia[]>(ctx, node, 'get_virtual_media');
  });
  app.post<{ Params: { ident: string }; Body: AttachBody }>('/nodes/:ident/vmedia', { schema: { body: ATTACH_SCHEMA } }, (req, reply) => attach(req, reply, ctx));
  app.delete<{ Params: { ident: string }; Body: unknown }>('/nodes/:ident/vmedia', (req, reply) => detach(req, reply, ctx));
};
