// The `ipmitool` vendor interface (Ironic's ipmitool VendorPassthru): node vendor passthru methods
// that reach the BMC directly. send_raw sends one raw IPMI request ("netfn cmd data..." as bytes),
// bmc_reset resets the controller (warm by default). Both need Administrator on a real BMC.
import { InvalidInput } from '../../common/errors.ts';
import type { VendorInterface, VendorMethod } from '../interfaces.ts';
import { Cmd, NetFn } from './protocol/constants.ts';
import { ipmiRequest } from './client.ts';
import { IPMI_PROPERTIES, parseIpmiInfo } from './driver-info.ts';
import { expectOk } from './transport.ts';

/** "0x06 0x01" or "6 1" (ipmitool raw's spelling): at least a network function and a command, each a byte. */
export function parseRawBytes(raw: unknown): number[] {
  if (typeof raw !== 'string' || raw.trim() === '') throw new InvalidInput('send_raw needs "raw_bytes": the network function, command and data bytes, e.g. "0x06 0x01"');
  const bytes = raw.trim().split(/\s+/).map((t) => (/^(0x[0-9a-f]{1,2}|[0-9]{1,3})$/i.test(t) ? Number(t) : Number.NaN));
  if (bytes.some((b) => Number.isNaN(b) || b > 0xff)) throw new InvalidInput(`Invalid raw_bytes "${raw}": each must be a byte, as 0x2e or 46`);
  if (bytes.length < 2) throw new InvalidInput(`Invalid raw_bytes "${raw}": a network function and a command at least`);
  return bytes;
}

const hex = (data: Buffer) => [...data].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');

const sendRaw: VendorMethod = {
  httpMethods: ['POST'],
  description: 'Sends a raw IPMI request to the BMC and answers its data bytes',
  argsinfo: { raw_bytes: { description: 'Network function, command and data bytes, e.g. "0x06 0x01"', required: true } },
  async run(ctx, args) {
    const [netFn, cmd, ...data] = parseRawBytes(args.raw_bytes);
    const info = parseIpmiInfo(ctx.node);
    const res = expectOk(await ipmiRequest(info, 'change', netFn, cmd, data), `raw request ${String(args.raw_bytes)}`, info.target);
    await ctx.note(`Raw IPMI request ${String(args.raw_bytes)} sent to the BMC`);
    return { response: hex(res) };
  },
};

/** `warm` as Ironic reads it (oslo's bool_from_string): true when absent. */
function warmOf(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(1|t|true|on|y|yes)$/i.test(value)) return true;
  if (typeof value === 'string' && /^(0|f|false|off|n|no)$/i.test(value)) return false;
  throw new InvalidInput(`Invalid "warm": ${JSON.stringify(value)}; it must be a boolean`);
}

const bmcReset: VendorMethod = {
  httpMethods: ['POST'],
  description: 'Resets the BMC (warm by default; "warm": false for a cold reset)',
  argsinfo: { warm: { description: 'true (default) for a warm reset, false for a cold one' } },
  async run(ctx, args) {
    const warm = warmOf(args.warm);
    const info = parseIpmiInfo(ctx.node);
    expectOk(await ipmiRequest(info, 'change', NetFn.app, warm ? Cmd.warmReset : Cmd.coldReset), `${warm ? 'warm' : 'cold'} reset`, info.target);
    await ctx.note(`BMC ${warm ? 'warm' : 'cold'} reset requested`);
    return undefined;
  },
};

export const ipmitoolVendor: VendorInterface = {
  name: 'ipmitool',
  properties: IPMI_PROPERTIES,
  validate: (node) => void parseIpmiInfo(node),
  methods: { send_raw: sendRaw, bmc_reset: bmcReset },
};
