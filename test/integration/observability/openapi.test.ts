// The OpenAPI document, fetched from a listening API with basic auth on (it needs no credentials),
// validated by swagger-parser against the OpenAPI 3.1 schema, and checked to cover every route.
import SwaggerParser from '@apidevtools/swagger-parser';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_POLICIES } from '../../../services/api/auth/policy/routes.ts';
import { OPENAPI_PATH } from '../../../services/api/openapi.ts';
import { startHarness, type ApiHarness } from '../api/harness.ts';

describe('OpenAPI document', () => {
  let h: ApiHarness;
  let base: string;
  let doc: any;

  beforeAll(async () => {
    const userFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'anvil-openapi-')), 'htpasswd');
    writeFileSync(userFile, execFileSync('htpasswd', ['-nbB', '-C', '5', 'admin', 'pw'], { encoding: 'utf8' }));
    h = await startHarness('sqlite', { configure: (c) => Object.assign(c.auth, { strategy: 'http_basic', userFile }) });
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${base}${OPENAPI_PATH}`);
    expect(res.status).toBe(200);
    doc = await res.json();
  }, 60_000);
  afterAll(async () => h?.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await SwaggerParser.validate(structuredClone(doc));
  });

  it('documents every route of the policy table once, under /v1 (but /metrics and the console\'s calls), in OpenAPI path syntax', () => {
    const documented = new Set<string>();
    for (const [p, item] of Object.entries<any>(doc.paths)) {
      expect(p.startsWith('/v1') || p === '/metrics' || p.startsWith('/console/api/')).toBe(true);
      expect(p).not.toContain(':');
      for (const m of Object.keys(item)) documented.add(`${m.toUpperCase()} ${p.replace(/^\/v1(?=\/|$)/, '').replace(/\{(\w+)\}/g, ':$1') || '/'}`);
    }
    // The console's files are not API calls.
    expect([...documented].sort()).toEqual(Object.keys(ROUTE_POLICIES).filter((k) => k !== 'GET /console' && k !== 'GET /console/*').sort());
  });

  it("carries the routes' body schemas, path parameters, policy rules and Ironic's error body", () => {
    const create = doc.paths['/v1/nodes'].post;
    expect(create.requestBody.content['application/json'].schema.properties.driver).toBeDefined();
    const power = doc.paths['/v1/nodes/{ident}/states/power'].put;
    expect(power.parameters.find((p: any) => p.in === 'path').name).toBe('ident');
    expect(power['x-policy-rules']).toEqual(['baremetal:node:set_power_state']);
    expect(power.security).toEqual([{ basic: [] }, { keystone: [] }]);
    expect(power.responses['4XX'].content['application/json'].schema.$ref).toBe('#/components/schemas/IronicError');
    const list = doc.paths['/v1/nodes'].get;
    expect(list.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['limit', 'marker', 'X-OpenStack-Ironic-API-Version']));
    expect(doc.paths['/v1/lookup'].get.security).toEqual([]);
    expect(doc.paths['/v1/netboot/subnets'].get.tags).toEqual(['anvil']);
  });
});
