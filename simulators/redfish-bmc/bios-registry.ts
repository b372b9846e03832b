// The simulated BIOS's attributes as a DMTF AttributeRegistry (AttributeRegistry.v1_3_0): what each
// attribute is (type, allowed values, bounds, read-only, reset required), its factory default, and
// the checks a BMC makes when a client PATCHes the settings object. Served from the Registries
// collection through a MessageRegistryFile, as iDRAC and iLO do (sushy's get_attribute_registry).
import { link, redfishError, type Json, type SimResponse } from './http.ts';

export type BiosValue = string | number | boolean;

interface AttributeSpec {
  name: string;
  display: string;
  type: 'Enumeration' | 'String' | 'Integer' | 'Boolean';
  default: BiosValue;
  values?: string[];
  lower?: number;
  upper?: number;
  minLength?: number;
  maxLength?: number;
  readOnly?: boolean;
  resetRequired?: boolean;
  unique?: boolean;
}

export const BIOS_REGISTRY_ID = 'BiosAttributeRegistry.v1_0_0';
export const REGISTRIES_PATH = '/redfish/v1/Registries';
const FILE_PATH = `${REGISTRIES_PATH}/${BIOS_REGISTRY_ID}`;
const DOCUMENT_PATH = `${FILE_PATH}/${BIOS_REGISTRY_ID}.json`;

// Names as Dell's BIOS registry spells them (BootMode, ProcTurboMode, ...), one of each Redfish type.
const ATTRIBUTES: readonly AttributeSpec[] = [
  { name: 'BootMode', display: 'Boot Mode', type: 'Enumeration', default: 'Uefi', values: ['Uefi', 'Bios', 'LegacyBios'], resetRequired: true },
  { name: 'ProcTurboMode', display: 'Turbo Boost', type: 'Enumeration', default: 'Enabled', values: ['Enabled', 'Disabled'], resetRequired: true },
  { name: 'ProcVirtualization', display: 'Virtualization Technology', type: 'Enumeration', default: 'Enabled', values: ['Enabled', 'Disabled'], resetRequired: true },
  { name: 'SriovGlobalEnable', display: 'SR-IOV Global Enable', type: 'Enumeration', default: 'Disabled', values: ['Enabled', 'Disabled'], resetRequired: true },
  { name: 'LogicalProc', display: 'Logical Processor', type: 'Enumeration', default: 'Enabled', values: ['Enabled', 'Disabled'], resetRequired: true },
  { name: 'NumLock', display: 'Keyboard NumLock', type: 'Boolean', default: true, resetRequired: false },
  { name: 'PxeDev1VlanId', display: 'PXE Device 1 VLAN ID', type: 'Integer', default: 0, lower: 0, upper: 4094, resetRequired: true },
  { name: 'AssetTag', display: 'Asset Tag', type: 'String', default: '', minLength: 0, maxLength: 63, resetRequired: false },
  { name: 'SystemServiceTag', display: 'Service Tag', type: 'String', default: 'SIM0001', minLength: 7, maxLength: 7, readOnly: true, unique: true },
];

const BY_NAME = new Map(ATTRIBUTES.map((a) => [a.name, a]));

/** Factory defaults (what Bios.ResetBios restores at the next reset). */
export function biosDefaults(): Record<string, BiosValue> {
  return Object.fromEntries(ATTRIBUTES.map((a) => [a.name, a.default]));
}

/** null when the change may be staged; else the 400 a BMC answers, naming the attribute. */
export function checkBiosChange(name: string, value: unknown): SimResponse | null {
  const spec = BY_NAME.get(name);
  if (!spec) return redfishError(400, 'Base.1.8.PropertyUnknown', `The attribute ${name} is not in the list of valid attributes for the resource.`);
  if (spec.readOnly) return redfishError(400, 'Base.1.8.PropertyNotWritable', `The property ${name} is a read only property and cannot be assigned a value.`, 'Remove the property from the request body and resubmit the request.');
  const typeError = () => redfishError(400, 'Base.1.8.PropertyValueTypeError', `The value ${JSON.stringify(value)} for the property ${name} is of a different type than the property can accept (${spec.type}).`);
  switch (spec.type) {
    case 'Enumeration':
      if (typeof value !== 'string') return typeError();
      if (!spec.values!.includes(value)) return redfishError(400, 'Base.1.8.PropertyValueNotInList', `The value ${value} for the property ${name} is not in the list of acceptable values.`, `Choose one of ${spec.values!.join(', ')}.`);
      return null;
    case 'Boolean':
      return typeof value === 'boolean' ? null : typeError();
    case 'Integer':
      if (!Number.isInteger(value)) return typeError();
      if ((value as number) < spec.lower! || (value as number) > spec.upper!) return redfishError(400, 'Base.1.8.PropertyValueOutOfRange', `The value ${String(value)} for the property ${name} is not in the supported range of ${spec.lower}-${spec.upper}.`);
      return null;
    case 'String':
      if (typeof value !== 'string') return typeError();
      if (value.length < (spec.minLength ?? 0) || value.length > (spec.maxLength ?? Infinity)) return redfishError(400, 'Base.1.8.PropertyValueFormatError', `The value for the property ${name} must be ${spec.minLength}-${spec.maxLength} characters long.`);
      return null;
  }
}

/** /redfish/v1/Registries and what is under it; null for other paths. */
export function registryResource(key: string): Json | null {
  if (key === REGISTRIES_PATH.toLowerCase()) {
    return { '@odata.id': REGISTRIES_PATH, '@odata.type': '#MessageRegistryFileCollection.MessageRegistryFileCollection', Name: 'Registry File Collection', 'Members@odata.count': 1, Members: [link(FILE_PATH)] };
  }
  if (key === FILE_PATH.toLowerCase()) {
    return {
      '@odata.id': FILE_PATH,
      '@odata.type': '#MessageRegistryFile.v1_1_0.MessageRegistryFile',
      Id: BIOS_REGISTRY_ID,
      Name: 'BIOS Attribute Registry File',
      Registry: BIOS_REGISTRY_ID,
      Languages: ['en'],
      Location: [{ Language: 'en', Uri: DOCUMENT_PATH }],
    };
  }
  if (key === DOCUMENT_PATH.toLowerCase()) return registryDocument();
  return null;
}

function registryDocument(): Json {
  return {
    '@odata.id': DOCUMENT_PATH,
    '@odata.type': '#AttributeRegistry.v1_3_0.AttributeRegistry',
    Id: BIOS_REGISTRY_ID,
    Name: 'BIOS Attribute Registry',
    Language: 'en',
    OwningEntity: 'Anvil',
    RegistryVersion: '1.0.0',
    SupportedSystems: [{ ProductName: 'Anvil simulated system', SystemId: 'ANVIL-SIM', FirmwareVersion: '2.1.0' }],
    RegistryEntries: {
      Attributes: ATTRIBUTES.map((a) => {
        const entry: Json = {
          AttributeName: a.name, DisplayName: a.display, Type: a.type, DefaultValue: a.default,
          ReadOnly: a.readOnly ?? false, ResetRequired: a.resetRequired ?? false, IsSystemUniqueProperty: a.unique ?? false,
        };
        if (a.values) entry.Value = a.values.map((v) => ({ ValueName: v, ValueDisplayName: v }));
        if (a.lower !== undefined) { entry.LowerBound = a.lower; entry.UpperBound = a.upper; }
        if (a.minLength !== undefined) { entry.MinLength = a.minLength; entry.MaxLength = a.maxLength; }
        return entry;
      }),
    },
  };
}
