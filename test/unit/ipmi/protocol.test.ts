// The RMCP+ codec and key arithmetic on their own: what one side encodes the other decodes, a
// tampered or truncated packet is refused, the boot flags keep their bits, and threshold sensor
// states read as health.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { CIPHER_SUITES, decryptPayload, deriveKeys, encryptPayload, rakp2AuthCode, rakp3AuthCode, sessionIntegrityKey, suiteFor, userKey } from '../../../drivers/ipmi/protocol/crypto.ts';
import { decodePacket, encodeV15, encodeV20 } from '../../../drivers/ipmi/protocol/packet.ts';
import { checksum, decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../../drivers/ipmi/protocol/message.ts';
import { decodeOpenSessionRequest, decodeRakp1, encodeOpenSessionRequest, encodeRakp1 } from '../../../drivers/ipmi/protocol/rakp.ts';
import { decodeBootFlags, encodeBootFlags } from '../../../drivers/ipmi/protocol/chassis.ts';
import { decodeFullSensor, encodeFullSensor } from '../../../drivers/ipmi/protocol/sdr.ts';
import { readingHealth, thresholdStatus, ThresholdBit, worstHealth } from '../../../drivers/ipmi/protocol/sensor-state.ts';

const inputs = {
  consoleSessionId: 0xa0a2a3a4, bmcSessionId: 0x12345678, consoleRandom: randomBytes(16), bmcRandom: randomBytes(16),
  bmcGuid: randomBytes(16), role: 0x14, username: Buffer.from('admin'),
};

describe('IPMI messages', () => {
  it('round-trips a request and its response with valid checksums', () => {
    const wire = encodeRequest({ netFn: 0x00, cmd: 0x02, data: Buffer.from([1]), rqSeq: 5 });
    expect(checksum(wire.subarray(0, 2))).toBe(wire[2]);
    const req = decodeRequest(wire)!;
    expect(req).toMatchObject({ netFn: 0, cmd: 2, rqSeq: 5, rsAddr: 0x20, rqAddr: 0x81 });
    const res = decodeResponse(encodeResponse(req, 0xd5, [9]))!;
    expect(res).toMatchObject({ netFn: 1, cmd: 2, rqSeq: 5, completion: 0xd5 });
    expect([...res.data]).toEqual([9]);
  });

  it('refuses a message with a broken checksum or too short', () => {
    const wire = encodeRequest({ netFn: 0x06, cmd: 0x01, data: Buffer.alloc(0), rqSeq: 1 });
    wire[wire.length - 1] ^= 1;
    expect(decodeRequest(wire)).toBeNull();
    expect(decodeRequest(Buffer.from([0x20, 0x18]))).toBeNull();
  });
});

describe('RMCP+ packets', () => {
  for (const suite of Object.values(CIPHER_SUITES)) {
    it(`encrypts and authenticates with cipher suite ${suite.id}, and refuses tampering`, () => {
      const keys = deriveKeys(suite, sessionIntegrityKey(suite, userKey('password'), inputs));
      const payload = encodeRequest({ netFn: 0, cmd: 1, data: Buffer.alloc(0), rqSeq: 3 });
      const wire = encodeV20({ payloadType: 0, sessionId: 77, sessionSeq: 9, payload }, keys);
      const got = decodePacket(wire, (id) => (id === 77 ? keys : undefined));
      expect(got).toMatchObject({ kind: 'v20', encrypted: true, authenticated: true, sessionId: 77, sessionSeq: 9 });
      expect(got!.payload.equals(payload)).toBe(true);
      for (const at of [5, 12, 20, wire.length - 1]) {
        const bad = Buffer.from(wire);
        bad[at] ^= 0x40;
        expect(decodePacket(bad, () => keys)).toBeNull();
      }
      for (let n = 0; n < wire.length; n++) expect(decodePacket(wire.subarray(0, n), () => keys)).toBeNull();
      // Unknown session: no keys, no packet.
      expect(decodePacket(wire, () => undefined)).toBeNull();
    });
  }

  it('pads AES-CBC payloads of every length and decrypts them back', () => {
    const keys = deriveKeys(CIPHER_SUITES[3], randomBytes(20));
    for (let n = 0; n < 40; n++) {
      const plain = randomBytes(n);
      const enc = encryptPayload(keys, plain);
      expect(enc.length % 16).toBe(0);
      expect(decryptPayload(keys, enc)!.equals(plain)).toBe(true);
    }
    expect(decryptPayload(keys, randomBytes(20))).toBeNull();
  });

  it('frames IPMI 1.5 pre-session packets', () => {
    const payload = encodeRequest({ netFn: 6, cmd: 0x38, data: Buffer.from([0x8e, 4]), rqSeq: 0 });
    const got = decodePacket(encodeV15({ sessionSeq: 0, sessionId: 0, payload }), () => undefined);
    expect(got).toMatchObject({ kind: 'v15', sessionId: 0 });
    expect(got!.payload.equals(payload)).toBe(true);
  });

  it('drops what is not RMCP', () => {
    for (const junk of [Buffer.alloc(0), Buffer.from([6, 0, 0xff, 6, 0x10]), randomBytes(3), Buffer.from('GET / HTTP/1.1\r\n')]) {
      expect(decodePacket(junk, () => undefined)).toBeNull();
    }
  });
});

describe('RAKP', () => {
  it('round-trips Open Session and RAKP 1', () => {
    const open = { tag: 7, maxPrivilege: 4, consoleSessionId: 99, auth: 3, integrity: 4, confidentiality: 1 };
    expect(decodeOpenSessionRequest(encodeOpenSessionRequest(open))).toEqual(open);
    expect(suiteFor(open.auth, open.integrity, open.confidentiality)?.id).toBe(17);
    const r1 = { tag: 7, bmcSessionId: 5, consoleRandom: randomBytes(16), role: 0x14, username: Buffer.from('root') };
    expect(decodeRakp1(encodeRakp1(r1))).toEqual(r1);
    const tooLong = encodeRakp1({ ...r1, username: Buffer.alloc(17, 0x61) });
    expect(decodeRakp1(tooLong)).toBeNull();
  });

  it('gives different auth codes for another password, the same for the same one', () => {
    const suite = CIPHER_SUITES[3];
    expect(rakp2AuthCode(suite, userKey('password'), inputs).equals(rakp2AuthCode(suite, userKey('password'), inputs))).toBe(true);
    expect(rakp2AuthCode(suite, userKey('password'), inputs).equals(rakp2AuthCode(suite, userKey('Password'), inputs))).toBe(false);
    expect(rakp3AuthCode(CIPHER_SUITES[17], userKey('x'), inputs)).toHaveLength(32);
  });
});

describe('boot flags and sensor records', () => {
  it('keeps valid, persistent, EFI and the device selector', () => {
    const flags = encodeBootFlags({ valid: true, persistent: true, efi: true, selector: 1 });
    expect([...flags]).toEqual([0xe0, 0x04, 0, 0, 0]);
    expect(decodeBootFlags(flags)).toMatchObject({ valid: true, persistent: true, efi: true, selector: 1 });
    expect(decodeBootFlags(Buffer.from([0x80, 0x08]))).toMatchObject({ valid: true, persistent: false, efi: false, selector: 2 });
    expect(decodeBootFlags(Buffer.from([0x80]))).toBeNull();
  });

  it('converts readings with M, B and exponents', () => {
    const record = encodeFullSensor({ recordId: 9, sensorNumber: 4, entityId: 7, sensorType: 2, unit: 4, m: 1, b: 0, bExp: 0, rExp: -1, thresholds: [0, 0, 0, 0, 0, 0], name: '12V' });
    const sensor = decodeFullSensor(record)!;
    expect(sensor).toMatchObject({ recordId: 9, sensorNumber: 4, sensorType: 2, unit: 4, name: '12V', threshold: true });
    expect(sensor.convert(121)).toBe(12.1);
    expect(decodeFullSensor(record.subarray(0, 20))).toBeNull();
  });
});

describe('threshold sensor states', () => {
  const thresholds: [number, number, number, number, number, number] = [0, 5, 10, 85, 90, 95];

  it('marks every threshold a reading is at or past, and reads health from the marks', () => {
    expect(thresholdStatus(45, thresholds)).toBe(0);
    expect(thresholdStatus(87, thresholds)).toBe(ThresholdBit.upperNonCritical);
    expect(thresholdStatus(92, thresholds)).toBe(ThresholdBit.upperNonCritical | ThresholdBit.upperCritical);
    expect(thresholdStatus(3, thresholds)).toBe(ThresholdBit.lowerNonCritical | ThresholdBit.lowerCritical);
    const health = (raw: number) => readingHealth(Buffer.from([raw, 0xc0, thresholdStatus(raw, thresholds)]));
    expect([45, 87, 92, 96, 8, 3, 0].map(health)).toEqual(['OK', 'Warning', 'Critical', 'Critical', 'Warning', 'Critical', 'Critical']);
  });

  it('takes no state from a reading that is unavailable, not scanned or too short', () => {
    expect(readingHealth(Buffer.from([0, 0xe0, ThresholdBit.upperCritical]))).toBeNull();
    expect(readingHealth(Buffer.from([92, 0x80, ThresholdBit.upperCritical]))).toBeNull();
    expect(readingHealth(Buffer.from([92, 0xc0]))).toBeNull();
  });

  it('keeps the worst health, null when none is known', () => {
    expect(worstHealth(['OK', null, 'Warning', 'OK'])).toBe('Warning');
    expect(worstHealth(['Warning', 'Critical', 'OK'])).toBe('Critical');
    expect(worstHealth([null, null])).toBeNull();
  });

  it('tells threshold sensors from others by the record\'s event/reading type', () => {
    const record = encodeFullSensor({ recordId: 1, sensorNumber: 1, entityId: 3, sensorType: 1, unit: 1, m: 1, b: 0, bExp: 0, rExp: 0, thresholds, name: 'CPU Temp' });
    record[5 + 8] = 0x6f; // sensor-specific discrete
    expect(decodeFullSensor(record)?.threshold).toBe(false);
  });
});
