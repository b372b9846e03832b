import { describe, expect, it } from 'vitest';
import { applyPatch, type PatchOp } from '../../../services/api/jsonPatch.ts';

const rules = { allowed: new Set(['name', 'extra', 'list', 'other']), known: new Set(['uuid', 'name', 'extra', 'list', 'other']) };
const doc = () => ({ uuid: 'u', name: 'a', extra: { k: 1, 'a/b': 2, 'c~d': 3 }, list: [1, 2, 3], other: null });
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
    expect(out).toEqual({ uuid: 'u', name: 'a', extra: { k: 9, new: { x: 1 } }, list: [0, 2, 3, 4], other: 9 });
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
});
