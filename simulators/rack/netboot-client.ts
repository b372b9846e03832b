// What a simulated machine's network boot firmware does, short of running a kernel: it asks the
// netboot role for its iPXE script by MAC and reads the ramdisk's kernel command line from it.
// A MAC the netboot role does not serve gets no script, and the machine boots nothing — as a
// real server left waiting at its PXE prompt.
import axios from 'axios';
import type { RamdiskParams } from '../ramdisk-agents/index.ts';

/** Kernel arguments of the first `kernel` line of an iPXE script, as key → value. */
export function kernelArguments(script: string): Map<string, string> {
  const line = script.split('\n').find((l) => /^kernel\s/.test(l.trim()));
  const args = new Map<string, string>();
  if (!line) return args;
  for (const word of line.trim().split(/\s+/).slice(2)) {
    const eq = word.indexOf('=');
    if (eq > 0) args.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return args;
}

export function ramdiskParamsOf(script: string): RamdiskParams {
  const args = kernelArguments(script);
  return {
    apiUrl: args.get('ipa-api-url'),
    nodeUuid: args.get('ipa-node-uuid'),
    inspectionCallbackUrl: args.get('ipa-inspection-callback-url'),
  };
}

/**
 * Fetches the iPXE script for the first of `macs` that the netboot HTTP server answers; returns
 * undefined when it serves none of them.
 */
export async function fetchBootScript(netbootUrl: string, macs: string[]): Promise<{ mac: string; script: string } | undefined> {
  for (const mac of macs) {
    const res = await getWithRetries(`${netbootUrl.replace(/\/$/, '')}/boot/${mac}.ipxe`);
    if (res.status === 200 && res.data.startsWith('#!ipxe')) return { mac, script: res.data };
  }
  return undefined;
}

/** Firmware tries again when the server does not answer (a busy netboot role under a whole rack booting at once); an answer, even 404, is final. */
async function getWithRetries(url: string, attempts = 4): Promise<{ status: number; data: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await axios.get<string>(url, { responseType: 'text', timeout: 5000, validateStatus: () => true });
    } catch (err) {
      if (attempt >= attempts) throw err;
    }
  }
}
