// Keystone sign-in for the console: the browser cannot reach Keystone itself (another origin,
// no CORS), so the API asks Keystone for a token with the user's own password and scope and hands
// the token back; the console then sends it as X-Auth-Token like any other client. The password
// goes nowhere else and is never logged.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AuthConfig } from '../../../common/config.ts';
import { AnvilError } from '../../../common/errors.ts';

export interface SignIn { username: string; password: string; project?: string; domain?: string; system?: boolean }

export async function keystoneSignIn(auth: AuthConfig, who: SignIn): Promise<{ token: string; expires_at: string }> {
  const ks = auth.keystone;
  const domain = { name: who.domain || 'Default' };
  const scope = who.system ? { system: { all: true } } : who.project ? { project: { name: who.project, domain } } : undefined;
  const body = { auth: { identity: { methods: ['password'], password: { user: { name: who.username, password: who.password, domain } } }, ...(scope ? { scope } : {}) } };
  let res;
  try {
    // axios is loaded by the first sign-in (as Keystone's client is): most APIs never sign anyone in this way.
    const { default: axios } = await import('axios');
    res = await axios.post(`${ks.authUrl}/auth/tokens`, body, {
      timeout: ks.timeout * 1000,
      validateStatus: () => true,
      httpsAgent: ks.caFile ? new https.Agent({ ca: readFileSync(ks.caFile) }) : undefined,
    });
  } catch (err) {
    throw new AnvilError(`Keystone could not be asked for a token: ${(err as Error).message}`, 503, 'ServiceUnavailable');
  }
  const token = res.headers['x-subject-token'];
  if (res.status === 201 && typeof token === 'string') return { token, expires_at: res.data?.token?.expires_at };
  if (res.status === 401) throw new AnvilError('Keystone refused the user name, password or project.', 401, 'Unauthorized');
  throw new AnvilError(`Keystone answered ${res.status} to the sign-in`, 503, 'ServiceUnavailable');
}
