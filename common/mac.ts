// MAC addresses in one spelling: lower-case byte pairs joined by colons, as Ironic stores port
// addresses. The API, the database, inspection, the netboot role and the agent all read MACs here.

/** 6 bytes (Ethernet) or 20 (InfiniBand GID-based), with ':' or '-' between the bytes. */
const MAC_RE = /^[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5}$|^[0-9a-f]{2}(?:[:-][0-9a-f]{2}){19}$/;

/** `text` as a canonical MAC, or undefined when it is no MAC address. */
export function canonicalMac(text: string): string | undefined {
  const t = text.toLowerCase();
  return MAC_RE.test(t) ? t.replace(/-/g, ':') : undefined;
}

/** The spelling a MAC is stored and looked up by; text that is no MAC stays as given, lower-cased (and matches no port). */
export function normalizeMac(text: string): string {
  const t = text.trim();
  return canonicalMac(t) ?? t.toLowerCase();
}
