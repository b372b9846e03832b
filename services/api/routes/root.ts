// GET / and GET /v1: the version documents clients discover the API with (gophercloud, BMO, IPA).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ApiContext } from '../context.ts';
import { baseUrl, selfLinks } from '../http.ts';
import { MIN_VERSION, versionString } from '../version.ts';

function versionDoc(base: string, max: number) {
  return { id: 'v1', links: [{ href: `${base}/v1/`, rel: 'self' }], status: 'CURRENT', min_version: versionString(MIN_VERSION), version: versionString(max) };
}

/** Resources listed in /v1 and the version that introduced each. */
const RESOURCES: [name: string, since: number][] = [
  ['chassis', 1], ['nodes', 1], ['ports', 1], ['drivers', 1], ['lookup', 22], ['heartbeat', 22], ['portgroups', 24], ['volume', 32],
  ['conductors', 49], ['allocations', 52], ['events', 54], ['deploy_templates', 55], ['shards', 82], ['continue_inspection', 84], ['runbooks', 92], ['inspection_rules', 96],
];

export const rootRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get('/', async (req) => {
    const v = versionDoc(baseUrl(req, ctx.config), ctx.maxVersion);
    return {
      name: 'OpenStack Ironic API',
      description: 'Ironic is an OpenStack project which enables the provision and management of baremetal machines.',
      default_version: v,
      versions: [v],
    };
  });

  const v1 = async (req: FastifyRequest) => {
    const base = baseUrl(req, ctx.config);
    const doc: Record<string, unknown> = {
      id: 'v1',
      links: [
        { href: `${base}/v1/`, rel: 'self' },
        { href: 'https://docs.openstack.org//ironic/latest/contributor//webapi.html', rel: 'describedby', type: 'text/html' },
      ],
      media_types: { base: 'application/json', type: 'application/vnd.openstack.ironic.v1+json' },
    };
    for (const [name, since] of RESOURCES) if (req.apiVersion >= since) doc[name] = selfLinks(base, name, undefined);
    doc.version = versionDoc(base, ctx.maxVersion);
    return doc;
  };
  app.get('/v1', v1);
};
