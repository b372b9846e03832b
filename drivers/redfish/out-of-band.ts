// Redfish-family raid interfaces, by the names Metal3 sets at enrolment
// (`redfish`; on iDRAC `idrac-redfish`). They check the node's
// Redfish driver_info; they declare no steps yet (raid.create_configuration): a clean step naming one is refused as not supported when the conductor plans
// the steps (services/conductor/steps.ts). The bios, firmware and vendor interfaces are real (bios.ts, firmware.ts, vendor-passthru.ts).
import type { GenericInterface, InterfaceName } from '../interfaces.ts';
import { parseRedfishInfo, REDFISH_PROPERTIES } from './driver-info.ts';

/** The interfaces whose Redfish implementations exist by name only, for now. */
export const OUT_OF_BAND_INTERFACES = ['raid'] as const satisfies readonly InterfaceName[];

export function redfishOutOfBand(name: string): GenericInterface {
  return { name, properties: REDFISH_PROPERTIES, validate: (node) => void parseRedfishInfo(node) };
}
