// The driver against what AMI-based BMCs do (as sushy's samples show them): reset types only
// through @Redfish.ActionInfo and only On/ForceOff/ForceRestart/GracefulShutdown, virtual media
// under Managers/Self with no MediaTypes, and InsertMedia refused (400) without
// TransferProtocolType. A small stand-in server plays those parts.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getImplementation } from '../../../drivers/registry.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { redfishContext } from './context.ts';
import { mockup } from './mockups.ts';

function amiBmc() {
  const state = { power: 'On', image: null as string | null, inserts: [] as Record<string, unknown>[], resets: [] as string[], target: 'None' };
  const refusal = readFileSync(mockup('sushy-json-samples/transfer_proto_required_error.json'), 'utf8');
  const sys = '/redfish/v1/Systems/Self';
  const cd = '/redfish/v1/Managers/Self/VirtualMedia/CD1';
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => {
      const send = (status: number, body?: unknown) => {
        res.writeHead(status, body ? { 'Content-Type': 'application/json' } : {});
        res.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
      };
      const body = raw ? JSON.parse(raw) : {};
      switch (`${req.method} ${req.url!.replace(/\/$/, '')}`) {
        case 'GET /redfish/v1': return send(200, { Systems: { '@odata.id': '/redfish/v1/Systems' }, Managers: { '@odata.id': '/redfish/v1/Managers' } });
        case 'GET /redfish/v1/Systems': return send(200, { Members: [{ '@odata.id': sys }] });
        case `GET ${sys}`: return send(200, {
          '@odata.id': sys, Id: 'Self', PowerState: state.power,
          Boot: { BootSourceOverrideTarget: state.target, BootSourceOverrideEnabled: state.target === 'None' ? 'Disabled' : 'Once', 'BootSourceOverrideTarget@Redfish.AllowableValues': ['None', 'Pxe', 'Hdd', 'Cd', 'BiosSetup'] },
          Links: { ManagedBy: [{ '@odata.id': '/redfish/v1/Managers/Self' }] },
          Actions: { '#ComputerSystem.Reset': { target: `${sys}/Actions/ComputerSystem.Reset`, '@Redfish.ActionInfo': `${sys}/ResetActionInfo` } },
        });
        case `GET ${sys}/ResetActionInfo`: return send(200, { Parameters: [{ Name: 'ResetType', Required: true, AllowableValues: ['On', 'ForceOff', 'ForceRestart', 'GracefulShutdown'] }] });
        case `POST ${sys}/Actions/ComputerSystem.Reset`:
          state.resets.push(body.ResetType);
          if (!['On', 'ForceOff', 'ForceRestart', 'GracefulShutdown'].includes(body.ResetType)) return send(400, { error: { code: 'Base.1.10.ActionParameterNotSupported', message: `ResetType ${body.ResetType} not supported` } });
          state.power = body.ResetType === 'ForceOff' || body.ResetType === 'GracefulShutdown' ? 'Off' : 'On';
          return send(204);
        case `PATCH ${sys}`: state.target = body.Boot.BootSourceOverrideTarget; return send(204);
        case 'GET /redfish/v1/Managers/Self': return send(200, { Id: 'Self', VirtualMedia: { '@odata.id': '/redfish/v1/Managers/Self/VirtualMedia' } });
        case 'GET /redfish/v1/Managers/Self/VirtualMedia': return send(200, { Members: [{ '@odata.id': '/redfish/v1/Managers/Self/VirtualMedia/USBStick1' }, { '@odata.id': cd }] });
        case 'GET /redfish/v1/Managers/Self/VirtualMedia/USBStick1': return send(200, { Id: 'USBStick1', Name: 'Virtual Removable Media', Inserted: false, Image: null, Actions: { '#VirtualMedia.InsertMedia': { target: '/nowhere' } } });
        case `GET ${cd}`: return send(200, { Id: 'CD1', Name: 'Virtual CD', Inserted: state.image !== null, Image: state.image, Actions: { '#VirtualMedia.InsertMedia': { target: `${cd}/Actions/VirtualMedia.InsertMedia` }, '#VirtualMedia.EjectMedia': { target: `${cd}/Actions/VirtualMedia.EjectMedia` } } });
        case `POST ${cd}/Actions/VirtualMedia.InsertMedia`:
          state.inserts.push(body);
          if (!body.TransferProtocolType) return send(400, refusal);
          state.image = body.Image;
          return send(204);
        case `POST ${cd}/Actions/VirtualMedia.EjectMedia`: state.image = null; return send(204);
        default: return send(404, { error: { code: 'Base.1.10.ResourceMissingAtURI', message: `${req.url} not found` } });
      }
    });
  });
  return { server, state };
}

describe('Redfish driver against an AMI-like BMC', () => {
  const { server, state } = amiBmc();
  let info: Record<string, unknown>;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    info = { redfish_address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, deploy_iso: 'https://127.0.0.1:9/ipa.iso', redfish_retry_interval: 0.05 };
  });
  afterAll(async () => {
    await closeAllClients();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads reset types from ActionInfo and maps reboots onto the few it has', async () => {
    const ctx = redfishContext('redfish', info);
    const power = getImplementation('power', 'redfish');
    await power.reboot(ctx, false, 5);
    await power.reboot(ctx, true, 5);
    await expect(getImplementation('management', 'redfish').injectNmi!(ctx)).rejects.toThrow(/does not advertise the Nmi reset type/);
    expect(state.resets).toEqual(['ForceRestart', 'GracefulShutdown', 'On']);
    expect(state.power).toBe('On');
  });

  it('finds the CD by name when MediaTypes is missing and retries InsertMedia with TransferProtocolType', async () => {
    const ctx = redfishContext('redfish', info);
    await getImplementation('boot', 'redfish-virtual-media').prepareRamdisk(ctx, 'inspect');
    expect(state.image).toBe('https://127.0.0.1:9/ipa.iso');
    expect(state.inserts).toEqual([
      { Image: 'https://127.0.0.1:9/ipa.iso', Inserted: true, WriteProtected: true },
      { Image: 'https://127.0.0.1:9/ipa.iso', Inserted: true, WriteProtected: true, TransferProtocolType: 'HTTPS', TransferMethod: 'Stream' },
    ]);
    expect(state.target).toBe('Cd');
    await getImplementation('boot', 'redfish-virtual-media').cleanUpRamdisk(ctx);
    expect(state.image).toBeNull();
  });
});
