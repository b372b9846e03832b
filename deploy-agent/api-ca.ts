// The CA the agent verifies the API's certificate with, as IPA takes one for its calls to Ironic:
// `anvil.api_ca=` on the kernel command line carries the CA certificate in base64 (DER, as the
// netboot role writes it from netboot.apiCa, about 1 KB for RSA-2048 — x86 kernels keep only 2048
// bytes of command line — or a whole PEM), or names a PEM file baked into the ramdisk. Without it the
// agent trusts the system's CAs only.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { Dispatcher } from 'undici';

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

const NO_CERT = 'anvil.api_ca holds no certificate: give base64 of the CA certificate (DER or PEM) or the path of a PEM file';

/** The PEM of an `anvil.api_ca` value: an absolute file path, or base64 of the certificate's DER or PEM. */
export function apiCaFrom(value: string): string {
  if (value.startsWith('/')) {
    let text: string;
    try {
      text = readFileSync(value, 'utf8');
    } catch (err) {
      throw new Error(`Cannot read the API CA file anvil.api_ca=${value}: ${(err as Error).message}`);
    }
    if (!PEM.test(text)) throw new Error(NO_CERT);
    return text;
  }
  const bytes = Buffer.from(value, 'base64');
  if (PEM.test(bytes.toString('utf8'))) return bytes.toString('utf8');
  try {
    return new X509Certificate(bytes).toString();
  } catch {
    throw new Error(NO_CERT);
  }
}

/**
 * A fetch dispatcher that trusts Node's CAs and `ca`, for image downloads: images may come from anywhere.
 * undici is loaded here, when first needed: evaluating it slowed every agent's start in a slow VM.
 */
export async function downloadDispatcher(ca: string): Promise<Dispatcher> {
  const { Agent } = await import('undici');
  return new Agent({ connect: { ca: [...rootCertificates, ca] } });
}

const UNTRUSTED = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE']);

/** The reason a call failed, saying how to fix a certificate the agent does not trust. */
export function connectError(err: unknown): string {
  // fetch's errors carry the socket's error as their cause; node:http's are that error.
  const cause = (err as { cause?: { message?: string; code?: string } }).cause ?? (err as { message?: string; code?: string });
  const message = cause?.message ?? (err as Error).message;
  if (cause?.code && UNTRUSTED.has(cause.code)) return `${message}: the API's certificate is not signed by a CA the agent trusts (give the CA with anvil.api_ca= on the kernel command line, netboot.apiCa)`;
  return message;
}
