// Per-node, expiring, unguessable URLs for what nodes download (as Swift's temp URLs): the path,
// the node and the expiry time signed with HMAC-SHA256 under a key only the signing process
// holds. The image server answers only requests whose signature matches and has not expired.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type Verdict = 'ok' | 'missing' | 'invalid' | 'expired';

export class UrlSigner {
  constructor(private readonly key: Buffer = randomBytes(32), private readonly now: () => number = Date.now) {}

  private mac(pathname: string, node: string, expires: number): Buffer {
    return createHmac('sha256', this.key).update(`${pathname}\n${node}\n${expires}`).digest();
  }

  /** The query string that makes `pathname` fetchable by `node` for `ttlSeconds`. */
  sign(pathname: string, node: string, ttlSeconds: number): string {
    const expires = Math.floor(this.now() / 1000) + Math.ceil(ttlSeconds);
    const params = new URLSearchParams({ node, temp_url_expires: String(expires), temp_url_sig: this.mac(pathname, node, expires).toString('base64url') });
    return params.toString();
  }

  verify(pathname: string, query: URLSearchParams): Verdict {
    const node = query.get('node');
    const expires = Number(query.get('temp_url_expires'));
    const sig = query.get('temp_url_sig');
    if (!node || !sig || !Number.isSafeInteger(expires)) return 'missing';
    const given = Buffer.from(sig, 'base64url');
    const wanted = this.mac(pathname, node, expires);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return 'invalid';
    return expires * 1000 < this.now() ? 'expired' : 'ok';
  }
}

const SIGNATURE_PARAMS = ['node', 'temp_url_expires', 'temp_url_sig'];

/** The URL without its signature: the same image, whichever node's URL names it. */
export function unsignedUrl(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has('temp_url_sig')) return url;
  for (const p of SIGNATURE_PARAMS) u.searchParams.delete(p);
  return u.toString();
}
