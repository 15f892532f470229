import { createRemoteJWKSet, errors, type FlattenedJWSInput, type JWSHeaderParameters } from 'jose';

/*
 * Checks a Saleor-Signature as Saleor makes it (subgraphs/saleor/webhooks/signer.ts has the
 * details and the sources): a JWS in compact form with the payload detached (`<header>..<sig>`),
 * RS256, its header `{"alg":"RS256","b64":false,"kid":...}`: the signature covers
 * `<header>.<body bytes as received>` (RFC 7797), so only the exact bytes verify; a body parsed
 * and serialised again would not.
 *
 * jose's flattenedVerify honours `b64: false` only when `crit` lists it, which the PyJWT that
 * Saleor signs with does not write; given the raw body it would still check the signature and
 * then try to base64url-decode the body. So the key comes from jose (the JWKS, fetched and cached,
 * refetched on an unknown kid) and the RS256 check is WebCrypto's, over the signing input built here.
 */

export type VerifyResult = 'valid' | 'invalid' | 'unavailable';

const MAX_SIGNATURE_LENGTH = 8 * 1024;

export interface SignatureVerifier {
  (signature: string | undefined, body: Buffer): Promise<VerifyResult>;
}

function decodeHeader(part: string): JWSHeaderParameters | null {
  try {
    const header: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return header && typeof header === 'object' && !Array.isArray(header) ? (header as JWSHeaderParameters) : null;
  } catch {
    return null;
  }
}

export function createSignatureVerifier(jwksUrl: string): SignatureVerifier {
  // A new kid (the stand-in restarted) refetches at most every 30 s; keys are kept 10 minutes.
  const jwks = createRemoteJWKSet(new URL(jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 5_000 });
  // Saleor rotates its key under the same kid ("1"): a signature that fails against the cached
  // key reloads the JWKS once and is checked again, at most once a minute whoever sends failures.
  let lastReload = 0;

  async function check(header: JWSHeaderParameters, protectedPart: string, signaturePart: string, body: Buffer): Promise<VerifyResult> {
    let key: CryptoKey;
    try {
      key = (await jwks(header, { protected: protectedPart, payload: '', signature: signaturePart } satisfies FlattenedJWSInput)) as CryptoKey;
    } catch (error) {
      // No key of Saleor's has this kid (nor one for RS256): not Saleor's signature.
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return 'invalid';
      // Saleor's JWKS unreachable or not a JWKS (down, or SALEOR_JWKS_URL wrong): ours to fix and
      // retry (Saleor retries a 5xx), not the sender's fault.
      return 'unavailable';
    }
    const data = Buffer.concat([Buffer.from(`${protectedPart}.`, 'ascii'), body]);
    try {
      const ok = await crypto.subtle.verify({ name: 'RSASSA-PKCS1-v1_5' }, key, Buffer.from(signaturePart, 'base64url'), data);
      return ok ? 'valid' : 'invalid';
    } catch {
      return 'invalid';
    }
  }

  return async (signature, body) => {
    if (!signature || signature.length > MAX_SIGNATURE_LENGTH) return 'invalid';
    const parts = signature.split('.');
    if (parts.length !== 3 || parts[1] !== '' || !parts[0] || !parts[2]) return 'invalid';
    const [protectedPart, , signaturePart] = parts as [string, string, string];
    const header = decodeHeader(protectedPart);
    if (!header || header.alg !== 'RS256' || header.b64 !== false) return 'invalid';
    if (header.crit !== undefined && !(Array.isArray(header.crit) && header.crit.every((name) => name === 'b64'))) return 'invalid';
    const verdict = await check(header, protectedPart, signaturePart, body);
    if (verdict !== 'invalid' || Date.now() - lastReload < 60_000) return verdict;
    lastReload = Date.now();
    try {
      await jwks.reload();
    } catch {
      return 'invalid';
    }
    return check(header, protectedPart, signaturePart, body);
  };
}
