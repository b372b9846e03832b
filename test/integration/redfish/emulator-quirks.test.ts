// The driver tolerates what sushy-tools' emulator does: no SessionService (auto
// auth falls back to Basic), 307 from /Systems/<name> to /Systems/<uuid> for every method, a power
// change visible only a while after the 204, BootSourceOverrideEnabled always Continuous, and 501
// for a reset type it lists. A small stand-in server plays those parts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getImplementation } from '../../../drivers/registry.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { redfishContext } from './context.ts';

const UUID = '1a2b3c4d-0000-4000-8000-00000000beef';

function emulator() {
  const state = { power: 'Off', target: 'None', patches: 0, sessionPosts: 0 };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => {
      const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers });
        res.end(body ? JSON.stringify(body) : undefined);
      };
      const url = req.url!.replace(/\/$/, '');
      if (url === '/redfish/v1') return send(200, { '@odata.id': '/redfish/v1', Systems: { '@odata.id': '/redfish/v1/Systems' } });
      if (req.headers.authorization !== `Basic ${Buffer.from('admin:password').toString('base64')}`) {
        if (url === '/redfish/v1/SessionService/Sessions') state.sessionPosts += 1;
        return send(url.startsWith('/redfish/v1/SessionService') ? 404 : 401);
      }
      if (url === '/redfish/v1/Systems') return send(200, { Members: [{ '@odata.id': '/redfish/v1/Systems/vm-1' }] });
      if (url.startsWith('/redfish/v1/Systems/vm-1')) return send(307, undefined, { Location: url.replace('vm-1', UUID) });
      if (url === `/redfish/v1/Systems/${UUID}` && req.method === 'GET') {
        return send(200, {
          '@odata.id': `/redfish/v1/Systems/${UUID}`, Id: UUID, PowerState: state.power,
          Boot: { BootSourceOverrideTarget: state.target, BootSourceOverrideEnabled: 'Continuous', BootSourceOverrideMode: 'UEFI', HttpBootUri: 'None', 'BootSourceOverrideTarget@Redfish.AllowableValues': ['Pxe', 'Cd', 'Hdd'] },
          Actions: { '#ComputerSystem.Reset': { target: '/redfish/v1/Systems/vm-1/Actions/ComputerSystem.Reset', 'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'Nmi', 'ForceOn'] } },
        });
      }
      if (url === `/redfish/v1/Systems/${UUID}` && req.method === 'PATCH') {
        state.patches += 1;
        state.target = JSON.parse(raw).Boot.BootSourceOverrideTarget;
        return send(204);
      }
      if (url === `/redfish/v1/Systems/${UUID}/Actions/ComputerSystem.Reset` && req.method === 'POST') {
        const type = JSON.parse(raw).ResetType;
        if (type === 'Nmi') return send(501, { error: { code: 'Base.1.0.GeneralError', message: 'Not implemented' } });
        setTimeout(() => { state.power = type === 'ForceOff' || type === 'GracefulShutdown' ? 'Off' : 'On'; }, 150);
        return send(204);
      }
      return send(404);
    });
  });
  return { server, state };
}

describe('Redfish driver against sushy-emulator\'s quirks', () => {
  const { server, state } = emulator();
  let info: Record<string, unknown>;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    info = { redfish_address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, redfish_username: 'admin', redfish_password: 'password', redfish_retry_interval: 0.05 };
  });
  afterAll(async () => {
    await closeAllClients();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('falls back to Basic, follows 307 for GET, POST and PATCH, and waits for the late power change', async () => {
    const ctx = redfishContext('redfish', info);
    const power = getImplementation('power', 'redfish');
    expect(await power.getPowerState(ctx)).toBe('power off');
    expect(state.sessionPosts).toBe(1);
    await power.setPowerState(ctx, 'power on', 5);
    expect(state.power).toBe('On');
    const mgmt = getImplementation('management', 'redfish');
    await mgmt.setBootDevice(ctx, 'pxe', false);
    expect(state).toMatchObject({ target: 'Pxe', patches: 1 });
    // The emulator reads back Continuous whatever was asked.
    expect(await mgmt.getBootDevice(ctx)).toEqual({ boot_device: 'pxe', persistent: true });
    await expect(mgmt.injectNmi!(ctx)).rejects.toThrow(/failed with HTTP 501: Not implemented/);
    await power.setPowerState(ctx, 'power off', 5);
    expect(state.power).toBe('Off');
    // Basic from now on: no more session attempts.
    expect(state.sessionPosts).toBe(1);
  });
});
