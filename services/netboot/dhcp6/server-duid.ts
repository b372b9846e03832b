// The DHCPv6 server's DUID (RFC 8415 11): clients name it in REQUEST/RENEW/RELEASE, so it must not
// change across restarts. netboot.dhcp6.serverDuid fixes it; else a DUID-UUID (RFC 6355) is made once
// and kept in dataDir.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidInput } from '../../../common/errors.ts';
import { Duid, u16 } from './codec.ts';

export const SERVER_DUID_FILE = 'dhcp6-server-duid';

export function serverDuid(configured: string | undefined, dataDir: string): Buffer {
  if (configured) return Buffer.from(configured, 'hex');
  const file = path.join(dataDir, SERVER_DUID_FILE);
  const made = Buffer.concat([u16(Duid.UUID), randomBytes(16)]).toString('hex');
  try {
    mkdirSync(dataDir, { recursive: true });
    // 'wx': a second netboot process on the same dataDir keeps the first one's DUID.
    writeFileSync(file, `${made}\n`, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new InvalidInput(`Cannot keep the DHCPv6 server DUID in ${file}: ${(err as Error).message}`);
  }
  const text = readFileSync(file, 'utf8').trim();
  if (!/^([0-9a-f]{2}){3,130}$/.test(text)) throw new InvalidInput(`${file} holds no DUID (hex expected); remove it to make a new one, or set netboot.dhcp6.serverDuid`);
  return Buffer.from(text, 'hex');
}
