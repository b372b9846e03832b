// A node's `properties.capabilities`: Ironic keeps them as one "key:value,key:value" string
// (driver_utils.add_node_capability); a dict is also accepted on read, as Ironic's parser does.

/** The capabilities as a map, in their order; malformed parts (no colon) are skipped. */
export function parseCapabilities(raw: unknown): Map<string, string> {
  const caps = new Map<string, string>();
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [k, v] of Object.entries(raw)) caps.set(k, String(v));
    return caps;
  }
  if (typeof raw !== 'string') return caps;
  for (const part of raw.split(',')) {
    const at = part.indexOf(':');
    if (at <= 0) continue;
    caps.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return caps;
}

export function formatCapabilities(caps: ReadonlyMap<string, string>): string {
  return [...caps].map(([k, v]) => `${k}:${v}`).join(',');
}

/** `raw` with `changes` applied (a null value removes the key), as Ironic's string. */
export function withCapabilities(raw: unknown, changes: Record<string, string | null>): string {
  const caps = parseCapabilities(raw);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) caps.delete(k);
    else caps.set(k, v);
  }
  return formatCapabilities(caps);
}
