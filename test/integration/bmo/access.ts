// BMO's BMC address parsing (pkg/hardwareutils/bmc): the AccessDetails of each URL scheme the replay
// covers — the driver, the interfaces BMO names at enrolment ("" lets Ironic pick the default, and
// gophercloud's omitempty leaves it out of the body) and the driver_info it builds.
type Json = Record<string, unknown>;

export type BmcKind = 'ipmi' | 'redfish' | 'redfish-virtualmedia' | 'redfish-uefihttp' | 'idrac-virtualmedia';

export interface AccessDetails {
  kind: BmcKind;
  driver: string;
  bootInterface: string;
  biosInterface: string;
  firmwareInterface: string;
  managementInterface: string;
  powerInterface: string;
  raidInterface: string;
  vendorInterface: string;
  /** InspectInterface(): the out-of-band one fast inspection uses ("" when the BMC has none). */
  inspectInterface: string;
  /** SupportsISOPreprovisioningImage(): the deploy ramdisk goes as driver_info deploy_iso. */
  supportsIso: boolean;
  driverInfo(creds: { username: string; password: string }): Json;
}

/** getRedfishAddress: the scheme after "+" (redfish+http://), https by default, and the host. */
function redfishAddress(scheme: string, host: string): string {
  const parts = scheme.split('+');
  return `${parts.length > 1 ? parts[1] : 'https'}://${host}`;
}

/** bmc.NewAccessDetails for the five kinds the replay drives. */
export function accessDetails(address: string): AccessDetails {
  const url = new URL(address);
  const scheme = url.protocol.replace(/:$/, '');
  const kind = scheme.split('+')[0] as BmcKind;
  const redfishInfo = (creds: { username: string; password: string }, alwaysSystemId: boolean): Json => {
    const info: Json = { redfish_username: creds.username, redfish_password: creds.password, redfish_address: redfishAddress(scheme, url.host) };
    const trimmed = url.pathname.replace(/^\/+|\/+$/g, '');
    // redfishAccessDetails.DriverInfo sets the system id unless the path is empty or the service root; the UEFI HTTP one always does.
    if (alwaysSystemId || (trimmed !== '' && trimmed !== 'redfish/v1')) info.redfish_system_id = url.pathname;
    return info;
  };
  switch (kind) {
    case 'ipmi':
      return {
        kind, driver: 'ipmi', bootInterface: 'ipxe', biosInterface: '', firmwareInterface: '', managementInterface: '', powerInterface: '',
        raidInterface: 'no-raid', vendorInterface: '', inspectInterface: '', supportsIso: false,
        // ipmiAccessDetails.DriverInfo: the port as a string (623 when none), the privilege level from ?privilegelevel=.
        driverInfo: (c) => ({ ipmi_port: url.port || '623', ipmi_username: c.username, ipmi_password: c.password, ipmi_address: url.hostname, ipmi_priv_level: url.searchParams.get('privilegelevel') ?? 'ADMINISTRATOR' }),
      };
    case 'redfish':
      return {
        kind, driver: 'redfish', bootInterface: 'ipxe', biosInterface: '', firmwareInterface: 'redfish', managementInterface: '', powerInterface: '',
        raidInterface: 'redfish', vendorInterface: '', inspectInterface: 'redfish', supportsIso: false, driverInfo: (c) => redfishInfo(c, false),
      };
    case 'redfish-virtualmedia':
      return {
        kind, driver: 'redfish', bootInterface: 'redfish-virtual-media', biosInterface: '', firmwareInterface: 'redfish', managementInterface: '', powerInterface: '',
        raidInterface: 'redfish', vendorInterface: '', inspectInterface: 'redfish', supportsIso: true, driverInfo: (c) => redfishInfo(c, false),
      };
    case 'redfish-uefihttp':
      return {
        kind, driver: 'redfish', bootInterface: 'redfish-https', biosInterface: '', firmwareInterface: 'redfish', managementInterface: '', powerInterface: '',
        raidInterface: 'redfish', vendorInterface: '', inspectInterface: 'redfish', supportsIso: true, driverInfo: (c) => redfishInfo(c, true),
      };
    case 'idrac-virtualmedia':
      return {
        kind, driver: 'idrac', bootInterface: 'idrac-redfish-virtual-media', biosInterface: 'idrac-redfish', firmwareInterface: 'redfish',
        managementInterface: 'idrac-redfish', powerInterface: 'idrac-redfish', raidInterface: 'idrac-redfish', vendorInterface: 'idrac-redfish',
        inspectInterface: 'redfish', supportsIso: true, driverInfo: (c) => redfishInfo(c, false),
      };
    default:
      throw new Error(`the replay does not cover BMC scheme ${scheme}`);
  }
}
