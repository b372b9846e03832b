// LLDP TLVs as the agent reports them per interface ([type, hex of the TLV value], IPA's `lldp`)
// read into the fields of Ironic's parse-lldp hook (plugin_data.parsed_lldp) and into a port's
// local_link_connection (its local-link-connection hook). Pure: no database, no sockets.
// IEEE 802.1AB-2016 §8 (basic TLVs), Annex D (802.1 organizationally specific), 802.3 Clause 79.

type Json = Record<string, unknown>;

/** Basic TLV types. */
const TLV = { CHASSIS_ID: 1, PORT_ID: 2, PORT_DESCRIPTION: 4, SYSTEM_NAME: 5, SYSTEM_DESCRIPTION: 6, CAPABILITIES: 7, MANAGEMENT_ADDRESS: 8, ORGANIZATIONAL: 127 } as const;
const OUI_8021 = '0080c2';
const OUI_8023 = '00120f';
/** Chassis id subtype 4 and port id subtype 3 are MAC addresses; others are text (names, locally assigned). */
const CHASSIS_MAC = 4;
const PORT_MAC = 3;
/** IANA address family numbers in the management address TLV. */
const FAMILY_IPV4 = 1;
const FAMILY_IPV6 = 2;
const FAMILY_MAC = 6;
/** System capability bits, lowest first (802.1AB Table 8-4). */
const CAPABILITIES = ['Other', 'Repeater', 'Bridge', 'WLAN', 'Router', 'Telephone', 'DOCSIS cable device', 'Station only', 'C-VLAN', 'S-VLAN', 'TPMR'];

function macOf(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The RFC 5952 spelling (WHATWG URL's host serializer compresses it). */
function ipv6Of(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function capabilityNames(bits: number): string[] {
  return CAPABILITIES.filter((_, i) => bits & (1 << i));
}

/** A value as text, when it is printable UTF-8; else its hex (a few switches put binary in names). */
function text(bytes: Buffer): string {
  const s = bytes.toString('utf8').replace(/\u0000+$/, '');
  return /^[^\u0000-\u0008\u000e-\u001f\ufffd]*$/.test(s) ? s : bytes.toString('hex');
}

function idOf(value: Buffer, macSubtype: number): string | undefined {
  if (value.length < 2) return undefined;
  const body = value.subarray(1);
  if (value[0] === macSubtype) return body.length === 6 ? macOf(body) : undefined;
  return text(body);
}

function managementAddress(value: Buffer): string | undefined {
  const length = value[0];
  if (length === undefined || length < 2 || value.length < 1 + length) return undefined;
  const family = value[1];
  const address = value.subarray(2, 1 + length);
  if (family === FAMILY_IPV4 && address.length === 4) return [...address].join('.');
  if (family === FAMILY_IPV6 && address.length === 16) return ipv6Of(address);
  if (family === FAMILY_MAC && address.length === 6) return macOf(address);
  return undefined;
}

/** 802.1 (OUI 00-80-C2) subtypes: port VLAN id, VLAN names, link aggregation (since 802.1AB-2009). */
function ieee8021(parsed: Json, subtype: number, body: Buffer): void {
  if (subtype === 1 && body.length >= 2) {
    const pvid = body.readUInt16BE(0);
    // PVID 0: the port is not VLAN aware, it has none.
    if (pvid > 0) parsed.switch_port_untagged_vlan_id = pvid;
  } else if (subtype === 3 && body.length >= 3) {
    const nameLength = body[2];
    if (body.length < 3 + nameLength) return;
    const vlans = (parsed.switch_port_vlans ??= []) as { id: number; name: string }[];
    vlans.push({ id: body.readUInt16BE(0), name: text(body.subarray(3, 3 + nameLength)) });
  } else if (subtype === 7 && body.length >= 5) {
    linkAggregation(parsed, body);
  }
}

function linkAggregation(parsed: Json, body: Buffer): void {
  parsed.switch_port_link_aggregation_support = Boolean(body[0] & 1);
  parsed.switch_port_link_aggregation_enabled = Boolean(body[0] & 2);
  parsed.switch_port_link_aggregation_id = body.readUInt32BE(1);
}

/** 802.3 (OUI 00-12-0F) subtypes: MAC/PHY auto-negotiation, link aggregation (the older place), max frame size. */
function ieee8023(parsed: Json, subtype: number, body: Buffer): void {
  if (subtype === 1 && body.length >= 5) {
    parsed.switch_port_autonegotiation_support = Boolean(body[0] & 1);
    parsed.switch_port_autonegotiation_enabled = Boolean(body[0] & 2);
    parsed.switch_port_mau_type = body.readUInt16BE(3);
  } else if (subtype === 3 && body.length >= 5) {
    linkAggregation(parsed, body);
  } else if (subtype === 4 && body.length >= 2) {
    parsed.switch_port_mtu = body.readUInt16BE(0);
  }
}

/** The TLV list of one interface, as [type, value] pairs; entries that are not [integer, hex string] are dropped. */
function decoded(tlvs: unknown): [number, Buffer][] {
  if (!Array.isArray(tlvs)) return [];
  const out: [number, Buffer][] = [];
  for (const tlv of tlvs) {
    if (!Array.isArray(tlv) || tlv.length !== 2 || !Number.isInteger(tlv[0]) || typeof tlv[1] !== 'string') continue;
    if (!/^([0-9a-f]{2})*$/i.test(tlv[1])) continue;
    out.push([tlv[0] as number, Buffer.from(tlv[1], 'hex')]);
  }
  return out;
}

/**
 * The parsed fields of one interface's LLDP TLVs (Ironic's names: switch_chassis_id, switch_port_id,
 * switch_port_description, switch_system_name, switch_mgmt_addresses, switch_port_vlans,
 * switch_port_untagged_vlan_id, switch_port_link_aggregation_*, switch_port_mtu, …). A TLV too short
 * for its type, or of a subtype not read here, is left out; undefined when nothing was read.
 */
export function parseLldp(tlvs: unknown): Json | undefined {
  const parsed: Json = {};
  for (const [type, value] of decoded(tlvs)) {
    switch (type) {
      case TLV.CHASSIS_ID: {
        const id = idOf(value, CHASSIS_MAC);
        if (id !== undefined) parsed.switch_chassis_id = id;
        break;
      }
      case TLV.PORT_ID: {
        const id = idOf(value, PORT_MAC);
        if (id !== undefined) parsed.switch_port_id = id;
        break;
      }
      case TLV.PORT_DESCRIPTION:
        if (value.length > 0) parsed.switch_port_description = text(value);
        break;
      case TLV.SYSTEM_NAME:
        if (value.length > 0) parsed.switch_system_name = text(value);
        break;
      case TLV.SYSTEM_DESCRIPTION:
        if (value.length > 0) parsed.switch_system_description = text(value);
        break;
      case TLV.CAPABILITIES:
        if (value.length >= 4) {
          parsed.switch_capabilities_support = capabilityNames(value.readUInt16BE(0));
          parsed.switch_capabilities_enabled = capabilityNames(value.readUInt16BE(2));
        }
        break;
      case TLV.MANAGEMENT_ADDRESS: {
        const address = managementAddress(value);
        if (address) ((parsed.switch_mgmt_addresses ??= []) as string[]).push(address);
        break;
      }
      case TLV.ORGANIZATIONAL: {
        if (value.length < 4) break;
        const oui = value.subarray(0, 3).toString('hex');
        if (oui === OUI_8021) ieee8021(parsed, value[3], value.subarray(4));
        else if (oui === OUI_8023) ieee8023(parsed, value[3], value.subarray(4));
        break;
      }
      default:
        break;
    }
  }
  return Object.keys(parsed).length ? parsed : undefined;
}

/**
 * local_link_connection from parsed LLDP, as Ironic's hook: switch_id only from a MAC chassis id,
 * port_id from the port id, switch_info from the system name.
 */
export function linkFromParsed(parsed: Json | undefined): Json | undefined {
  if (!parsed) return undefined;
  const link: Json = {};
  if (typeof parsed.switch_chassis_id === 'string' && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(parsed.switch_chassis_id)) link.switch_id = parsed.switch_chassis_id;
  if (typeof parsed.switch_port_id === 'string') link.port_id = parsed.switch_port_id;
  if (typeof parsed.switch_system_name === 'string') link.switch_info = parsed.switch_system_name;
  return Object.keys(link).length ? link : undefined;
}

/** LLDP TLVs ([type, hex value]) → local_link_connection. */
export function linkFromLldp(tlvs: unknown): Json | undefined {
  return linkFromParsed(parseLldp(tlvs));
}
