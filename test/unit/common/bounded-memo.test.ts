import { describe, expect, it } from 'vitest';
import { BoundedMemo } from '../../../common/bounded-memo.ts';

describe('BoundedMemo', () => {
  it('makes a value once per key and starts over past its bound', () => {
    const memo = new BoundedMemo<object>(2);
    let made = 0;
    const make = () => ({ n: ++made });
    const a = memo.get('a', make);
    expect(memo.get('a', make)).toBe(a);
    memo.get('b', make);
    expect(made).toBe(2);
    memo.get('c', make); // a third key: the memo starts over, keeping only c
    expect(memo.get('a', make)).not.toBe(a);
    expect(made).toBe(4);
  });
});
