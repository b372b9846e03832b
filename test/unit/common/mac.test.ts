import { describe, expect, it } from 'vitest';
import { canonicalMac, normalizeMac } from '../../../common/mac.ts';
import { parseBootif } from '../../../deploy-agent/main.ts';
import { checkMac } from '../../../services/api/validation.ts';

describe('one spelling of MAC addresses', () => {
  it('reads colon and dash forms, upper or lower case, Ethernet and InfiniBand', () => {
    for (const text of ['52:54:00:AA:bb:0C', '52-54-00-aa-BB-0c', '52:54-00:aa-bb:0c']) expect(canonicalMac(text)).toBe('52:54:00:aa:bb:0c');
    const ib = Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(2, '0')).join('-');
    expect(canonicalMac(ib)).toBe(ib.replace(/-/g, ':'));
  });

  it('refuses what is no MAC', () => {
    for (const text of ['', 'not-a-mac', '525400aabb0c', '52:54:00:aa:bb', '52:54:00:aa:bb:0c:', '52:54:00:aa:bb:0g', ' 52:54:00:aa:bb:0c']) expect(canonicalMac(text)).toBeUndefined();
    expect(() => checkMac('525400aabb0c')).toThrow('Expected a MAC address but received 525400aabb0c.');
  });

  it('gives the API, the database, the netboot role and the agent the same answer', () => {
    const dashed = '52-54-00-AA-BB-0C';
    expect(checkMac(dashed)).toBe('52:54:00:aa:bb:0c');
    expect(normalizeMac(` ${dashed}\n`)).toBe('52:54:00:aa:bb:0c');
    expect(parseBootif(`01-${dashed}`)).toBe('52:54:00:aa:bb:0c');
    expect(parseBootif(dashed)).toBe('52:54:00:aa:bb:0c');
    // Text that is no MAC is stored as given, lower-cased, and so matches no port.
    expect(normalizeMac(' Garbage ')).toBe('garbage');
  });
});
