// The CA the agent verifies the API's certificate with, as IPA takes one for its calls to Ironic:
// `anvil.api_ca=` on the kernel command line carries the CA's PEM in base64 (written there by the
// netboot role from netboot.apiCa), or names a PEM file baked into the ramdisk. Without it the
// agent trusts the system's CAs only.
import { readFileSync } from 'node:fs';
import { Agent as Dispatcher } from 'undici';

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** The PEM of an `anvil.api_ca` value: an absolute file path, or base64 of the PEM. */
export function apiCaFrom(value: string): string {
  let text: string;
  if (value.startsWith('/')) {
    try {
      text = readFileSync(value, 'utf8');
    } catch (err) {
      throw new Error(`Cannot read the API CA file anvil.api_ca=${value}: ${(err as Error).message}`);
    }
  } else {
    text = Buffer.from(value, 'base64').toString('utf8');
  }
  if (!PEM.test(text)) throw new Error('anvil.api_ca holds no PEM certificate: give base64 of the CA\'s PEM or the path of a PEM file');
  return text;
}

/** A fetch dispatcher that trusts `ca` alone, for the agent's calls to the API. */
export function caDispatcher(ca: string): Dispatcher {
  return new Dispatcher({ connect: { ca } });
}

const UNTRUSTED = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE']);

/** The reason a call failed, saying how to fix a certificate the agent does not trust. */
export function connectError(err: unknown): string {
  const cause = (err as { cause?: { message?: string; code?: string } }).cause;
  const message = cause?.message ?? (err as Error).message;
  if (cause?.code && UNTRUSTED.has(cause.code)) return `${message}: the API's certificate is not signed by a CA the agent trusts (give the CA with anvil.api_ca= on the kernel command line, netboot.apiCa)`;
  return message;
}
