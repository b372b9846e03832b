// A self-signed certificate for the simulator's HTTPS, made by openssl for localhost and 127.0.0.1.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export interface TlsMaterial { cert: string; key: string }

export async function selfSignedCertificate(hostnames: string[] = ['localhost', '127.0.0.1']): Promise<TlsMaterial> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-redfish-tls-'));
  try {
    const san = hostnames.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    await execa('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '365',
      '-subj', '/CN=Anvil Redfish simulator', '-addext', `subjectAltName=${san}`,
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ]);
    return { cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'), key: readFileSync(path.join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
