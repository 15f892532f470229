import { createPrivateKey, createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';

/*
 * Saleor's webhook signature (saleor/webhook/transport/__init__.py `signature_for_payload`, for a
 * webhook without the deprecated `secretKey`): `jwt_manager.jws_encode(body)`, which is PyJWT's
 * `api_jws.encode(body, key, algorithm="RS256", headers={"kid": ...}, is_payload_detached=True)`:
 *
 *   header    = base64url(JSON of {"alg":"RS256","b64":false,"kid":<kid>,"typ":"JWT"}, keys sorted, no spaces)
 *   signature = RS256 over `header + "." + body`, the body's bytes as they are sent (RFC 7797, b64 false)
 *   Saleor-Signature: `header + ".." + base64url(signature)` (the payload part left empty: detached)
 *
 * and the public key is served as a JWKS at `<saleor>/.well-known/jwks.json`. Saleor's kid is a
 * constant "1"; the stand-in's is the key's thumbprint, so a receiver that cached the JWKS of an
 * earlier start (a new key each start unless SALEOR_RSA_PRIVATE_KEY is set) sees an unknown kid
 * and fetches the JWKS again, where a constant kid would fail every signature until its cache expired.
 */

export interface WebhookSigner {
  readonly kid: string;
  /** `{ keys: [public JWK] }`, as Saleor serves it. */
  readonly jwks: { keys: JWK[] };
  /** The `Saleor-Signature` of a body. */
  sign(body: Buffer): string;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export async function createWebhookSigner(privateKeyPem?: string): Promise<WebhookSigner> {
  // (Generated off the event loop: an RSA key takes a good part of a second of CPU.)
  const privateKey: KeyObject = privateKeyPem
    ? createPrivateKey(privateKeyPem)
    : (await promisify(generateKeyPair)('rsa', { modulusLength: 2048 })).privateKey;
  if (privateKey.asymmetricKeyType !== 'rsa') throw new Error('SALEOR_RSA_PRIVATE_KEY must be an RSA private key (PEM)');
  const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(publicJwk);
  // PyJWT sorts the header's keys and writes JSON without spaces.
  const header = base64url(JSON.stringify({ alg: 'RS256', b64: false, kid, typ: 'JWT' }));
  return {
    kid,
    jwks: { keys: [{ ...publicJwk, use: 'sig', kid }] },
    sign(body) {
      const signature = sign('sha256', Buffer.concat([Buffer.from(`${header}.`), body]), privateKey);
      return `${header}..${base64url(signature)}`;
    },
  };
}
