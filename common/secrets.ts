// Ironic masks values under password/secret/token-like keys (oslo mask_dict_password); so do we,
// in API responses and in logs.
const SECRET_KEY = /(password|passwd|secret|token|_key$|^key$|credential|configdrive|image_url)/i;
export const MASK = '******';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A deep copy of `value` with every secret-looking key's value replaced by `******`. */
export function maskSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = isSecretKey(k) && v !== null && v !== undefined && v !== '' ? MASK : maskSecrets(v);
    }
    return out as T;
  }
  return value;
}
