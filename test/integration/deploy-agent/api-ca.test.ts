// The agent against an HTTPS API whose certificate a test CA signed: the netboot role puts the CA
// on the kernel command line (netboot.apiCa → anvil.api_ca), the agent reads it from there and
// looks up, heart-beats and downloads an image from an HTTPS image server the same CA signed;
// without the CA, or with another one, it refuses the API's certificate.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { Agent } from '../../../deploy-agent/agent.ts';
import { ApiCallError, IronicApiClient } from '../../../deploy-agent/api-client.ts';
import { settingsFrom } from '../../../deploy-agent/main.ts';
import { parseNetbootConfig } from '../../../services/netboot/config.ts';
import { discoveryTarget } from '../../../services/netboot/targets.ts';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { SimulatedHardware } from '../../../simulators/ramdisk-agents/hardware.ts';
import { AgentClient } from '../../../drivers/in-band/client.ts';
import { startImageServer } from '../../../images/server.ts';
import { makeTestPki, type TestPki } from '../../helpers/tls.ts';
import { hashFile, makeTestImages, MIB } from '../images/fixtures.ts';
import { startFakeIronic, type FakeIronic } from './fake-ironic.ts';

let pki: TestPki;
let ironic: FakeIronic;
let dir: string;

beforeAll(async () => {
  pki = makeTestPki();
  ironic = await startFakeIronic({ cert: pki.serverCert, key: pki.serverKey });
  dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-agent-ca-'));
});
afterAll(async () => {
  await ironic?.close();
  await rm(dir, { recursive: true, force: true });
  await rm(pki.dir, { recursive: true, force: true });
});

function netboot(apiUrl: string, apiCa?: string) {
  const config = defaultConfig();
  config.netboot = { serverAddress: '10.0.0.1', apiUrl, ...(apiCa ? { apiCa } : {}) };
  return parseNetbootConfig(config);
}

describe('the agent verifies the API with the CA of its kernel command line', () => {
  it('netboot puts netboot.apiCa on the command line of an HTTPS API only, and rejects a file that is no CA', () => {
    const cmdline = discoveryTarget(netboot(ironic.url, pki.caCert), '52:54:00:aa:bb:cc').cmdline;
    const arg = /anvil\.api_ca=(\S+)/.exec(cmdline)?.[1];
    // The DER in base64: the PEM's body without its armour, about 1 KB for an RSA-2048 CA.
    expect(arg).toBe(readFileSync(pki.caCert, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''));
    expect(arg!.length).toBeLessThan(1200);
    expect(discoveryTarget(netboot('http://10.0.0.1:6385', pki.caCert), '52:54:00:aa:bb:cc').cmdline).not.toContain('anvil.api_ca');
    expect(discoveryTarget(netboot(ironic.url), '52:54:00:aa:bb:cc').cmdline).not.toContain('anvil.api_ca');
    expect(() => netboot(ironic.url, pki.serverKey)).toThrow(`netboot.apiCa ${pki.serverKey} holds no PEM certificate`);
    expect(() => netboot(ironic.url, path.join(dir, 'missing.pem'))).toThrow(/^Cannot read netboot.apiCa .*missing\.pem: ENOENT/);
  });

  it('reads anvil.api_ca as base64 DER or PEM or as a file in the ramdisk, and refuses one that holds no certificate', () => {
    const pem = readFileSync(pki.caCert, 'utf8');
    expect(settingsFrom([], `ipa-api-url=${ironic.url} anvil.api_ca=${Buffer.from(pem).toString('base64')}`).apiCa).toBe(pem);
    expect(settingsFrom([], `ipa-api-url=${ironic.url} anvil.api_ca=${pem.replace(/-----[A-Z ]+-----|\s/g, '')}`).apiCa).toBe(pem);
    expect(settingsFrom(['--api-ca', pki.caCert], `ipa-api-url=${ironic.url}`).apiCa).toBe(pem);
    expect(settingsFrom([], `ipa-api-url=${ironic.url}`).apiCa).toBeUndefined();
    expect(() => settingsFrom([], `ipa-api-url=${ironic.url} anvil.api_ca=bm90IGEgY2VydA==`)).toThrow('anvil.api_ca holds no certificate: give base64 of the CA certificate (DER or PEM) or the path of a PEM file');
    expect(() => settingsFrom([], `ipa-api-url=${ironic.url} anvil.api_ca=/nonexistent/ca.pem`)).toThrow(/^Cannot read the API CA file anvil.api_ca=\/nonexistent\/ca.pem: ENOENT/);
  });

  it('with the CA netboot gave it, the agent looks up and heart-beats over HTTPS, and downloads an image from an HTTPS image server', async () => {
    const img = await makeTestImages();
    const images = await startImageServer({ root: img.dir, tls: { cert: pki.serverCert, key: pki.serverKey } });
    const machine = new MemoryMachine('m1', '00000000-0000-4000-8000-000000000001', 'machine-1', sampleHardware(1, { diskBytes: 64 * MIB }));
    ironic.nodes.set(machine.hardware.nics[1].mac, machine.uuid);
    const s = settingsFrom(['--listen-host', '127.0.0.1', '--listen-port', '0'], discoveryTarget(netboot(ironic.url, pki.caCert), machine.hardware.nics[1].mac).cmdline);
    const agent = new Agent({
      apiUrl: s.apiUrl, apiCa: s.apiCa, hardware: new SimulatedHardware({ machine, diskPath: path.join(dir, 'disk'), ipv4Address: '127.0.0.1' }),
      logger: silentLogger, listenHost: s.listenHost, listenPort: s.listenPort, lookupRetryMs: 20, heartbeatIntervalMs: 600_000,
    });
    await agent.start();
    try {
      const hb = await ironic.heartbeat(1);
      expect(hb).toMatchObject({ node: machine.uuid, agent_token: ironic.token });
      const client = new AgentClient(String(hb.callback_url), ironic.token, { timeoutMs: 60_000 });
      const imageInfo = { id: 'raw', urls: [`${images.url}/${path.basename(img.raw)}`], disk_format: 'raw', os_hash_algo: 'sha256', os_hash_value: await hashFile(img.raw, 'sha256') };
      const result = await client.execute('standby.prepare_image', { image_info: imageInfo }, { wait: true });
      expect(result).toMatchObject({ command_status: 'SUCCEEDED', command_error: null });
    } finally {
      await agent.stop();
      await images.close();
      await img.cleanup();
    }
  });

  it('without the CA, or with another CA, the agent refuses the API and says how to give the CA', async () => {
    for (const client of [new IronicApiClient(ironic.url), new IronicApiClient(ironic.url, { ca: readFileSync(pki.otherCaCert, 'utf8') })]) {
      try {
        const err = await client.lookup(['52:54:00:00:00:01']).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ApiCallError);
        expect((err as ApiCallError).status).toBeNull();
        expect((err as Error).message).toMatch(/^GET \/v1\/lookup\?addresses=\S+: .*: the API's certificate is not signed by a CA the agent trusts \(give the CA with anvil\.api_ca= on the kernel command line, netboot\.apiCa\)$/);
      } finally {
        client.close();
      }
    }
    expect(ironic.lookups).toHaveLength(1);
  });
});
