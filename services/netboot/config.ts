// The `netboot` section of AnvilConfig: listen addresses, subnets (directly attached and relayed),
// TFTP/HTTP roots, boot files and static hosts. Validated here so a bad file fails at start with a
// message that names the key. The format is documented in docs/netboot.md.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { apiPublicUrl, type AnvilConfig } from '../../common/config.ts';
import { InvalidInput } from '../../common/errors.ts';
import type { RamdiskPurpose } from '../../db/boot-records.ts';
import { canonicalMac } from '../../common/mac.ts';
import { broadcastOf, inCidr, intToIp, ipToInt, isIPv4, parseCidr, type Cidr } from './net.ts';
import { origin } from '../../common/url-host.ts';
import { parseDhcp6Section, type Dhcp6Config, type Subnet6Config } from './config6.ts';
import { bool, checkKeys, isObject, listen, num, section, str, type Raw } from './config-read.ts';

export interface SubnetConfig {
  name: string;
  cidr: string;
  /** Attached to the netboot server's own link (answers are broadcast) rather than behind a relay. */
  direct: boolean;
  range: { start: string; end: string };
  router?: string;
  dns: string[];
  domain?: string;
  /** Seconds. */
  leaseTime: number;
  /** Next-server / server identifier for this subnet; defaults to netboot.serverAddress. */
  serverAddress?: string;
}

export interface StaticHost {
  mac: string;
  purpose: RamdiskPurpose;
  /** Node UUID the agent will look itself up as; optional for standalone use. */
  nodeUuid?: string;
  kernel?: string;
  ramdisk?: string;
  append?: string;
}

export interface BootFiles {
  /** Option 93 = 0 (BIOS): the iPXE loader fetched by TFTP. */
  bios: string;
  /** Option 93 = 7/9 (x86-64 UEFI). */
  uefi: string;
  /** Option 93 = 11 (ARM64 UEFI). */
  uefiArm64: string;
  /** Loader given as an HTTP URL to UEFI HTTP boot clients (vendor class HTTPClient). */
  httpClient: string;
}

export interface NetbootConfig {
  /**
   * Address the DHCP server binds to (0.0.0.0 to hear broadcasts). `mode` proxy: ProxyDHCP beside the
   * site's DHCP server (boot offers without addresses, and PXE boot server answers on `pxePort`).
   */
  dhcp: { enabled: boolean; host: string; port: number; discovery: boolean; offerSeconds: number; mode: DhcpMode; pxePort: number };
  tftp: { enabled: boolean; host: string; port: number; root: string; timeoutSec: number; retries: number };
  /** `tls`: cert and key (PEM files) to serve HTTPS; publicUrl then defaults to https://. */
  http: { enabled: boolean; host: string; port: number; root: string; publicUrl: string; tls?: { cert: string; key: string } };
  /** The address nodes reach this server at (next-server, server identifier). */
  serverAddress: string;
  /** The API URL passed to the agent on its kernel command line. */
  apiUrl: string;
  /** Base64 of the DER of netboot.apiCa (the PEM's body), passed as anvil.api_ca when apiUrl is HTTPS. */
  apiCa?: string;
  bootFiles: BootFiles;
  deployKernel: string;
  deployRamdisk: string;
  kernelAppend: string;
  /**
   * Seconds the inspection ramdisk listens for LLDP on each NIC (IPA's ipa-lldp-timeout); 0: it does
   * not listen, for a network whose switches send no LLDP. Unset: the agent's default, 10 s.
   */
  lldpTimeout?: number;
  /**
   * Seconds a NIC listens for LLDP with its link up before the agent takes it to have no LLDP
   * neighbour (anvil.lldp_link_wait). Unset: the agent's default, 2 s; switches that send only every
   * 30 s (LLDP's default tx-interval) need it raised to that, with lldpTimeout.
   */
  lldpLinkWait?: number;
  subnets: SubnetConfig[];
  hosts: StaticHost[];
  /** DHCPv6 (config6.ts): on when subnets6 lists any subnet. */
  dhcp6: Dhcp6Config;
  /** The IPv6 address nodes reach this server at (boot file URLs over DHCPv6); per subnet overridable. */
  serverAddress6?: string;
  subnets6: Subnet6Config[];
}

/** server: Anvil leases the addresses; proxy: the site's DHCP server does, Anvil adds the boot file (PXE spec ProxyDHCP). */
export type DhcpMode = 'server' | 'proxy';
const DHCP_MODES: DhcpMode[] = ['server', 'proxy'];

const PURPOSES: RamdiskPurpose[] = ['deploy', 'clean', 'inspect', 'rescue', 'service'];

function ip(raw: Raw, key: string, where: string): string {
  const v = str(raw, key, where);
  if (!isIPv4(v)) throw new InvalidInput(`${where}.${key} is not an IPv4 address: "${v}"`);
  return v;
}

function parseSubnet(raw: unknown, index: number, label: string): SubnetConfig & { parsed: Cidr } {
  const where = `${label}[${index}]`;
  if (!isObject(raw)) throw new InvalidInput(`${where} must be a mapping`);
  checkKeys(raw, ['name', 'cidr', 'direct', 'range', 'router', 'dns', 'domain', 'leaseTime', 'serverAddress'], where);
  const name = str(raw, 'name', where, `subnet${index}`);
  const at = `${where} (${name})`;
  const cidrText = str(raw, 'cidr', at);
  const parsed = parseCidr(cidrText);
  if (!parsed) throw new InvalidInput(`${at}.cidr is not an IPv4 CIDR such as 10.0.0.0/24: "${cidrText}"`);
  const direct = bool(raw, 'direct', at, false);
  if (raw.range === undefined) {
    throw new InvalidInput(`${at} has no range: a ${direct ? 'directly attached' : 'relayed'} subnet needs "range: {start, end}" to lease addresses from`);
  }
  if (!isObject(raw.range)) throw new InvalidInput(`${at}.range must be a mapping {start, end}`);
  checkKeys(raw.range, ['start', 'end'], `${at}.range`);
  const start = ip(raw.range, 'start', `${at}.range`);
  const end = ip(raw.range, 'end', `${at}.range`);
  for (const [label, addr] of [['range.start', start], ['range.end', end]] as const) {
    if (!inCidr(addr, parsed)) throw new InvalidInput(`${at}.${label} ${addr} is outside the subnet ${cidrText}`);
    const n = ipToInt(addr);
    if (parsed.prefix < 31 && (n === parsed.network || n === broadcastOf(parsed))) {
      throw new InvalidInput(`${at}.${label} ${addr} is the subnet's network or broadcast address`);
    }
  }
  if (ipToInt(start) > ipToInt(end)) throw new InvalidInput(`${at}.range starts at ${start}, after its end ${end}`);
  const router = raw.router === undefined ? undefined : ip(raw, 'router', at);
  if (router && !inCidr(router, parsed)) throw new InvalidInput(`${at}.router ${router} is outside the subnet ${cidrText}`);
  if (router && ipToInt(router) >= ipToInt(start) && ipToInt(router) <= ipToInt(end)) {
    throw new InvalidInput(`${at}.router ${router} lies inside the lease range ${start}-${end}`);
  }
  const dnsRaw = raw.dns ?? [];
  if (!Array.isArray(dnsRaw) || dnsRaw.some((d) => typeof d !== 'string' || !isIPv4(d))) {
    throw new InvalidInput(`${at}.dns must be a list of IPv4 addresses`);
  }
  const serverAddress = raw.serverAddress === undefined ? undefined : ip(raw, 'serverAddress', at);
  return {
    name,
    cidr: `${intToIp(parsed.network)}/${parsed.prefix}`,
    direct,
    range: { start, end },
    router,
    dns: dnsRaw as string[],
    domain: raw.domain === undefined ? undefined : str(raw, 'domain', at),
    leaseTime: num(raw, 'leaseTime', at, 3600, 60, 7 * 24 * 3600),
    serverAddress,
    parsed,
  };
}

function checkSubnets(subnets: Array<SubnetConfig & { parsed: Cidr }>, label: string): void {
  const names = new Set<string>();
  for (const s of subnets) {
    if (names.has(s.name)) throw new InvalidInput(`${label}: the name "${s.name}" is used twice`);
    names.add(s.name);
  }
  const direct = subnets.filter((s) => s.direct);
  if (direct.length > 1) {
    // Node's dgram cannot tell on which interface a broadcast arrived, so one direct link per process.
    throw new InvalidInput(`${label}: only one subnet may be direct, got ${direct.map((s) => s.name).join(', ')}; run one netboot per link or relay the others`);
  }
  for (let i = 0; i < subnets.length; i++) {
    for (let j = i + 1; j < subnets.length; j++) {
      const a = subnets[i];
      const b = subnets[j];
      if (inCidr(b.parsed.network, a.parsed) || inCidr(a.parsed.network, b.parsed)) {
        throw new InvalidInput(`${label}: ${a.name} (${a.cidr}) and ${b.name} (${b.cidr}) overlap`);
      }
    }
  }
}

function parseHost(raw: unknown, index: number): StaticHost {
  const where = `netboot.hosts[${index}]`;
  if (!isObject(raw)) throw new InvalidInput(`${where} must be a mapping`);
  checkKeys(raw, ['mac', 'purpose', 'nodeUuid', 'kernel', 'ramdisk', 'append'], where);
  const macText = str(raw, 'mac', where);
  const mac = canonicalMac(macText);
  if (!mac) throw new InvalidInput(`${where}.mac is not a MAC address: "${macText}"`);
  const purpose = str(raw, 'purpose', where, 'deploy') as RamdiskPurpose;
  if (!PURPOSES.includes(purpose)) throw new InvalidInput(`${where}.purpose must be one of ${PURPOSES.join(', ')}, got "${purpose}"`);
  const opt = (k: string): string | undefined => (raw[k] === undefined ? undefined : str(raw, k, where));
  return { mac, purpose, nodeUuid: opt('nodeUuid'), kernel: opt('kernel'), ramdisk: opt('ramdisk'), append: opt('append') };
}

/**
 * Validates a list of subnets as a whole (each one, unique names, no overlap, at most one direct);
 * `label` names the list in error messages (`netboot.subnets`, or the API's).
 */
export function parseSubnets(raw: unknown, label: string): SubnetConfig[] {
  if (!Array.isArray(raw)) throw new InvalidInput(`${label} must be a list`);
  const subnets = raw.map((r, i) => parseSubnet(r, i, label));
  checkSubnets(subnets, label);
  return subnets.map(({ parsed: _parsed, ...s }) => s);
}

/** The first certificate of the PEM file netboot.apiCa as base64 DER: the shortest form for the kernel command line. */
function readApiCa(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidInput(`Cannot read netboot.apiCa ${file}: ${(err as Error).message}`);
  }
  const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(text)?.[1];
  if (!body) throw new InvalidInput(`netboot.apiCa ${file} holds no PEM certificate`);
  return body.replace(/\s+/g, '');
}

/** Parses and validates `config.netboot`; relative roots are resolved against config.dataDir. */
export function parseNetbootConfig(config: AnvilConfig): NetbootConfig {
  const raw = config.netboot ?? {};
  if (!isObject(raw)) throw new InvalidInput('netboot must be a mapping');
  checkKeys(raw, ['serverAddress', 'serverAddress6', 'apiUrl', 'apiCa', 'dhcp', 'dhcp6', 'tftp', 'http', 'bootFiles', 'deployKernel', 'deployRamdisk', 'kernelAppend', 'lldpTimeout', 'lldpLinkWait', 'subnets', 'subnets6', 'hosts'], 'netboot');
  const serverAddress = ip(raw, 'serverAddress', 'netboot');

  const dhcpRaw = section(raw, 'dhcp');
  checkKeys(dhcpRaw, ['enabled', 'listen', 'discovery', 'offerSeconds', 'mode', 'pxePort'], 'netboot.dhcp');
  const mode = str(dhcpRaw, 'mode', 'netboot.dhcp', 'server') as DhcpMode;
  if (!DHCP_MODES.includes(mode)) throw new InvalidInput(`netboot.dhcp.mode must be one of ${DHCP_MODES.join(', ')}, got "${mode}"`);
  const tftpRaw = section(raw, 'tftp');
  checkKeys(tftpRaw, ['enabled', 'listen', 'root', 'timeoutSec', 'retries'], 'netboot.tftp');
  const httpRaw = section(raw, 'http');
  checkKeys(httpRaw, ['enabled', 'listen', 'root', 'publicUrl', 'tls'], 'netboot.http');
  const bootRaw = section(raw, 'bootFiles');
  checkKeys(bootRaw, ['bios', 'uefi', 'uefiArm64', 'httpClient'], 'netboot.bootFiles');

  const root = (v: string): string => path.resolve(config.dataDir, v);
  const httpTlsRaw = section(httpRaw, 'tls', 'netboot.http');
  checkKeys(httpTlsRaw, ['cert', 'key'], 'netboot.http.tls');
  if (Boolean(httpTlsRaw.cert) !== Boolean(httpTlsRaw.key)) throw new InvalidInput('netboot.http.tls needs both cert and key');
  const httpTls = httpTlsRaw.cert ? { cert: root(str(httpTlsRaw, 'cert', 'netboot.http.tls')), key: root(str(httpTlsRaw, 'key', 'netboot.http.tls')) } : undefined;
  // [::] is dual stack: IPv4 and IPv6 clients alike.
  const httpListen = listen(httpRaw, 'netboot.http', '[::]:8080');
  const subnets = parseSubnets(raw.subnets ?? [], 'netboot.subnets');
  const hostsRaw = raw.hosts ?? [];
  if (!Array.isArray(hostsRaw)) throw new InvalidInput('netboot.hosts must be a list');
  const hosts = hostsRaw.map(parseHost);
  const seen = new Set<string>();
  for (const h of hosts) {
    if (seen.has(h.mac)) throw new InvalidInput(`netboot.hosts: MAC ${h.mac} is listed twice`);
    seen.add(h.mac);
  }

  return {
    dhcp: {
      enabled: bool(dhcpRaw, 'enabled', 'netboot.dhcp', true),
      ...listen(dhcpRaw, 'netboot.dhcp', '0.0.0.0:67'),
      discovery: bool(dhcpRaw, 'discovery', 'netboot.dhcp', false),
      offerSeconds: num(dhcpRaw, 'offerSeconds', 'netboot.dhcp', 30, 1, 3600),
      mode,
      // The PXE spec's boot server port, where PXE clients and iPXE ask a ProxyDHCP server again once they have an address.
      pxePort: num(dhcpRaw, 'pxePort', 'netboot.dhcp', 4011, 0, 65535),
    },
    tftp: {
      enabled: bool(tftpRaw, 'enabled', 'netboot.tftp', true),
      ...listen(tftpRaw, 'netboot.tftp', '[::]:69'),
      root: root(str(tftpRaw, 'root', 'netboot.tftp', 'tftpboot')),
      timeoutSec: num(tftpRaw, 'timeoutSec', 'netboot.tftp', 1, 1, 255),
      retries: num(tftpRaw, 'retries', 'netboot.tftp', 5, 1, 50),
    },
    http: {
      enabled: bool(httpRaw, 'enabled', 'netboot.http', true),
      ...httpListen,
      root: root(str(httpRaw, 'root', 'netboot.http', 'httpboot')),
      publicUrl: str(httpRaw, 'publicUrl', 'netboot.http', origin(httpTls ? 'https' : 'http', serverAddress, httpListen.port)).replace(/\/$/, ''),
      ...(httpTls ? { tls: httpTls } : {}),
    },
    serverAddress,
    apiUrl: str(raw, 'apiUrl', 'netboot', apiPublicUrl(config)).replace(/\/$/, ''),
    apiCa: raw.apiCa === undefined ? undefined : readApiCa(path.resolve(config.dataDir, str(raw, 'apiCa', 'netboot'))),
    bootFiles: {
      bios: str(bootRaw, 'bios', 'netboot.bootFiles', 'undionly.kpxe'),
      uefi: str(bootRaw, 'uefi', 'netboot.bootFiles', 'ipxe.efi'),
      uefiArm64: str(bootRaw, 'uefiArm64', 'netboot.bootFiles', 'ipxe-arm64.efi'),
      httpClient: str(bootRaw, 'httpClient', 'netboot.bootFiles', 'ipxe.efi'),
    },
    deployKernel: str(raw, 'deployKernel', 'netboot', 'deploy.kernel'),
    deployRamdisk: str(raw, 'deployRamdisk', 'netboot', 'deploy.initramfs'),
    kernelAppend: str(raw, 'kernelAppend', 'netboot', ''),
    ...(raw.lldpTimeout === undefined ? {} : { lldpTimeout: num(raw, 'lldpTimeout', 'netboot', 0, 0, 600) }),
    ...(raw.lldpLinkWait === undefined ? {} : { lldpLinkWait: num(raw, 'lldpLinkWait', 'netboot', 0, 1, 600) }),
    subnets,
    hosts,
    ...parseDhcp6Section(raw),
  };
}
