import { describe, expect, it } from 'vitest';
import { applyPatch, type PatchOp } from '../../../services/api/jsonPatch.ts';

const rules = { allowed: new Set(['name', 'extra', 'list', 'other', 'secrets']), known: new Set(['uuid', 'name', 'extra', 'list', 'other', 'secrets']), masked: new Set(['secrets']), limits: { maxBytes: 4096, maxDepth: 10 } };
const doc = () => ({ uuid: 'u', name: 'a', extra: { k: 1, 'a/b': 2, 'c~d': 3 }, list: [1, 2, 3], other: null, secrets: { user: 'admin', password: 'hunter2', nested: { url: 'http://admin:pw@bmc/' } } });
const apply = (ops: PatchOp[]) => applyPatch(doc(), ops, rules);

describe('JSON patch with Ironic\'s rules', () => {
  it('applies RFC 6902 operations and reports the root fields touched', () => {
    const { doc: out, touched } = apply([
      { op: 'add', path: '/extra/new', value: { x: 1 } },
      { op: 'replace', path: '/extra/k', value: 9 },
      { op: 'remove', path: '/extra/a~1b' },
      { op: 'remove', path: '/extra/c~0d' },
      { op: 'add', path: '/list/-', value: 4 },
      { op: 'add', path: '/list/0', value: 0 },
      { op: 'remove', path: '/list/1' },
      { op: 'test', path: '/name', value: 'a' },
      { op: 'copy', from: '/extra/k', path: '/other' },
    ]);
    expect(out).toEqual({ ...doc(), extra: { k: 9, new: { x: 1 } }, list: [0, 2, 3, 4], other: 9 });
    expect([...touched].sort()).toEqual(['extra', 'list', 'other']);
  });

  it('turns a removed root field into null and `add` of a known root field into a replace', () => {
    const { doc: out } = apply([{ op: 'remove', path: '/extra' }, { op: 'add', path: '/name', value: 'b' }]);
    expect(out.extra).toBeNull();
    expect(out.name).toBe('b');
  });

  it('moves values, nulling a moved root field', () => {
    const { doc: out, touched } = apply([{ op: 'move', from: '/name', path: '/other' }]);
    expect(out).toMatchObject({ name: null, other: 'a' });
    expect([...touched].sort()).toEqual(['name', 'other']);
  });

  it('leaves the input untouched', () => {
    const input = doc();
    applyPatch(input, [{ op: 'add', path: '/extra/z', value: 1 }], rules);
    expect(input.extra).toEqual({ k: 1, 'a/b': 2, 'c~d': 3 });
  });

  it('refuses what Ironic refuses', () => {
    const cases: [PatchOp[], string][] = [
      [[{ op: 'add', path: '/colour', value: 1 }], 'Adding a new attribute (/colour) to the root of the resource is not allowed'],
      [[{ op: 'replace', path: '/uuid', value: 'x' }], "'/uuid' is an internal attribute and can not be updated"],
      [[{ op: 'remove', path: '/extra/missing' }], "can't remove non-existent object 'missing'"],
      [[{ op: 'replace', path: '/extra/missing/deeper', value: 1 }], "can't resolve path"],
      [[{ op: 'add', path: '/list/9', value: 1 }], 'out of range'],
      [[{ op: 'add', path: '/list/x', value: 1 }], 'invalid array index'],
      [[{ op: 'test', path: '/name', value: 'zzz' }], 'test failed'],
      [[{ op: 'replace', path: '/name' }], "'value' is a required property"],
      [[{ op: 'move', path: '/name' }], "'from' is a required property"],
      [[{ op: 'replace', path: '/', value: {} }], 'root of the resource'],
    ];
    for (const [ops, message] of cases) expect(() => apply(ops), JSON.stringify(ops)).toThrow(message);
  });

  it('never walks or sets a prototype: __proto__, constructor and prototype in a path are refused', () => {
    const paths = ['/extra/__proto__/polluted', '/extra/constructor/prototype/polluted', '/__proto__', '/extra/a/prototype', '/list/constructor'];
    for (const path of paths) {
      for (const op of [{ op: 'add', path, value: 'yes' }, { op: 'replace', path, value: 'yes' }, { op: 'remove', path }, { op: 'test', path, value: 1 }, { op: 'copy', from: path, path: '/other' }, { op: 'move', from: '/extra/k', path }] as PatchOp[]) {
        expect(() => apply([op]), JSON.stringify(op)).toThrow(/names the prototype machinery of JavaScript objects/);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('reads only own fields: an inherited name (toString, hasOwnProperty) is not there', () => {
    expect(() => apply([{ op: 'copy', from: '/extra/toString', path: '/other' }])).toThrow("non-existent object 'toString'");
    expect(() => apply([{ op: 'add', path: '/extra/hasOwnProperty/x', value: 1 }])).toThrow("can't resolve path");
    expect(() => apply([{ op: 'remove', path: '/extra/valueOf' }])).toThrow("can't remove non-existent object 'valueOf'");
  });

  it('keeps a stored __proto__ key a plain key, never a prototype', () => {
    const stored = { ...doc(), extra: JSON.parse('{"__proto__": {"polluted": 1}, "k": 1}') };
    const { doc: out } = applyPatch(stored, [{ op: 'add', path: '/extra/k', value: 2 }], rules);
    const extra = out.extra as Record<string, unknown>;
    expect(Object.getPrototypeOf(extra)).toBe(Object.prototype);
    expect(extra.polluted).toBeUndefined();
    expect(extra.k).toBe(2);
  });

  it('treats secrets in masked fields as write-only: no copy, move or test reads them', () => {
    const refused: PatchOp[] = [
      { op: 'copy', from: '/secrets/password', path: '/extra/x' },
      { op: 'move', from: '/secrets/password', path: '/extra/x' },
      { op: 'test', path: '/secrets/password', value: 'hunter2' },
      { op: 'test', path: '/secrets/password', value: 'wrong' },
      { op: 'copy', from: '/secrets', path: '/other' },
      { op: 'test', path: '/secrets', value: {} },
      { op: 'copy', from: '/secrets/nested/url', path: '/other' },
      { op: 'move', from: '/secrets/nested', path: '/other' },
    ];
    refused.push({ op: 'copy', from: '/extra/url', path: '/other' }, { op: 'test', path: '/extra', value: {} });
    const withUrl = { ...doc(), extra: { url: 'https://u:pw@host/' } };
    for (const op of refused) expect(() => applyPatch(withUrl, [op], rules), JSON.stringify(op)).toThrow(/is or holds a secret, which is write-only/);
    const { doc: out } = apply([
      { op: 'copy', from: '/secrets/user', path: '/extra/u' },
      { op: 'test', path: '/secrets/user', value: 'admin' },
      { op: 'replace', path: '/secrets/password', value: 'new' },
      { op: 'remove', path: '/secrets/nested' },
    ]);
    expect(out.secrets).toEqual({ user: 'admin', password: 'new' });
    expect((out.extra as Record<string, unknown>).u).toBe('admin');
  });

  it('refuses a patched resource deeper or larger than a request body may be', () => {
    const deep = (n: number): unknown => (n === 0 ? 1 : { d: deep(n - 1) });
    expect(() => apply([{ op: 'add', path: '/extra/d', value: deep(8) }])).not.toThrow();
    expect(() => apply([{ op: 'add', path: '/extra/d', value: deep(9) }])).toThrow('would nest deeper than 10 levels (api.maxJsonDepth)');
    // Depth grows op by op: each add nests the last one deeper.
    const ops: PatchOp[] = [{ op: 'add', path: '/extra/d', value: deep(5) }, { op: 'add', path: '/extra/d/d/d/d/d/d', value: deep(5) }];
    expect(() => apply(ops)).toThrow('would nest deeper');
    expect(() => apply([{ op: 'add', path: '/extra/big', value: 'x'.repeat(5000) }])).toThrow(/would be \d+ bytes of JSON, more than the 4096 a request may carry/);
  });
});
