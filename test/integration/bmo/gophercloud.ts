// What BMO's Ironic client is on the wire: gophercloud's ServiceClient with the httpbasic
// provider (openstack/baremetal/httpbasic: an Authorization: Basic header on every request), the
// microversion header BMO chooses, gophercloud's OK codes per call (a status outside them is an
// error BMO acts on), and its Go structs' decoding of each answer (encoding/json refuses a field
// of the wrong JSON type, so a shape Anvil gets wrong breaks BMO). Each function is named after
// the gophercloud function it mirrors (openstack/baremetal/v1/nodes, ports; openstack/utils).
import axios, { type AxiosInstance } from 'axios';
import https from 'node:https';

type Json = Record<string, unknown>;

/** A Go type as encoding/json decodes into it: null always decodes (to the zero value or nil). */
export type GoShape = 'string' | 'bool' | 'int' | 'time' | 'map' | 'any' | { slice: GoShape } | { struct: Record<string, GoShape> };

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Throws where encoding/json.Unmarshal would fail on `value` for `shape`; unknown fields are ignored as Go does. */
export function goDecode(shape: GoShape, value: unknown, where: string): void {
  if (value === null || value === undefined) return;
  const fail = (want: string) => { throw new Error(`gophercloud cannot decode ${where}: want ${want}, got ${JSON.stringify(value)}`); };
  if (shape === 'any') return;
  if (shape === 'string') { if (typeof value !== 'string') fail('a string'); return; }
  if (shape === 'bool') { if (typeof value !== 'boolean') fail('a boolean'); return; }
  if (shape === 'int') { if (typeof value !== 'number' || !Number.isInteger(value)) fail('an integer'); return; }
  // time.Time's UnmarshalJSON takes RFC 3339 only (no space separator, a zone required).
  if (shape === 'time') { if (typeof value !== 'string' || !RFC3339.test(value)) fail('an RFC 3339 time'); return; }
  if (shape === 'map') { if (typeof value !== 'object' || Array.isArray(value)) fail('a JSON object'); return; }
  if ('slice' in shape) {
    if (!Array.isArray(value)) fail('a JSON array');
    (value as unknown[]).forEach((v, i) => goDecode(shape.slice, v, `${where}[${i}]`));
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) fail('a JSON object');
  for (const [k, s] of Object.entries(shape.struct)) goDecode(s, (value as Json)[k], `${where}.${k}`);
}

const LINK: GoShape = { struct: { href: 'string', rel: 'string' } };

/** nodes.Node (results.go), field by field. */
export const NODE: GoShape = {
  struct: {
    uuid: 'string', name: 'string', power_state: 'string', target_power_state: 'string', provision_state: 'string',
    target_provision_state: 'string', maintenance: 'bool', maintenance_reason: 'string', fault: 'string', health: 'string',
    last_error: 'string', reservation: 'string', driver: 'string', driver_info: 'map', driver_internal_info: 'map',
    properties: 'map', instance_info: 'map', instance_uuid: 'string', chassis_uuid: 'string', extra: 'map',
    console_enabled: 'bool', raid_config: 'map', target_raid_config: 'map', clean_step: 'map', deploy_step: 'map',
    links: { slice: LINK }, ports: { slice: LINK }, portgroups: { slice: LINK }, states: { slice: LINK },
    resource_class: 'string', bios_interface: 'string', boot_interface: 'string', console_interface: 'string',
    deploy_interface: 'string', inspect_interface: 'string', management_interface: 'string', network_interface: 'string',
    power_interface: 'string', raid_interface: 'string', rescue_interface: 'string', storage_interface: 'string',
    traits: { slice: 'string' }, vendor_interface: 'string', volume: { slice: LINK }, conductor_group: 'string',
    parent_node: 'string', protected: 'bool', protected_reason: 'string', owner: 'string', lessee: 'string', shard: 'string',
    description: 'string', conductor: 'string', allocation_uuid: 'string', retired: 'bool', retired_reason: 'string',
    network_data: 'map', automated_clean: 'bool', service_step: 'map', firmware_interface: 'string',
    provision_updated_at: 'time', inspection_started_at: 'time', inspection_finished_at: 'time', created_at: 'time',
    updated_at: 'time', disable_power_off: 'bool',
  },
};

/** ports.Port. */
export const PORT: GoShape = {
  struct: {
    uuid: 'string', address: 'string', node_uuid: 'string', portgroup_uuid: 'string', local_link_connection: 'map',
    pxe_enabled: 'bool', physical_network: 'string', internal_info: 'map', extra: 'map', created_at: 'time', updated_at: 'time',
    links: { slice: 'any' }, is_smartnic: 'bool',
  },
};

const VALIDATION: GoShape = { struct: { result: 'bool', reason: 'string' } };
/** nodes.NodeValidation: one DriverValidation per interface. */
export const VALIDATE: GoShape = {
  struct: Object.fromEntries(['bios', 'boot', 'console', 'deploy', 'firmware', 'inspect', 'management', 'network', 'power', 'raid', 'rescue', 'storage'].map((k) => [k, VALIDATION])),
};

/** nodes.BIOSSetting (value is a Go string: Ironic keeps every value as a string). */
export const BIOS_SETTING: GoShape = {
  struct: {
    name: 'string', value: 'string', attribute_type: 'string', allowable_values: { slice: 'string' }, lower_bound: 'int',
    upper_bound: 'int', min_length: 'int', max_length: 'int', read_only: 'bool', reset_required: 'bool', unique: 'bool',
  },
};

/** nodes.FirmwareComponent. */
export const FIRMWARE_COMPONENT: GoShape = {
  struct: {
    created_at: 'time', updated_at: 'time', component: 'string', initial_version: 'string', current_version: 'string',
    last_version_flashed: 'string', vendor: 'string', model: 'string', serial_number: 'string',
  },
};

/** BMO's own VirtualMedia (pkg/provisioner/ironic/ironic.go), what it reads GET /vmedia into. */
export const VIRTUAL_MEDIA: GoShape = { struct: { image: 'string', inserted: 'bool', media_types: { slice: 'string' } } };

/** nodes.InventoryData: inventory.InventoryType (openstack/baremetal/inventory/types.go) and plugin_data. */
export const INVENTORY: GoShape = {
  struct: {
    inventory: {
      struct: {
        bmc_address: 'string', cpu: { struct: { architecture: 'string', count: 'int', frequency: 'string', flags: { slice: 'string' }, model_name: 'string' } },
        disks: { slice: { struct: { name: 'string', model: 'string', size: 'int', rotational: 'bool', serial: 'string', vendor: 'string', wwn: 'string', wwn_vendor_extension: 'string', wwn_with_extension: 'string', hctl: 'string', by_path: 'string' } } },
        interfaces: { slice: { struct: { biosdevname: 'string', client_id: 'string', name: 'string', mac_address: 'string', ipv4_address: 'string', ipv6_address: 'string', has_carrier: 'bool', vendor: 'string', product: 'string', speed_mbps: 'int', pci_address: 'string' } } },
        memory: { struct: { physical_mb: 'int', total: 'int' } },
        system_vendor: { struct: { manufacturer: 'string', product_name: 'string', serial_number: 'string', firmware: { struct: { version: 'string', build_date: 'string', vendor: 'string' } } } },
        boot: { struct: { current_boot_mode: 'string', pxe_interface: 'string' } },
        hostname: 'string',
      },
    },
    plugin_data: 'map',
  },
};

export class GopherError extends Error {
  constructor(readonly method: string, readonly url: string, readonly status: number, readonly body: unknown, ok: number[]) {
    super(`Expected HTTP response code [${ok.join(' ')}] when accessing [${method} ${url}], but got ${status} instead: ${JSON.stringify(body)}`);
  }
}

/** gophercloud.ResponseCodeIs. */
export function responseCodeIs(err: unknown, status: number): boolean {
  return err instanceof GopherError && err.status === status;
}

/** gophercloud's default OK codes per method (provider_client.go defaultOkCodes). */
const DEFAULT_OK: Record<string, number[]> = { GET: [200], POST: [201, 202], PUT: [201, 202], PATCH: [200, 202, 204], DELETE: [202, 204], HEAD: [204] };

export interface Call { method: string; path: string; status: number; body?: unknown }

export interface ServiceClientOpts { endpoint: string; username: string; password: string; ca: string }

/** gophercloud.ServiceClient from httpbasic.NewBareMetalHTTPBasic, with a TLS transport trusting `ca`; records every call. */
export class ServiceClient {
  /** BMO sets client.Microversion to its baseline, then to ChooseMicroversion()'s answer. */
  microversion = '1.89';
  readonly calls: Call[] = [];
  private readonly http: AxiosInstance;

  constructor(readonly opts: ServiceClientOpts) {
    this.http = axios.create({
      baseURL: opts.endpoint.replace(/\/?$/, '/'),
      httpsAgent: new https.Agent({ ca: opts.ca, keepAlive: true }),
      validateStatus: () => true,
      transformResponse: (d) => d,
      timeout: 60_000,
    });
  }

  async request(method: string, path: string, opts: { body?: unknown; ok?: number[] } = {}): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
    const ok = opts.ok ?? DEFAULT_OK[method];
    const headers: Record<string, string> = {
      Authorization: `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password}`).toString('base64')}`,
      'X-OpenStack-Ironic-API-Version': this.microversion,
      Accept: 'application/json',
    };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await this.http.request({ method, url: path.replace(/^\//, ''), data: opts.body === undefined ? undefined : JSON.stringify(opts.body), headers });
    const text = typeof res.data === 'string' ? res.data : '';
    let body: unknown = undefined;
    if (text !== '') {
      try { body = JSON.parse(text); } catch { body = text; }
    }
    this.calls.push({ method, path, status: res.status, ...(opts.body === undefined ? {} : { body: opts.body }) });
    if (!ok.includes(res.status)) throw new GopherError(method, path, res.status, body, ok);
    // A 204 must have no body; gophercloud decodes a JSON body only where the call asks for one.
    return { status: res.status, body, headers: res.headers as Record<string, unknown> };
  }

  async getJson(path: string, shape: GoShape, where: string, ok?: number[]): Promise<any> {
    const r = await this.request('GET', path, { ok });
    goDecode(shape, r.body, where);
    return r.body;
  }
}

// ---- openstack/utils

/** utils.GetSupportedMicroversions: GET of the versioned endpoint, one `version` with min_version and version. */
export async function getSupportedMicroversions(client: ServiceClient): Promise<{ min: [number, number]; max: [number, number] }> {
  const r = await client.request('GET', '', { ok: [200, 300] });
  const v = r.body?.version;
  // A single-version document: several `versions` would make gophercloud refuse the endpoint.
  if (!v || typeof v !== 'object') throw new Error(`gophercloud: microversions not supported by endpoint: ${JSON.stringify(r.body)}`);
  goDecode({ struct: { id: 'string', status: 'string', version: 'string', min_version: 'string' } }, v, 'version');
  if (!/^v\d+(\.\d+)?$/.test(v.id)) throw new Error(`gophercloud ParseVersion fails on id ${v.id}`);
  // utils.ParseStatus accepts these (lower-cased) and nothing else.
  if (!['current', 'supported', 'deprecated', 'experimental'].includes(String(v.status).toLowerCase())) throw new Error(`gophercloud ParseStatus fails on ${v.status}`);
  const micro = (s: string): [number, number] => {
    const m = /^(\d+)\.(\d+)$/.exec(s);
    if (!m) throw new Error(`gophercloud ParseMicroversion fails on ${s}`);
    return [Number(m[1]), Number(m[2])];
  };
  return { min: micro(v.min_version), max: micro(v.version) };
}

// ---- openstack/baremetal/v1/nodes

/** A pager's AllPages: GET `path`, then each `next` link, collecting `key`. */
async function allPages(client: ServiceClient, path: string, key: string, item: GoShape, where: string): Promise<any[]> {
  const out: any[] = [];
  for (;;) {
    const body = await client.getJson(path, { struct: { [key]: { slice: item }, next: 'string' } }, where);
    out.push(...body[key]);
    if (!body.next) return out;
    path = String(body.next).replace(/^.*\/v1\//, '');
  }
}

export const nodes = {
  /** nodes.List(...).AllPages with ListOpts{Fields}: GET /v1/nodes?fields=..., 200, following `next`. */
  async list(client: ServiceClient, fields: string[]): Promise<any[]> {
    return allPages(client, `nodes?${new URLSearchParams({ fields: fields.join(',') })}`, 'nodes', NODE, 'nodes.List');
  },
  /** nodes.Get: GET /v1/nodes/{id}, 200. */
  async get(client: ServiceClient, id: string): Promise<any> {
    return client.getJson(`nodes/${id}`, NODE, 'Node');
  },
  /** nodes.Create: POST /v1/nodes (201 or 202), decoded as a Node. */
  async create(client: ServiceClient, opts: Json): Promise<any> {
    const r = await client.request('POST', 'nodes', { body: opts });
    goDecode(NODE, r.body, 'Node');
    return r.body;
  },
  /** nodes.Update: PATCH /v1/nodes/{id} with a JSON patch, 200, decoded as a Node. */
  async update(client: ServiceClient, id: string, ops: Json[]): Promise<any> {
    const r = await client.request('PATCH', `nodes/${id}`, { body: ops, ok: [200] });
    goDecode(NODE, r.body, 'Node');
    return r.body;
  },
  /** nodes.Delete: DELETE /v1/nodes/{id} (202 or 204). */
  async delete(client: ServiceClient, id: string): Promise<void> {
    await client.request('DELETE', `nodes/${id}`);
  },
  /** nodes.Validate: GET /v1/nodes/{id}/validate, 200. */
  async validate(client: ServiceClient, id: string): Promise<any> {
    return client.getJson(`nodes/${id}/validate`, VALIDATE, 'NodeValidation');
  },
  /** nodes.ChangeProvisionState: PUT /v1/nodes/{id}/states/provision, 202 only. */
  async changeProvisionState(client: ServiceClient, id: string, opts: Json): Promise<void> {
    await client.request('PUT', `nodes/${id}/states/provision`, { body: opts, ok: [202] });
  },
  /** nodes.SetRAIDConfig: PUT /v1/nodes/{id}/states/raid, 204 only. */
  async setRAIDConfig(client: ServiceClient, id: string, opts: { logical_disks: Json[] }): Promise<void> {
    await client.request('PUT', `nodes/${id}/states/raid`, { body: opts, ok: [204] });
  },
  /** nodes.ListBIOSSettings with ListBIOSSettingsOpts{Detail: true}: GET /v1/nodes/{id}/bios?detail=true (Go's strconv.FormatBool), 200. */
  async listBIOSSettings(client: ServiceClient, id: string, detail: boolean): Promise<any[]> {
    const body = await client.getJson(`nodes/${id}/bios${detail ? '?detail=true' : ''}`, { struct: { bios: { slice: BIOS_SETTING } } }, 'ListBIOSSettings');
    return body.bios;
  },
  /** nodes.ListFirmware: GET /v1/nodes/{id}/firmware, 200. */
  async listFirmware(client: ServiceClient, id: string): Promise<any[]> {
    const body = await client.getJson(`nodes/${id}/firmware`, { struct: { firmware: { slice: FIRMWARE_COMPONENT } } }, 'ListFirmware');
    return body.firmware;
  },
  /** nodes.GetInventory: GET /v1/nodes/{id}/inventory, 200. */
  async getInventory(client: ServiceClient, id: string): Promise<any> {
    return client.getJson(`nodes/${id}/inventory`, INVENTORY, 'InventoryData');
  },
  /** nodes.AttachVirtualMedia: POST /v1/nodes/{id}/vmedia, 204 only. */
  async attachVirtualMedia(client: ServiceClient, id: string, opts: { device_type: string; image_url: string }): Promise<void> {
    await client.request('POST', `nodes/${id}/vmedia`, { body: opts, ok: [204] });
  },
  /** nodes.DetachVirtualMedia: DELETE /v1/nodes/{id}/vmedia?device_types=cdrom, 204 only. */
  async detachVirtualMedia(client: ServiceClient, id: string, deviceTypes: string[]): Promise<void> {
    await client.request('DELETE', `nodes/${id}/vmedia?device_types=${deviceTypes.join(',')}`, { ok: [204] });
  },
  /** nodes.GetVirtualMedia: GET /v1/nodes/{id}/vmedia, 200; BMO's ExtractInto a []VirtualMedia. */
  async getVirtualMedia(client: ServiceClient, id: string): Promise<any[]> {
    return client.getJson(`nodes/${id}/vmedia`, { slice: VIRTUAL_MEDIA }, '[]VirtualMedia');
  },
  /** nodes.SetMaintenance: PUT /v1/nodes/{id}/maintenance, 202 only. */
  async setMaintenance(client: ServiceClient, id: string, reason: string): Promise<void> {
    await client.request('PUT', `nodes/${id}/maintenance`, { body: { reason }, ok: [202] });
  },
};

// ---- openstack/baremetal/v1/ports

export const ports = {
  /** ports.List(...).AllPages with ListOpts{Fields, NodeUUID, Address}: GET /v1/ports?..., 200, following `next`. */
  async list(client: ServiceClient, opts: { fields: string[]; node_uuid?: string; address?: string }): Promise<any[]> {
    const q = new URLSearchParams();
    if (opts.node_uuid) q.set('node_uuid', opts.node_uuid);
    if (opts.address) q.set('address', opts.address);
    // gophercloud's ListOpts encodes Fields as one comma-joined `fields`.
    q.set('fields', opts.fields.join(','));
    return allPages(client, `ports?${q}`, 'ports', PORT, 'ports.List');
  },
  /** ports.Create: POST /v1/ports (201 or 202), decoded as a Port. */
  async create(client: ServiceClient, opts: { node_uuid: string; address: string; pxe_enabled: boolean }): Promise<any> {
    const r = await client.request('POST', 'ports', { body: opts });
    goDecode(PORT, r.body, 'Port');
    return r.body;
  },
};
