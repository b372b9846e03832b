// Numbers from the IPMI 2.0 specification that the codec, the clients and the simulator share.

/** Network functions (requests; a response is netFn | 1). */
export const NetFn = { chassis: 0x00, sensor: 0x04, app: 0x06, storage: 0x0a } as const;

export const Cmd = {
  // chassis
  getChassisStatus: 0x01,
  chassisControl: 0x02,
  setSystemBootOptions: 0x08,
  getSystemBootOptions: 0x09,
  // app
  getDeviceId: 0x01,
  coldReset: 0x02,
  warmReset: 0x03,
  getDeviceGuid: 0x08,
  getChannelAuthCapabilities: 0x38,
  setSessionPrivilegeLevel: 0x3b,
  closeSession: 0x3c,
  activatePayload: 0x48,
  deactivatePayload: 0x49,
  getChannelCipherSuites: 0x54,
  // sensor/event
  getSensorThresholds: 0x27,
  getSensorReading: 0x2d,
  // storage
  getSdrRepositoryInfo: 0x20,
  reserveSdrRepository: 0x22,
  getSdr: 0x23,
} as const;

/** Completion codes (IPMI 2.0 table 5-2). */
export const Completion = {
  ok: 0x00,
  nodeBusy: 0xc0,
  invalidCommand: 0xc1,
  timeout: 0xc3,
  reservationCancelled: 0xc5,
  requestTruncated: 0xc6,
  requestLengthInvalid: 0xc7,
  parameterOutOfRange: 0xc9,
  cannotReturnRequestedBytes: 0xca,
  notPresent: 0xcb,
  invalidDataField: 0xcc,
  insufficientPrivilege: 0xd4,
  notSupportedInPresentState: 0xd5,
  unspecified: 0xff,
  /** Get System Boot Options: parameter not supported (command-specific 0x80). */
  parameterNotSupported: 0x80,
} as const;

const COMPLETION_TEXT: Record<number, string> = {
  0xc0: 'Node busy', 0xc1: 'Invalid command', 0xc2: 'Invalid command on LUN', 0xc3: 'Timeout',
  0xc4: 'Out of space', 0xc5: 'Reservation cancelled or invalid', 0xc6: 'Request data truncated',
  0xc7: 'Request data length invalid', 0xc8: 'Request data field length limit exceeded',
  0xc9: 'Parameter out of range', 0xca: 'Cannot return number of requested data bytes',
  0xcb: 'Requested sensor, data, or record not found', 0xcc: 'Invalid data field in request',
  0xcd: 'Command illegal for specified sensor or record type', 0xce: 'Command response could not be provided',
  0xcf: 'Cannot execute duplicated request', 0xd0: 'SDR repository in update mode',
  0xd1: 'Device firmware in update mode', 0xd2: 'BMC initialization in progress', 0xd3: 'Destination unavailable',
  0xd4: 'Insufficient privilege level', 0xd5: 'Command not supported in present state',
  0xd6: 'Command sub-function disabled or unavailable', 0xff: 'Unspecified error',
};

export function completionText(cc: number): string {
  return COMPLETION_TEXT[cc] ?? `completion code 0x${cc.toString(16).padStart(2, '0')}`;
}

/** RMCP+ payload types (low 6 bits of the payload type byte). */
export const Payload = {
  ipmi: 0x00,
  sol: 0x01,
  openSessionRequest: 0x10,
  openSessionResponse: 0x11,
  rakp1: 0x12,
  rakp2: 0x13,
  rakp3: 0x14,
  rakp4: 0x15,
} as const;

/** RMCP+ and RAKP message status codes (IPMI 2.0 table 13-15). */
export const RakpStatus = {
  ok: 0x00,
  insufficientResources: 0x01,
  invalidSessionId: 0x02,
  invalidPayloadType: 0x03,
  invalidAuthAlgorithm: 0x04,
  invalidIntegrityAlgorithm: 0x05,
  invalidRole: 0x09,
  unauthorizedRole: 0x0a,
  invalidNameLength: 0x0c,
  unauthorizedName: 0x0d,
  invalidIntegrityCheck: 0x0f,
  invalidConfidentialityAlgorithm: 0x10,
  noCipherSuiteMatch: 0x11,
  illegalParameter: 0x12,
} as const;

const RAKP_TEXT: Record<number, string> = {
  0x01: 'insufficient resources to create a session', 0x02: 'invalid session ID', 0x03: 'invalid payload type',
  0x04: 'invalid authentication algorithm', 0x05: 'invalid integrity algorithm', 0x06: 'no matching authentication payload',
  0x07: 'no matching integrity payload', 0x08: 'inactive session ID', 0x09: 'invalid role',
  0x0a: 'unauthorized role or privilege level requested', 0x0b: 'insufficient resources to create a session at the requested role',
  0x0c: 'invalid name length', 0x0d: 'unauthorized name', 0x0e: 'unauthorized GUID', 0x0f: 'invalid integrity check value',
  0x10: 'invalid confidentiality algorithm', 0x11: 'no cipher suite match with proposed security algorithms',
  0x12: 'illegal or unrecognized parameter',
};

export function rakpStatusText(status: number): string {
  return RAKP_TEXT[status] ?? `RMCP+ status 0x${status.toString(16).padStart(2, '0')}`;
}

/** Privilege levels. */
export const Privilege = { callback: 1, user: 2, operator: 3, administrator: 4, oem: 5 } as const;

/** Chassis Control sub-commands. */
export const ChassisControl = { powerDown: 0, powerUp: 1, powerCycle: 2, hardReset: 3, diagnosticInterrupt: 4, softShutdown: 5 } as const;

/** Boot flags (boot option parameter 5) device selector values (bits 5:2 of data byte 2). */
export const BootSelector = { none: 0, pxe: 1, disk: 2, safe: 3, diag: 4, cdrom: 5, bios: 6, floppy: 15 } as const;

/** Boot option parameter numbers. */
export const BootParam = { setInProgress: 0, flagValidClearing: 3, infoAck: 4, flags: 5 } as const;
