import { describe, expect, it } from 'vitest';
import { checkJsonLimits, jsonDepth, parseJsonBody } from '../../../services/api/body.ts';

const limits = { maxBytes: 1000, maxDepth: 5 };
const nested = (n: number): string => '['.repeat(n) + ']'.repeat(n);

describe('request bodies', () => {
  it('measures nesting on the text, skipping brackets inside strings and escapes', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('{"a":[{"b":{}}]}')).toBe(4);
    expect(jsonDepth('{"a":"[[[{{{\\"[[["}')).toBe(1);
    expect(jsonDepth(nested(1_000_000), 100)).toBe(101);
  });

  it('parses bodies within the depth limit and refuses deeper ones before parsing', () => {
    expect(parseJsonBody(nested(5), limits)).toEqual([[[[[]]]]]);
    expect(() => parseJsonBody(nested(6), limits)).toThrow('deeper than 5 levels (api.maxJsonDepth)');
    expect(() => parseJsonBody(nested(200_000), limits)).toThrow('deeper than 5 levels');
    expect(parseJsonBody('  ', limits)).toBeUndefined();
    expect(() => parseJsonBody('{"a":', limits)).toThrow('The request body is not valid JSON');
  });

  it('refuses __proto__ keys, however they are spelled', () => {
    for (const body of ['{"__proto__":{"x":1}}', '{"extra":{"__proto__":{"x":1}}}', '[{"\\u005f_proto__":1}]']) {
      expect(() => parseJsonBody(body, limits), body).toThrow('the key "__proto__", which is refused');
    }
    expect(parseJsonBody('{"constructor":{"prototype":1},"prototype":2}', limits)).toEqual({ constructor: { prototype: 1 }, prototype: 2 });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('refuses NUL in any string or key', () => {
    expect(() => parseJsonBody('{"description":"a\\u0000b"}', limits)).toThrow('NUL character in the value of "description"');
    expect(() => parseJsonBody('[["\\u0000"]]', limits)).toThrow('NUL character');
    expect(() => parseJsonBody('{"a\\u0000":1}', limits)).toThrow('a key with a NUL character');
    expect(parseJsonBody('{"a":"\\\\u0000"}', limits)).toEqual({ a: '\\u0000' });
  });

  it('checks a document against the same limits', () => {
    expect(() => checkJsonLimits({ a: [[[1]]] }, limits, 'node')).not.toThrow();
    expect(() => checkJsonLimits({ a: [[[[[1]]]]] }, limits, 'node')).toThrow('The node would nest deeper than 5 levels');
    expect(() => checkJsonLimits({ a: 'é'.repeat(500) }, limits, 'node')).toThrow('The node would be 1008 bytes of JSON, more than the 1000');
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => checkJsonLimits(deep, limits, 'node')).toThrow('would nest deeper');
  });
});
