// The Redfish simulator at the HTTP level: auth and sessions, errors for bad requests, ETag rules,
// vendor flavours (iLO's read-only boot mode and case-insensitive paths, iDRAC's InsertMedia and
// configuration tasks), one BMC per port, the session limit, and the `anvil simulate redfish` CLI.
import path from 'node:path';
import { Command } from 'commander';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeRecord } from '../../../db/nodes.ts';
import { RedfishClient } from '../../../drivers/redfish/client.ts';
import { parseRedfishInfo } from '../../../drivers/redfish/driver-info.ts';
import { registerSimulateRedfish } from '../../../simulators/redfish-bmc/cli.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';

const BASIC = { Authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };

async function call(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = BASIC) {
  const res = await fetch(url, { method, headers: { ...headers, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

const scp = (once: string) => `<SystemConfiguration><Component FQDD="iDRAC.Embedded.1"><Attribute Name="ServerBoot.1#BootOnce">${once}</Attribute><Attribute Name="ServerBoot.1#FirstBootDevice">PXE</Attribute></Component></SystemConfiguration>`;

const messageId = (r: { body: { error?: { '@Message.ExtendedInfo'?: { MessageId: string }[] } } }) => r.body.error?.['@Message.ExtendedInfo']?.[0]?.MessageId;

describe('Redfish simulator over HTTP', () => {
  let sim: RedfishSimulator;
  beforeAll(async () => {
    sim = await startRedfishSimulator({ systems: 3, flavor: (_m, i) => (['generic', 'idrac', 'ilo'] as const)[i], auth: { username: 'admin', password: 'pw' }, taskMs: 50 });
  });
  afterAll(async () => { await sim.close(); });
  const sys = (i: number) => `${sim.url}/redfish/v1/Systems/${sim.systemIds[i]}`;

  it('serves the root without credentials and nothing else', async () => {
    const root = await call(`${sim.url}/redfish/v1/`, 'GET', undefined, {});
    expect(root.status).toBe(200);
    expect(root.body.Links.Sessions['@odata.id']).toBe('/redfish/v1/SessionService/Sessions');
    const denied = await call(`${sim.url}/redfish/v1/Systems`, 'GET', undefined, {});
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await call(`${sim.url}/redfish/v1/Systems`)).body.Members).toHaveLength(3);
  });

  it('opens, uses and closes sessions', async () => {
    const login = await call(`${sim.url}/redfish/v1/SessionService/Sessions`, 'POST', { UserName: 'admin', Password: 'pw' }, {});
    expect(login.status).toBe(201);
    const token = login.headers.get('x-auth-token')!;
    const location = login.headers.get('location')!;
    expect((await call(sys(0), 'GET', undefined, { 'X-Auth-Token': token })).status).toBe(200);
    expect((await call(`${sim.url}${location}`, 'DELETE', undefined, { 'X-Auth-Token': token })).status).toBe(204);
    expect((await call(sys(0), 'GET', undefined, { 'X-Auth-Token': token })).status).toBe(401);
    expect((await call(`${sim.url}/redfish/v1/SessionService/Sessions`, 'POST', { UserName: 'admin', Password: 'bad' }, {})).status).toBe(401);
    expect((await call(`${sim.url}/redfish/v1/SessionService/Sessions`, 'POST', { UserName: 'admin' }, {})).status).toBe(400);
  });

  it('answers bad requests with Redfish error bodies', async () => {
    const malformed = await call(sys(0), 'PATCH', '{"Boot": ');
    expect(malformed.status).toBe(400);
    expect(messageId(malformed)).toBe('Base.1.8.MalformedJSON');
    expect((await call(`${sim.url}/redfish/v1/NoSuchThing`)).status).toBe(404);
    expect((await call(`${sys(0)}/Processors/CPU9`)).status).toBe(404);
    expect((await call(sys(0), 'DELETE')).status).toBe(405);
    const reset = `${sys(2)}/Actions/ComputerSystem.Reset`;
    expect(messageId(await call(reset, 'POST', {}))).toBe('Base.1.8.ActionParameterMissing');
    // iLO advertises no PowerCycle: refused with 400, not sushy-emulator's 501.
    const cycle = await call(reset, 'POST', { ResetType: 'PowerCycle' });
    expect(cycle.status).toBe(400);
    expect(messageId(cycle)).toBe('Base.1.8.ActionParameterValueNotInList');
    const unknown = await call(sys(0), 'PATCH', { Boot: { BootSourceOverrideTarget: 'Floppy' } }, { ...BASIC, 'If-Match': '*' });
    expect(messageId(unknown)).toBe('Base.1.8.PropertyValueNotInList');
    expect(messageId(await call(sys(0), 'PATCH', { PowerState: 'On' }, { ...BASIC, 'If-Match': '*' }))).toBe('Base.1.8.PropertyNotWritable');
  });

  it('enforces ETags on the generic flavour: 428 without If-Match, 412 with a stale one', async () => {
    const body = { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } };
    expect((await call(sys(0), 'PATCH', body)).status).toBe(428);
    const current = await call(sys(0));
    const etag = current.headers.get('etag')!;
    expect(etag).toBe(current.body['@odata.etag']);
    expect((await call(sys(0), 'PATCH', body, { ...BASIC, 'If-Match': etag })).status).toBe(204);
    expect((await call(sys(0), 'PATCH', body, { ...BASIC, 'If-Match': etag })).status).toBe(412);
    expect(sim.machines[0].getBootOverride()).toMatchObject({ device: 'pxe', persistent: false });
  });

  it('behaves like iLO: read-only BootSourceOverrideMode, case-insensitive paths, virtual media under the Manager', async () => {
    const ilo = sim.systemIds[2];
    const mode = await call(sys(2), 'PATCH', { Boot: { BootSourceOverrideMode: 'UEFI' } });
    expect(mode.status).toBe(400);
    expect(messageId(mode)).toMatch(/PropertyNotWritable/);
    const bios = await call(`${sim.url}/redfish/v1/SYSTEMS/${ilo}/bios/settings/`);
    expect(bios.status).toBe(200);
    expect(bios.body['@odata.etag']).toMatch(/^W\/"/);
    const media = await call(`${sim.url}/redfish/v1/Managers/${ilo}/VirtualMedia/2`);
    expect(media.body).toMatchObject({ MediaTypes: ['CD', 'DVD'], Oem: { Hpe: { BootOnNextServerReset: false } } });
    expect((await call(`${sim.url}/redfish/v1/Systems/${ilo}/VirtualMedia`)).status).toBe(404);
  });

  it('behaves like iDRAC: InsertMedia needs TransferProtocolType, configuration imports are tasks, BIOS changes are jobs', async () => {
    const idrac = sim.systemIds[1];
    const insert = `${sys(1)}/VirtualMedia/1/Actions/VirtualMedia.InsertMedia`;
    const refused = await call(insert, 'POST', { Image: 'http://127.0.0.1:9/x.iso' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/requires the parameter TransferProtocolType/);
    expect((await call(insert, 'POST', { Image: 'http://127.0.0.1:9/x.iso', TransferProtocolType: 'HTTP', TransferMethod: 'Stream' })).status).toBe(204);
    expect(sim.machines[1].getVirtualMedia()).toEqual({ image: 'http://127.0.0.1:9/x.iso', inserted: true });

    const imported = await call(`${sim.url}/redfish/v1/Managers/${idrac}/Actions/Oem/EID_674_Manager.ImportSystemConfiguration`, 'POST', {
      ShareParameters: { Target: 'ALL' },
      ImportBuffer: '<SystemConfiguration><Component FQDD="iDRAC.Embedded.1"><Attribute Name="ServerBoot.1#BootOnce">Enabled</Attribute><Attribute Name="ServerBoot.1#FirstBootDevice">VCD-DVD</Attribute></Component></SystemConfiguration>',
    });
    expect(imported.status).toBe(202);
    const task = imported.headers.get('location')!;
    expect(task).toMatch(/\/TaskService\/Tasks\/JID_\d+$/);
    let state = '';
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && state !== 'Completed';) {
      state = (await call(`${sim.url}${task}`)).body.TaskState;
      if (state !== 'Completed') await new Promise((r) => setTimeout(r, 50));
    }
    expect(state).toBe('Completed');
    expect(sim.machines[1].getBootOverride()).toMatchObject({ device: 'cdrom', persistent: false });

    const settings = `${sys(1)}/Bios/Settings`;
    const job = await call(settings, 'PATCH', { Attributes: { BootMode: 'Bios' }, '@Redfish.SettingsApplyTime': { ApplyTime: 'OnReset' } });
    expect(job.status).toBe(202);
    const jobUri = job.headers.get('location')!;
    expect((await call(`${sim.url}${jobUri}`)).body.JobState).toBe('Scheduled');
    const blocked = await call(settings, 'PATCH', { Attributes: { ProcTurboMode: 'Disabled' } });
    expect(messageId(blocked)).toBe('IDRAC.2.8.LC068');
    await call(`${sys(1)}/Actions/ComputerSystem.Reset`, 'POST', { ResetType: 'On' });
    expect((await call(`${sim.url}${jobUri}`)).body.JobState).toBe('Completed');
    expect(sim.machines[1].getBootOverride().mode).toBe('bios');
    expect((await call(`${sys(1)}/Bios`)).body.Attributes.BootMode).toBe('Bios');
  });

  it('serves task monitors that the client waits out, and failed tasks as errors', async () => {
    const client = new RedfishClient(parseRedfishInfo({ uuid: 'n', driver_info: { redfish_address: sim.url, redfish_username: 'admin', redfish_password: 'pw', redfish_auth_type: 'basic' } } as unknown as NodeRecord));
    const isc = `/redfish/v1/Managers/${sim.systemIds[1]}/Actions/Oem/EID_674_Manager.ImportSystemConfiguration`;
    try {
      const started = await client.request('POST', isc, { ShareParameters: { Target: 'ALL' }, ImportBuffer: scp('Disabled') });
      const done = await client.waitTask(started.headers.location.replace('/Tasks/', '/TaskMonitors/'), 10);
      expect(done.status).toBe(200);
      expect(done.data.TaskState).toBe('Completed');
      expect(sim.machines[1].getBootOverride()).toMatchObject({ device: 'pxe', persistent: true });
      await expect(client.post(isc, { ShareParameters: { Target: 'ALL' }, ImportBuffer: scp('Sometimes') })).rejects.toThrow(/ended in state Exception: SYS055: The value Sometimes of ServerBoot.1#BootOnce is not valid/);
    } finally {
      await client.close();
    }
  });

  it('counts down an injected error and then recovers', async () => {
    sim.faults.set(sim.systemIds[0], { errorStatus: 503, errorCount: 2 });
    expect((await call(sys(0))).status).toBe(503);
    expect((await call(sys(0))).status).toBe(503);
    expect((await call(sys(0))).status).toBe(200);
    expect((await call(sys(1))).status).toBe(200);
    sim.faults.clear();
  });
});

describe('Redfish simulator, one BMC per port', () => {
  it('gives each BMC its vendor Ids and caps its sessions', async () => {
    const sim = await startRedfishSimulator({ systems: 2, flavor: 'idrac', perPort: true, auth: { username: 'admin', password: 'pw' } });
    try {
      expect(sim.endpoints).toHaveLength(2);
      expect(sim.endpoints[0].port).not.toBe(sim.endpoints[1].port);
      for (const e of sim.endpoints) {
        expect(e.systemIds).toEqual(['System.Embedded.1']);
        expect((await call(`${e.url}/redfish/v1/Managers/iDRAC.Embedded.1`)).body.Links.ManagerForServers).toEqual([{ '@odata.id': '/redfish/v1/Systems/System.Embedded.1' }]);
      }
      await call(`${sim.endpoints[0].url}/redfish/v1/Systems/System.Embedded.1/Actions/ComputerSystem.Reset`, 'POST', { ResetType: 'On' });
      expect(await sim.machines[0].powerState()).toBe('on');
      expect(await sim.machines[1].powerState()).toBe('off');
      const login = () => call(`${sim.endpoints[1].url}/redfish/v1/SessionService/Sessions`, 'POST', { UserName: 'admin', Password: 'pw' }, {});
      for (let i = 0; i < 16; i++) expect((await login()).status).toBe(201);
      const over = await login();
      expect(over.status).toBe(503);
      expect(messageId(over)).toBe('Base.1.8.SessionLimitExceeded');
    } finally {
      await sim.close();
    }
  });
});

describe('Redfish simulator task monitor', () => {
  it('answers 202 with a Location while the task runs; the client gives up after its timeout', async () => {
    const sim = await startRedfishSimulator({ systems: 1, flavor: 'idrac', taskMs: 3_600_000 });
    const client = new RedfishClient(parseRedfishInfo({ uuid: 'n', driver_info: { redfish_address: sim.url } } as unknown as NodeRecord));
    try {
      const started = await client.request('POST', `/redfish/v1/Managers/${sim.systemIds[0]}/Actions/Oem/EID_674_Manager.ImportSystemConfiguration`, { ShareParameters: { Target: 'ALL' }, ImportBuffer: scp('Enabled') });
      expect(started.status).toBe(202);
      const monitor = started.headers.location.replace('/Tasks/', '/TaskMonitors/');
      const polled = await call(`${sim.url}${monitor}`, 'GET', undefined, {});
      expect(polled.status).toBe(202);
      expect(polled.headers.get('location')).toBe(monitor);
      expect(polled.body.TaskState).toBe('Running');
      await expect(client.waitTask(monitor, 0.3)).rejects.toThrow(/did not finish within 0.3 s \(state Running\)/);
    } finally {
      await client.close();
      await sim.close();
    }
  });
});

describe('anvil simulate redfish', () => {
  const bin = path.resolve(import.meta.dirname, '../../../bin/anvil.js');

  it('starts from the CLI, serves the systems and stops on SIGTERM', async () => {
    const child = execa('node', [bin, 'simulate', 'redfish', '--systems', '4', '--listen', '127.0.0.1:0', '--flavor', 'ilo', '--username', 'u', '--password', 'p'], { reject: false });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /ready: 4 system\(s\) .* at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', () => reject(new Error(`exited early: ${out}`)));
    });
    const systems = await call(`${url}/redfish/v1/Systems`, 'GET', undefined, { Authorization: `Basic ${Buffer.from('u:p').toString('base64')}` });
    expect(systems.body.Members).toHaveLength(4);
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(0);
  });

  it('rejects bad options with a clear message', async () => {
    const program = new Command('anvil').exitOverride();
    registerSimulateRedfish(program);
    await expect(program.parseAsync(['node', 'anvil', 'simulate', 'redfish', '--flavor', 'supermicro'])).rejects.toThrow(/Unknown Redfish simulator flavor "supermicro": use one of generic, idrac, ilo/);
    await expect(program.parseAsync(['node', 'anvil', 'simulate', 'redfish', '--username', 'x'])).rejects.toThrow(/--username and --password go together/);
    await expect(program.parseAsync(['node', 'anvil', 'simulate', 'redfish', '--systems', '0'])).rejects.toThrow(/--systems must be an integer from 1/);
    await expect(program.parseAsync(['node', 'anvil', 'simulate', 'redfish', '--mockup', '/nonexistent/tree'])).rejects.toThrow(/Mockup directory \/nonexistent\/tree does not exist/);
  });
});
