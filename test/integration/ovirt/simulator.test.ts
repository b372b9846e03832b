// The oVirt Engine simulator answering the requests of the API model's own documentation
// (ovirt-engine-api-model: 002-AuthenticationAndSecurity, 003-CommonConcepts, 004-QuickStartExample),
// sent as they are written there: the entry point by the Version header and by the /v4 prefix, Basic
// auth with admin@internal, the SSO token request, the VM collection in XML and JSON, searches,
// the quick start's run-once start from the CD-ROM, actions with <action/>, and faults.
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMachine, sampleHardware, type MachineBootDevice } from '../../../simulators/machine.ts';
import { startEngineSimulator, type EngineSimulator } from '../../../simulators/ovirt-engine/index.ts';

const BASIC = 'Basic YWRtaW5AaW50ZXJuYWw6bXlwYXNzd29yZA=='; // admin@internal:mypassword, the documentation's own
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['vm', 'link', 'device'].includes(name) });

describe('the Engine simulator against the API documentation\'s examples', () => {
  let sim: EngineSimulator;
  const boots: MachineBootDevice[] = [];

  beforeAll(async () => {
    const machines = [new MemoryMachine('m1', '123', 'myvm', sampleHardware(1)), new MemoryMachine('m2', '456', 'myvm2', sampleHardware(2)), new MemoryMachine('m3', '789', 'yourvm', sampleHardware(3))];
    machines[0].on('boot', (d: MachineBootDevice) => boots.push(d));
    sim = await startEngineSimulator({ machines, users: { 'admin@internal': 'mypassword' }, tls: false, stepMs: 0 });
  });
  afterAll(async () => sim?.close());

  const call = async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
    const res = await fetch(`${sim.url}${path}`, { method, headers, body });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers };
  };
  const until = async (status: string) => { for (let i = 0; i < 100 && (await sim.vms[0].status()) !== status; i++) await new Promise((r) => setTimeout(r, 10)); };

  it('serves the entry point for version 4, by header and by URL prefix, to Basic auth', async () => {
    const byHeader = await call('GET', '/ovirt-engine/api', { Version: '4', Accept: 'application/xml', Authorization: BASIC });
    expect(byHeader.status).toBe(200);
    const api = xml.parse(byHeader.text).api;
    expect(api.link).toEqual(expect.arrayContaining([{ href: '/ovirt-engine/api/vms', rel: 'vms' }, { href: '/ovirt-engine/api/clusters', rel: 'clusters' }]));
    expect(api.product_info).toMatchObject({ name: 'oVirt Engine', vendor: 'ovirt.org', version: { major: 4 } });
    expect(api.summary.vms).toEqual({ active: 0, total: 3 });
    const byPrefix = await call('GET', '/ovirt-engine/api/v4', { Accept: 'application/xml', Authorization: BASIC });
    expect(xml.parse(byPrefix.text).api.product_info.name).toBe('oVirt Engine');
    expect((await call('GET', '/ovirt-engine/api', { Version: '3', Authorization: BASIC })).status).toBe(400);
  });

  it('asks for credentials with 401 and a Basic challenge, and takes them on HEAD', async () => {
    const anonymous = await call('HEAD', '/ovirt-engine/api');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await call('HEAD', '/ovirt-engine/api', { Authorization: BASIC })).status).toBe(200);
    expect((await call('HEAD', '/ovirt-engine/api', { Authorization: 'Basic YWRtaW5AaW50ZXJuYWw6d3Jvbmc=' })).status).toBe(401);
  });

  it('gives an SSO token for the password grant with scope ovirt-app-api, and the API takes it as a Bearer token', async () => {
    const token = await call('POST', '/ovirt-engine/sso/oauth/token', { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      'grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=mypassword');
    expect(token.status).toBe(200);
    const body = JSON.parse(token.text);
    expect(body).toMatchObject({ token_type: 'bearer', access_token: expect.any(String) });
    const vms = await call('GET', '/ovirt-engine/api/vms', { Accept: 'application/xml', Authorization: `Bearer ${body.access_token}` });
    expect(xml.parse(vms.text).vms.vm.map((v: { name: string }) => v.name)).toEqual(['myvm', 'myvm2', 'yourvm']);
    expect((await call('GET', '/ovirt-engine/api/vms', { Authorization: 'Bearer not-a-token' })).status).toBe(401);
    const noScope = await call('POST', '/ovirt-engine/sso/oauth/token', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'grant_type=password&username=admin%40internal&password=mypassword');
    expect(JSON.parse(noScope.text)).toMatchObject({ error_code: 'invalid_scope' });
  });

  it('represents VMs in XML with id and href attributes, and in JSON as {"vm": [...]}', async () => {
    const one = xml.parse((await call('GET', '/ovirt-engine/api/vms/123', { Authorization: BASIC })).text).vm[0];
    expect(one).toMatchObject({ id: '123', href: '/ovirt-engine/api/vms/123', name: 'myvm', status: 'down', memory: 16 * 1024 ** 3, os: { boot: { devices: { device: ['hd'] } } } });
    expect(one.actions.link.map((l: { rel: string }) => l.rel)).toEqual(expect.arrayContaining(['start', 'stop', 'shutdown', 'reboot']));
    const json = JSON.parse((await call('GET', '/ovirt-engine/api/vms', { Accept: 'application/json', Authorization: BASIC })).text);
    expect(json.vm.map((v: { id: string; href: string }) => [v.id, v.href])).toEqual([['123', '/ovirt-engine/api/vms/123'], ['456', '/ovirt-engine/api/vms/456'], ['789', '/ovirt-engine/api/vms/789']]);
  });

  it('searches as the documentation does: name=myvm, a trailing wildcard, case, max, status', async () => {
    const names = async (query: string) => {
      const r = await call('GET', `/ovirt-engine/api/vms?${query}`, { Accept: 'application/json', Authorization: BASIC });
      return ((JSON.parse(r.text).vm ?? []) as { name: string }[]).map((v) => v.name);
    };
    expect(await names('search=name%3Dmyvm')).toEqual(['myvm']);
    expect(await names('search=name%3Dmyvm*')).toEqual(['myvm', 'myvm2']);
    expect(await names('search=name%3DMYVM')).toEqual([]);
    expect(await names('search=name%3DMYVM&case_sensitive=false')).toEqual(['myvm']);
    expect(await names('search=name%3Dmyvm*&max=1')).toEqual(['myvm']);
    expect(await names('search=status%3Ddown')).toEqual(['myvm', 'myvm2', 'yourvm']);
    expect((await call('GET', '/ovirt-engine/api/vms?search=sortby%20name', { Authorization: BASIC })).status).toBe(400);
  });

  it('runs the quick start\'s start from the CD-ROM, then refuses a second start with a fault', async () => {
    const start = await call('POST', '/ovirt-engine/api/vms/123/start', { Accept: 'application/xml', 'Content-type': 'application/xml', Authorization: BASIC },
      '<action>\n  <vm>\n    <os>\n      <boot>\n        <devices>\n          <device>cdrom</device>\n        </devices>\n      </boot>\n    </os>\n  </vm>\n</action>');
    expect(start.status).toBe(200);
    expect(xml.parse(start.text)).toEqual({ '?xml': expect.anything(), action: { status: 'complete' } });
    await until('up');
    expect(boots).toEqual(['cdrom']);
    const again = await call('POST', '/ovirt-engine/api/vms/123/start', { 'Content-Type': 'application/xml', Authorization: BASIC }, '<action/>');
    expect(again.status).toBe(409);
    expect(xml.parse(again.text).action).toEqual({ fault: { reason: 'Operation Failed', detail: '[Cannot run VM. VM is running.]' }, status: 'failed' });
  });

  it('reboots and shuts down with an empty <action/>, the shutdown forced with <force>true</force>', async () => {
    expect((await call('POST', '/ovirt-engine/api/vms/123/reboot', { 'Content-Type': 'application/xml', Authorization: BASIC }, '<action/>')).status).toBe(200);
    await until('up');
    expect(boots).toEqual(['cdrom', 'cdrom']); // a guest reboot stays in the run: the run-once CD-ROM again
    const shutdown = await call('POST', '/ovirt-engine/api/vms/123/shutdown', { 'Content-Type': 'application/xml', Authorization: BASIC }, '<action>\n  <force>true</force>\n</action>');
    expect(shutdown.status).toBe(200);
    await until('down');
    expect(await sim.vms[0].status()).toBe('down');
    await call('POST', '/ovirt-engine/api/vms/123/start', { 'Content-Type': 'application/xml', Authorization: BASIC }, '<action/>');
    await until('up');
    expect(boots).toEqual(['cdrom', 'cdrom', 'disk']); // a new run: the VM's own boot order
    await call('POST', '/ovirt-engine/api/vms/123/stop', { 'Content-Type': 'application/xml', Authorization: BASIC }, '<action/>');
  });

  it('updates os.boot.devices in XML and JSON, and answers a bad device or a missing VM with <fault><reason/><detail/></fault>', async () => {
    const put = await call('PUT', '/ovirt-engine/api/vms/123', { 'Content-Type': 'application/xml', Authorization: BASIC }, '<vm><os><boot><devices><device>network</device><device>hd</device></devices></boot></os></vm>');
    expect(xml.parse(put.text).vm[0].os.boot.devices.device).toEqual(['network', 'hd']);
    const json = await call('PUT', '/ovirt-engine/api/vms/123', { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: BASIC }, '{"os":{"boot":{"devices":{"device":["hd"]}}}}');
    expect(JSON.parse(json.text).os.boot.devices.device).toEqual(['hd']);
    const bad = await call('PUT', '/ovirt-engine/api/vms/123', { 'Content-Type': 'application/xml', Authorization: BASIC }, '<vm><os><boot><devices><device>floppy</device></devices></boot></os></vm>');
    expect(bad.status).toBe(400);
    expect(xml.parse(bad.text).fault).toEqual({ reason: 'Invalid value', detail: 'floppy is not a member of BootDevice. Possible values for BootDevice are: cdrom, hd, network' });
    const missing = await call('GET', '/ovirt-engine/api/vms/999', { Accept: 'application/json', Authorization: BASIC });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toEqual({ reason: 'Operation Failed', detail: 'Entity not found: 999' });
  });
});
