// Values made once per key and reused, for things costly to make (compiled decoders and
// renderers, hash rings) whose keys a client can vary (fields=, conductor sets): past `max` keys
// the memo starts over instead of growing.
export class BoundedMemo<V> {
  private readonly values = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(key: string, make: () => V): V {
    let value = this.values.get(key);
    if (value === undefined) {
      if (this.values.size >= this.max) this.values.clear();
      value = make();
      this.values.set(key, value);
    }
    return value;
  }
}
