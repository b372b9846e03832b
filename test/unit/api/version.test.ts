import { describe, expect, it } from 'vitest';
import { MAX_VERSION, parseVersion, VersionNotAcceptable } from '../../../services/api/version.ts';
import { parseBool, parsePage } from '../../../services/api/http.ts';

describe('microversion parsing', () => {
  it('reads 1.N, latest, and a missing header as 1.1', () => {
    expect(parseVersion(undefined)).toBe(1);
    expect(parseVersion('')).toBe(1);
    expect(parseVersion('1.78')).toBe(78);
    expect(parseVersion('LATEST')).toBe(MAX_VERSION);
    expect(MAX_VERSION).toBeGreaterThanOrEqual(89);
  });

  it('answers 406 for malformed or out-of-range versions', () => {
    for (const v of ['1.0', `1.${MAX_VERSION + 1}`, '2.1', '1', '1.x', 'v1.2', '1.2.3']) {
      expect(() => parseVersion(v), v).toThrow(VersionNotAcceptable);
    }
    expect(() => parseVersion(`1.${MAX_VERSION + 1}`)).toThrow(`The supported version range is: [1.1, 1.${MAX_VERSION}]`);
  });
});

describe('query parameters', () => {
  it('parses booleans strictly, as oslo bool_from_string', () => {
    expect(parseBool('x', 'True')).toBe(true);
    expect(parseBool('x', 'off')).toBe(false);
    expect(() => parseBool('maintenance', 'maybe')).toThrow('Invalid value for maintenance: "maybe"');
  });

  it('caps the limit, checks sort keys and directions', () => {
    const keys = new Set(['id', 'name']);
    expect(parsePage({}, 1000, keys)).toEqual({ limit: 1000, marker: undefined, sortKey: 'id', sortDir: 'asc' });
    expect(parsePage({ limit: '5000', sort_key: 'name', sort_dir: 'DESC', marker: 'm' }, 1000, keys)).toEqual({ limit: 1000, marker: 'm', sortKey: 'name', sortDir: 'desc' });
    expect(() => parsePage({ limit: '-1' }, 1000, keys)).toThrow('Limit must be positive');
    expect(() => parsePage({ limit: '2.5' }, 1000, keys)).toThrow('Invalid limit');
    expect(() => parsePage({ sort_key: 'driver_info' }, 1000, keys)).toThrow('invalid field for sorting');
    expect(() => parsePage({ sort_dir: 'sideways' }, 1000, keys)).toThrow('Invalid sort direction');
  });
});
