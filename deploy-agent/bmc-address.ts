// The machine's BMC as seen from inside it: the IPMI LAN channel's address (`ipmitool lan print`,
// as IPA reads it), else the Redfish service the firmware's SMBIOS type 42 record (Redfish Host
// Interface, DMTF DSP0270) names. Inspection rules turn it into driver_info of a discovered node.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface RedfishHostInterface {
  address: string;
  port: number;
  hostname: string | null;
}

/** IPMI LAN channels IPA looks at, in order. */
const IPMI_CHANNELS = Array.from({ length: 11 }, (_, i) => i + 1);

/** The kernel's IPMI device, where ipmitool's open interface looks for it. */
const IPMI_DEVICES = ['/dev/ipmi0', '/dev/ipmi/0', '/dev/ipmidev/0'];

/** The first non-zero IPv4 address of an IPMI LAN channel, or null (no IPMI device, no address set). */
export async function ipmiLanAddress(): Promise<string | null> {
  // Without the device ipmitool can only fail: no process started for nothing while the inventory is gathered.
  if (!IPMI_DEVICES.some((device) => existsSync(device))) return null;
  for (const channel of IPMI_CHANNELS) {
    let out: string;
    try {
      out = (await exec('ipmitool', ['lan', 'print', String(channel)], { timeout: 10_000 })).stdout;
    } catch (err) {
      // No /dev/ipmi0 (or no ipmitool): no channel answers; an invalid channel: try the next.
      if (/invalid channel/i.test(String((err as { stderr?: string }).stderr ?? ''))) continue;
      return null;
    }
    const ip = /^IP Address\s*:\s*(\d+\.\d+\.\d+\.\d+)\s*$/m.exec(out)?.[1];
    if (ip && ip !== '0.0.0.0') return ip;
  }
  return null;
}

const SMBIOS_REDFISH_HOST_INTERFACE = 42;
const NETWORK_HOST_INTERFACE = 0x40;
const PROTOCOL_REDFISH_OVER_IP = 0x04;

function ipOf(format: number, bytes: Buffer): string | null {
  if (format === 1) return [...bytes.subarray(0, 4)].join('.');
  if (format === 2) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  }
  return null;
}

/** The Redfish-over-IP protocol record's service address, port and hostname (DSP0270 table "Redfish over IP"). */
function redfishOverIp(data: Buffer): RedfishHostInterface | null {
  if (data.length < 91) return null;
  const address = ipOf(data[51], data.subarray(52, 68));
  if (!address || address === '0.0.0.0') return null;
  const hostnameLength = data[90];
  const hostname = hostnameLength > 0 && data.length >= 91 + hostnameLength ? data.subarray(91, 91 + hostnameLength).toString('utf8').replace(/\u0000+$/, '') : null;
  return { address, port: data.readUInt16LE(84), hostname };
}

/** The Redfish service of the first type 42 structure of an SMBIOS table that names one (the raw table, /sys/firmware/dmi/tables/DMI). */
export function redfishHostInterface(table: Buffer): RedfishHostInterface | null {
  let at = 0;
  while (at + 4 <= table.length) {
    const type = table[at];
    const length = table[at + 1];
    if (length < 4 || at + length > table.length) return null;
    if (type === SMBIOS_REDFISH_HOST_INTERFACE && length >= 7 && table[at + 4] === NETWORK_HOST_INTERFACE) {
      const s = table.subarray(at, at + length);
      let p = 6 + s[5];
      const records = s[p] ?? 0;
      p += 1;
      for (let r = 0; r < records && p + 2 <= s.length; r++) {
        const protocol = s[p];
        const size = s[p + 1];
        const data = s.subarray(p + 2, p + 2 + size);
        if (protocol === PROTOCOL_REDFISH_OVER_IP && data.length === size) {
          const found = redfishOverIp(data);
          if (found) return found;
        }
        p += 2 + size;
      }
    }
    if (type === 127) return null;
    // The formatted area is followed by its strings, ended by two NULs.
    const end = table.indexOf(Buffer.from([0, 0]), at + length);
    if (end < 0) return null;
    at = end + 2;
  }
  return null;
}

/** The machine's SMBIOS table as Linux exposes it; null where there is none. */
export async function smbiosTable(): Promise<Buffer | null> {
  return readFile('/sys/firmware/dmi/tables/DMI').catch(() => null);
}
