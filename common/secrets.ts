// Ironic masks values under password/secret/token-like keys (oslo mask_dict_password); so do we,
// in API responses and in logs. Passwords written into URLs (`http://user:pw@host`) are masked too,
// wherever a string holds one.
import { createHash, randomBytes } from 'node:crypto';
import { encrypt } from 'unixcrypt';

const SECRET_KEY = /(password|passwd|secret|token|_key$|^key$|credential|configdrive|image_url|authorization|cookie)/i;
export const MASK = '******';

/**
 * scheme://user:PASSWORD@ — the user part has no ':', the password no '@', '/', '?' or '#'; neither
 * holds a quote or backslash, so on JSON text a match never leaves the string it starts in.
 */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"\\]*:)[^\s/?#@"\\]+@/gi;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** `text` with the password of every URL in it replaced by `******`. */
export function maskUrlPasswords(text: string): string {
  // The scans for both marks are much cheaper than the expression over a 1,000-node list.
  return text.includes('://') && text.includes('@') ? text.replace(URL_PASSWORD, `$1${MASK}@`) : text;
}

function isMaskedEntry(key: string, v: unknown): boolean {
  return isSecretKey(key) && v !== null && v !== undefined && v !== '';
}

/**
 * An Error as a log line shows it (type, message, stack, its own fields): its message and stack
 * are not enumerable, so a plain copy would keep nothing.
 */
function errorFields(err: Error): Record<string, unknown> {
  const own = Object.entries(err).filter(([k]) => k !== 'message' && k !== 'stack');
  return Object.fromEntries([
    ['type', err.name], ['message', err.message], ...(err.stack ? [['stack', err.stack]] : []), ...own,
    ...(err.cause !== undefined ? [['cause', err.cause]] : []),
  ]);
}

/** `ancestors`: the objects being copied above this one; meeting one again is a cycle (an HTTP error's request, say). */
function mask(value: unknown, ancestors: Set<object>): unknown {
  if (typeof value === 'string') return maskUrlPasswords(value);
  if (!value || typeof value !== 'object') return value;
  if (ancestors.has(value)) return '[Circular]';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => mask(v, ancestors));
    const fields = value instanceof Error ? errorFields(value) : (value as Record<string, unknown>);
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, isMaskedEntry(k, v) ? MASK : mask(v, ancestors)]));
  } finally {
    ancestors.delete(value);
  }
}

/**
 * A deep copy of `value` with every secret-looking key's value replaced by `******` and URL
 * passwords masked; Errors keep their type, message and stack. Keys are copied as own properties
 * (never through a setter), so a stored `__proto__` key stays a key and never changes the copy's
 * prototype.
 */
export function maskSecrets<T>(value: T): T {
  return mask(value, new Set()) as T;
}

/** Whether `value` (any JSON) holds a password in a URL. */
export function hasUrlPassword(value: unknown): boolean {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  return maskUrlPasswords(text) !== text;
}

/** Whether masking would hide anything in `value`. */
export function hasSecret(value: unknown): boolean {
  if (typeof value === 'string') return maskUrlPasswords(value) !== value;
  if (Array.isArray(value)) return value.some(hasSecret);
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).some(([k, v]) => isMaskedEntry(k, v) || hasSecret(v));
  }
  return false;
}

/** A fingerprint of a secret that can be stored and compared without keeping the secret itself. */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** crypt(3)'s salt alphabet. */
const CRYPT_SALT = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A password's sha512-crypt (`$6$SALT$...`) with a random 16-character salt, as /etc/shadow holds it (Ironic's rescue password hash). */
export function sha512Crypt(password: string): string {
  const salt = Array.from(randomBytes(16), (b) => CRYPT_SALT[b % 64]).join('');
  return encrypt(password, `$6$${salt}`);
}
