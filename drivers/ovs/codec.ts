// OVSDB's wire format (RFC 7047): JSON-RPC 1.0 objects sent back to back on a stream with no
// framing, and the JSON notation of OVSDB values (["uuid", ...], ["set", [...]], ["map", [...]]).
// Bytes in, messages out; no sockets here.

export interface RpcMessage {
  id: string | number | null;
  method?: string;
  params?: unknown[];
  result?: unknown;
  error?: unknown;
}

/** Splits a byte stream into whole JSON texts: feed chunks, get the complete messages so far. */
export class JsonStreamSplitter {
  private buffer = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scanned = 0;

  push(chunk: string): RpcMessage[] {
    this.buffer += chunk;
    const out: RpcMessage[] = [];
    let start = 0;
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth === 0) {
          out.push(JSON.parse(this.buffer.slice(start, i + 1)) as RpcMessage);
          start = i + 1;
        }
      }
    }
    // What is left is a partial message, or whitespace between messages.
    this.buffer = this.buffer.slice(start);
    if (this.depth === 0) this.buffer = this.buffer.trimStart();
    this.scanned = this.buffer.length;
    return out;
  }
}

export type Uuid = ['uuid', string];
export type NamedUuid = ['named-uuid', string];

/** An OVSDB set of atoms (a one-element set may be sent bare; Anvil always sends the long form). */
export function ovsSet<T>(items: readonly T[]): ['set', T[]] {
  return ['set', [...items]];
}

export function ovsMap(entries: Record<string, string>): ['map', [string, string][]] {
  return ['map', Object.entries(entries)];
}

/** The atoms of a set column as the server sends it: a bare atom, or ["set", [...]]. */
export function setItems<T>(value: unknown): T[] {
  if (Array.isArray(value) && value[0] === 'set') return value[1] as T[];
  if (value === undefined) return [];
  return [value as T];
}

export function uuidOf(value: unknown): string {
  return (value as Uuid)[1];
}
