// The operator commands' HTTP client of the Anvil API: the URL and credentials from options or the
// environment (ANVIL_URL or OS_ENDPOINT; ANVIL_USERNAME/ANVIL_PASSWORD for http_basic, OS_TOKEN for
// Keystone), the latest microversion, and Ironic's error body turned back into its sentence.
import { AnvilError } from '../../common/errors.ts';

export interface ClientOptions {
  url?: string;
  username?: string;
  password?: string;
  token?: string;
}

export class ApiError extends AnvilError {
  constructor(message: string, readonly status: number) {
    super(message, status);
  }
}

export class ApiClient {
  readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(opts: ClientOptions, env: NodeJS.ProcessEnv = process.env) {
    this.base = (opts.url ?? env.ANVIL_URL ?? env.OS_ENDPOINT ?? 'http://127.0.0.1:6385').replace(/\/+$/, '');
    this.headers = { 'X-OpenStack-Ironic-API-Version': 'latest', Accept: 'application/json' };
    const user = opts.username ?? env.ANVIL_USERNAME;
    const token = opts.token ?? env.OS_TOKEN;
    if (user) this.headers.Authorization = `Basic ${Buffer.from(`${user}:${opts.password ?? env.ANVIL_PASSWORD ?? ''}`).toString('base64')}`;
    else if (token) this.headers['X-Auth-Token'] = token;
  }

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { ...this.headers, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new ApiError(`Cannot reach the Anvil API at ${this.base}: ${(err as Error).cause ? String((err as Error & { cause: Error }).cause.message) : (err as Error).message}`, 0);
    }
    const text = await res.text();
    if (!res.ok) throw new ApiError(`${method} ${path}: HTTP ${res.status}: ${faultOf(text)}`, res.status);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T = any>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** Every item of a collection, following the `next` links. */
  async all<T = any>(path: string, key: string): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = path;
    while (next) {
      const page: Record<string, unknown> = await this.get(next);
      out.push(...((page[key] as T[]) ?? []));
      const link = typeof page.next === 'string' ? new URL(page.next) : undefined;
      next = link ? `${link.pathname}${link.search}` : undefined;
    }
    return out;
  }
}

/** The faultstring inside Ironic's error body, or the body itself. */
function faultOf(text: string): string {
  try {
    const outer = JSON.parse(text);
    const inner = typeof outer.error_message === 'string' ? JSON.parse(outer.error_message) : outer.error_message;
    return inner?.faultstring ?? text;
  } catch {
    return text || 'no error message';
  }
}
