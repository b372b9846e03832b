// Subnets through the API (/v1/netboot/subnets): validated like the config file, and picked up by
// a running netboot role, whose DHCP server then answers relays of the new subnet.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type AnvilConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { createApiServer } from '../../../services/api/server.ts';
import { Opt, decodePacket } from '../../../services/netboot/dhcp/codec.ts';
import { startNetboot, type Netboot } from '../../../services/netboot/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { requestBytes } from '../../unit/netboot/requests.ts';
import { client6, relayed } from '../../unit/netboot/requests6.ts';
import { encodeMessage } from '../../../services/netboot/dhcp6/codec.ts';
import { enrollNode } from './fixtures.ts';

const MAC = '52:54:00:ab:00:01';

describe('netboot subnets through the API', () => {
  let dir: string;
  let tdb: TestDatabase;
  let api: FastifyInstance;
  let netboot: Netboot;
  let config: AnvilConfig;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-netboot-api-'));
    tdb = await createTestDatabase('sqlite');
    config = {
      ...defaultConfig(dir),
      netboot: {
        serverAddress: '127.0.0.1',
        dhcp: { listen: '127.0.0.1:0' },
        tftp: { enabled: false },
        http: { enabled: false },
        subnets: [{ name: 'leafA', cidr: '127.0.3.0/24', range: { start: '127.0.3.10', end: '127.0.3.20' } }],
        serverAddress6: '2001:db8::1',
        dhcp6: { listen: '[::1]:0' },
        subnets6: [{ name: 'leaf6', prefix: '2001:db8:1::/64', range: { start: '2001:db8:1::10', end: '2001:db8:1::20' } }],
      },
    };
    api = await createApiServer({ db: tdb.db, config, logger: silentLogger });
    netboot = await startNetboot({ db: tdb.db, config, logger: silentLogger });
  });
  afterAll(async () => {
    await netboot?.close();
    await api?.close();
    await tdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: unknown) => api.inject({ method: 'POST', url: '/v1/netboot/subnets', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('validates subnets as the config file does', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ name: 'x', cidr: '127.0.4.0/24' }, 400, 'has no range: a relayed subnet needs'],
      [{ name: 'x', cidr: '127.0.3.128/25', range: { start: '127.0.3.130', end: '127.0.3.140' } }, 400, 'leafA (127.0.3.0/24) and x (127.0.3.128/25) overlap'],
      [{ name: 'x', cidr: '127.0.4.0/24', range: { start: '127.0.4.10', end: '127.0.5.1' } }, 400, 'range.end 127.0.5.1 is outside the subnet 127.0.4.0/24'],
      [{ name: 'x', cidr: '127.0.4.0/24', direct: true, range: { start: '127.0.4.10', end: '127.0.4.20' } }, 400, 'must be relayed'],
      [{ name: 'x', cidr: '127.0.4.0/24', range: { start: '127.0.4.10', end: '127.0.4.20' }, gateway: '127.0.4.1' }, 400, 'unknown key "gateway"'],
      [{ name: 'leafA', cidr: '127.0.4.0/24', range: { start: '127.0.4.10', end: '127.0.4.20' } }, 409, 'already exists'],
      [[1, 2], 400, ''],
    ];
    for (const [body, status, text] of cases) {
      const r = await post(body);
      expect(r.statusCode, JSON.stringify(body)).toBe(status);
      expect(JSON.parse(r.json().error_message).faultstring).toContain(text);
    }
  });

  it('adds a relayed subnet that the running DHCP server then serves, lists and removes it', async () => {
    const created = await post({ name: 'leafB', cidr: '127.0.4.0/24', range: { start: '127.0.4.10', end: '127.0.4.20' }, router: '127.0.4.1', leaseTime: 900 });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'leafB', direct: false, leaseTime: 900, source: 'api' });
    const list = await api.inject({ method: 'GET', url: '/v1/netboot/subnets' });
    expect(list.json().subnets.map((s: { name: string; source: string }) => `${s.name}:${s.source}`)).toEqual(['leafA:config', 'leafB:api']);

    // The notification reloads the DHCP server's subnets: a relay of leafB is now answered.
    await enrollNode(tdb.db, { mac: MAC, state: 'deploying' });
    const relay = dgram.createSocket('udp4');
    relay.bind(netboot.dhcp!.port, '127.0.4.1');
    await once(relay, 'listening');
    await new Promise((r) => setTimeout(r, 100));
    relay.send(requestBytes({ mac: MAC, type: 'DISCOVER', giaddr: '127.0.4.1' }), netboot.dhcp!.port, '127.0.0.1');
    const [msg] = (await once(relay, 'message')) as [Buffer];
    relay.close();
    const offer = decodePacket(msg);
    expect(offer.yiaddr).toBe('127.0.4.10');
    expect(offer.options.get(Opt.LEASE_TIME)!.readUInt32BE(0)).toBe(900);
    const leases = await api.inject({ method: 'GET', url: '/v1/netboot/leases' });
    expect(leases.json().leases).toEqual([expect.objectContaining({ ip: '127.0.4.10', mac: MAC, subnet: 'leafB', state: 'offered' })]);

    expect((await api.inject({ method: 'DELETE', url: '/v1/netboot/subnets/leafA' })).statusCode).toBe(400);
    expect((await api.inject({ method: 'DELETE', url: '/v1/netboot/subnets/nope' })).statusCode).toBe(404);
    expect((await api.inject({ method: 'DELETE', url: '/v1/netboot/subnets/leafB' })).statusCode).toBe(204);
    expect((await api.inject({ method: 'GET', url: '/v1/netboot/subnets' })).json().subnets).toHaveLength(1);
  });

  it('lists the DHCPv6 leases with the DUID and IAID they were asked with', async () => {
    const mac = '52:54:00:ab:00:06';
    await enrollNode(tdb.db, { mac, state: 'cleaning' });
    const relay = dgram.createSocket('udp6');
    relay.bind(0, '::1');
    await once(relay, 'listening');
    relay.send(encodeMessage(relayed(client6({ type: 'SOLICIT', mac, iaid: 42 }), { linkAddress: '2001:db8:1::1', peerAddress: 'fe80::1' })), netboot.dhcp6!.port, '::1');
    await once(relay, 'message');
    relay.close();
    const leases = await api.inject({ method: 'GET', url: '/v1/netboot/leases6' });
    expect(leases.statusCode).toBe(200);
    expect(leases.json().leases).toEqual([{ ip: expect.stringMatching(/^2001:db8:1::(1[0-9a-f]|20)$/), mac, subnet: 'leaf6', state: 'offered', duid: '00030001525400ab0006', iaid: 42, expires_at: expect.any(String) }]);
  });
});
