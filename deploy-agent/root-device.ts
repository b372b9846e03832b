// Which disk receives the image: Ironic's root device hints (properties.root_device, overridden by
// instance_info.root_device) matched against the inventory's disks, as IPA's
// get_os_install_device does; without hints, the smallest disk big enough.
import type { InventoryDisk } from './inventory.ts';

type Json = Record<string, unknown>;

const GIB = 1024 ** 3;
const STRING_HINTS = ['serial', 'wwn', 'model', 'vendor', 'wwn_with_extension', 'wwn_vendor_extension', 'hctl', 'by_path'] as const;
const KNOWN = new Set<string>(['name', 'size', 'rotational', ...STRING_HINTS]);

/** The hints for a node: instance_info.root_device wins over properties.root_device. */
export function rootDeviceHints(node: Json | null | undefined): Json | null {
  const ii = (node?.instance_info ?? {}) as Json;
  const props = (node?.properties ?? {}) as Json;
  const hints = (ii.root_device ?? props.root_device) as Json | undefined;
  return hints && typeof hints === 'object' && Object.keys(hints).length ? hints : null;
}

/** `size` hints are GiB: a number, or "<op> N" with ==, !=, >=, <=, >, <. */
function sizeMatches(hint: unknown, bytes: number): boolean {
  const gib = Math.floor(bytes / GIB);
  if (typeof hint === 'number') return gib === hint;
  const m = /^\s*(==|!=|>=|<=|>|<|s==)?\s*(\d+)\s*$/.exec(String(hint));
  if (!m) throw new Error(`Invalid root device hint size "${String(hint)}"`);
  const n = Number(m[2]);
  switch (m[1] ?? '==') {
    case '!=': return gib !== n;
    case '>=': return gib >= n;
    case '<=': return gib <= n;
    case '>': return gib > n;
    case '<': return gib < n;
    default: return gib === n;
  }
}

export function matchesHints(disk: InventoryDisk, hints: Json): boolean {
  for (const [key, want] of Object.entries(hints)) {
    if (!KNOWN.has(key)) throw new Error(`Unknown root device hint "${key}"`);
    if (key === 'name') {
      const name = String(want).startsWith('/dev/') ? String(want) : `/dev/${String(want)}`;
      if (disk.name !== name) return false;
    } else if (key === 'size') {
      if (!sizeMatches(want, disk.size)) return false;
    } else if (key === 'rotational') {
      const wanted = typeof want === 'boolean' ? want : ['true', '1', 'yes', 'on'].includes(String(want).toLowerCase());
      if (disk.rotational !== wanted) return false;
    } else {
      const have = disk[key as (typeof STRING_HINTS)[number]];
      if (have === null || String(have).toLowerCase() !== String(want).toLowerCase()) return false;
    }
  }
  return true;
}

/** The disk for the image, or an error saying why none fits. */
export function pickRootDisk(disks: InventoryDisk[], hints: Json | null, minBytes: number): InventoryDisk {
  if (hints) {
    const found = disks.find((d) => matchesHints(d, hints));
    if (!found) throw new Error(`No disk matches the root device hints ${JSON.stringify(hints)} (disks: ${disks.map((d) => `${d.name} ${d.size} bytes`).join(', ') || 'none'})`);
    return found;
  }
  const chosen = disks.filter((d) => d.size >= minBytes).sort((a, b) => a.size - b.size)[0];
  if (!chosen) throw new Error(`No disk of at least ${minBytes} bytes found for the root device`);
  return chosen;
}
