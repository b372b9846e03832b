// The shape of a node's network_data (API 1.66): OpenStack's network_data.json, as Ironic checks it
// against its network-data schema before storing it. Links are NICs (phy, by MAC), bonds and VLANs;
// networks are addresses on a link (static ipv4/ipv6, or *_dhcp / ipv6_slaac to ask the network);
// services are DNS servers. An empty object means "none" and is always valid.
import { isIP } from 'node:net';
import { Ajv } from 'ajv';
import { InvalidInput } from './errors.ts';

const route = {
  type: 'object',
  required: ['network', 'netmask', 'gateway'],
  properties: { network: { type: 'string' }, netmask: { type: 'string' }, gateway: { type: 'string' } },
};

export const NETWORK_DATA_SCHEMA = {
  type: 'object',
  properties: {
    links: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'type'],
        properties: {
          id: { type: 'string', minLength: 1 },
          type: { type: 'string', minLength: 1 },
          ethernet_mac_address: { type: 'string', pattern: '^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$' },
          mtu: { type: ['integer', 'null'], minimum: 68, maximum: 65535 },
          vlan_link: { type: 'string' },
          vlan_id: { type: 'integer', minimum: 1, maximum: 4094 },
          bond_links: { type: 'array', items: { type: 'string' }, minItems: 1 },
          bond_mode: { type: 'string' },
        },
        allOf: [
          { if: { properties: { type: { const: 'vlan' } } }, then: { required: ['vlan_link', 'vlan_id'] } },
          { if: { properties: { type: { const: 'bond' } } }, then: { required: ['bond_links'] } },
        ],
      },
    },
    networks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'type', 'link'],
        properties: {
          id: { type: 'string', minLength: 1 },
          type: { enum: ['ipv4', 'ipv6', 'ipv4_dhcp', 'ipv6_dhcp', 'ipv6_dhcpv6-stateful', 'ipv6_dhcpv6-stateless', 'ipv6_slaac'] },
          link: { type: 'string', minLength: 1 },
          ip_address: { type: 'string' },
          netmask: { type: 'string' },
          routes: { type: 'array', items: route },
          dns_nameservers: { type: 'array', items: { type: 'string' } },
        },
        allOf: [{ if: { properties: { type: { enum: ['ipv4', 'ipv6'] } } }, then: { required: ['ip_address'] } }],
      },
    },
    services: {
      type: 'array',
      items: { type: 'object', required: ['type', 'address'], properties: { type: { type: 'string' }, address: { type: 'string' } } },
    },
  },
};

export interface NetworkLink { id: string; type: string; ethernet_mac_address?: string; mtu?: number | null; vlan_link?: string; vlan_id?: number; bond_links?: string[]; bond_mode?: string; [option: string]: unknown }
export interface NetworkRoute { network: string; netmask: string; gateway: string }
export interface Network { id: string; type: string; link: string; ip_address?: string; netmask?: string; routes?: NetworkRoute[]; dns_nameservers?: string[] }
export interface NetworkData { links?: NetworkLink[]; networks?: Network[]; services?: { type: string; address: string }[] }

const validate = new Ajv({ allErrors: false, strict: false }).compile(NETWORK_DATA_SCHEMA);

/** The prefix length of a netmask written as a length ("24", "64") or a mask ("255.255.255.0", "ffff:ffff::"), or null. */
export function prefixLength(netmask: string, family: 4 | 6): number | null {
  const bits = family === 4 ? 32 : 128;
  if (/^\d{1,3}$/.test(netmask)) return Number(netmask) <= bits ? Number(netmask) : null;
  if (isIP(netmask) !== family) return null;
  let value = 0n;
  if (family === 4) for (const part of netmask.split('.')) value = (value << 8n) | BigInt(part);
  else {
    const [head, tail = ''] = netmask.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = netmask.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    for (const g of groups) value = (value << 16n) | BigInt(`0x${g}`);
  }
  const binary = value.toString(2).padStart(bits, '0');
  return /^1*0*$/.test(binary) ? binary.indexOf('0') < 0 ? bits : binary.indexOf('0') : null;
}

/** An address, with its prefix from `/len` or the netmask, of family 4 or 6. */
export function addressWithPrefix(ip: string, netmask: string | undefined, family: 4 | 6): { address: string; prefix: number } | null {
  const [address, len] = ip.split('/');
  if (isIP(address) !== family) return null;
  const prefix = len !== undefined ? prefixLength(len, family) : netmask !== undefined ? prefixLength(netmask, family) : family === 4 ? null : 64;
  return prefix === null ? null : { address, prefix };
}

/** Throws InvalidInput naming the first problem: the schema, addresses, and links the networks and VLANs/bonds refer to. */
export function checkNetworkData(value: unknown, what = 'network_data'): asserts value is NetworkData {
  if (!validate(value)) {
    const e = validate.errors![0];
    throw new InvalidInput(`Invalid ${what}: ${e.instancePath || '/'} ${e.message}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as string[]).join(', ')})` : ''}`);
  }
  const data = value as NetworkData;
  const links = new Set((data.links ?? []).map((l) => l.id));
  for (const [i, link] of (data.links ?? []).entries()) {
    for (const ref of [...(link.vlan_link ? [link.vlan_link] : []), ...(link.bond_links ?? [])]) {
      if (!links.has(ref)) throw new InvalidInput(`Invalid ${what}: /links/${i} (${link.id}) refers to link ${ref}, which is not among the links`);
    }
  }
  for (const [i, net] of (data.networks ?? []).entries()) {
    const at = `/networks/${i} (${net.id})`;
    if (!links.has(net.link)) throw new InvalidInput(`Invalid ${what}: ${at} is on link ${net.link}, which is not among the links`);
    if (net.type === 'ipv4' || net.type === 'ipv6') {
      const family = net.type === 'ipv4' ? 4 : 6;
      if (!addressWithPrefix(net.ip_address!, net.netmask, family)) {
        throw new InvalidInput(`Invalid ${what}: ${at} needs an IPv${family} ip_address with a prefix (ip_address/len or netmask), got ${JSON.stringify(net.ip_address)}${net.netmask ? ` netmask ${JSON.stringify(net.netmask)}` : ''}`);
      }
    }
    for (const [j, r] of (net.routes ?? []).entries()) {
      if (!isIP(r.gateway) || !isIP(r.network) || prefixLength(r.netmask, isIP(r.network) as 4 | 6) === null) {
        throw new InvalidInput(`Invalid ${what}: ${at}/routes/${j} needs IP addresses for network and gateway and a netmask, got ${JSON.stringify(r)}`);
      }
    }
    for (const ns of net.dns_nameservers ?? []) if (!isIP(ns)) throw new InvalidInput(`Invalid ${what}: ${at} dns_nameservers holds ${JSON.stringify(ns)}, which is no IP address`);
  }
  for (const [i, s] of (data.services ?? []).entries()) {
    if (s.type === 'dns' && !isIP(s.address)) throw new InvalidInput(`Invalid ${what}: /services/${i} is a dns service at ${JSON.stringify(s.address)}, which is no IP address`);
  }
}
