import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { ConfigError, isProduction } from '../kit/config.ts';
import type { SubgraphDeps } from '../kit/deps.ts';
import type { AuthSettings } from './settings.ts';

export interface SigningKey {
  key: CryptoKey;
  alg: 'EdDSA' | 'ES256';
  kid: string;
  /** What GET /.well-known/jwks.json serves. */
  jwks: { keys: JWK[] };
}

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y'] as const;

/**
 * The access-token signing key: AUTH_PRIVATE_JWK (a private JWK, Ed25519 or P-256) in
 * production; in development, generated once and kept in DATA_DIR/keys (never committed), so
 * tokens survive a restart. Imported once at start, never per request.
 */
export async function loadSigningKey({ config, settings }: AuthDeps): Promise<SigningKey> {
  let jwk: JWK;
  if (settings.AUTH_PRIVATE_JWK) {
    try {
      jwk = JSON.parse(settings.AUTH_PRIVATE_JWK) as JWK;
    } catch {
      throw new ConfigError('Invalid configuration: AUTH_PRIVATE_JWK: not valid JSON');
    }
  } else if (isProduction(config)) {
    throw new ConfigError('Invalid configuration: AUTH_PRIVATE_JWK: required when NODE_ENV=production');
  } else {
    jwk = await developmentKey(resolve(config.DATA_DIR, 'keys', 'auth-signing-key.jwk.json'));
  }
  const alg = jwk.crv === 'Ed25519' ? 'EdDSA' : jwk.crv === 'P-256' ? 'ES256' : undefined;
  if (!alg || !jwk.d) {
    throw new ConfigError('Invalid configuration: AUTH_PRIVATE_JWK: expected a private Ed25519 or P-256 JWK');
  }
  const key = (await importJWK(jwk, alg)) as CryptoKey;
  const publicJwk: JWK = Object.fromEntries(PUBLIC_MEMBERS.filter((m) => jwk[m]).map((m) => [m, jwk[m]]));
  const kid = jwk.kid ?? (await calculateJwkThumbprint(publicJwk));
  return { key, alg, kid, jwks: { keys: [{ ...publicJwk, kid, alg, use: 'sig' }] } };
}

async function developmentKey(path: string): Promise<JWK> {
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as JWK;
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

type AuthDeps = Pick<SubgraphDeps<AuthSettings>, 'config' | 'settings'>;

const loaded = new WeakMap<AuthSettings, Promise<SigningKey>>();

/** The signing key of these settings, loaded once per server (the JWKS route loads it at start). */
export function signingKey(deps: AuthDeps): Promise<SigningKey> {
  let key = loaded.get(deps.settings);
  if (!key) {
    key = loadSigningKey(deps);
    loaded.set(deps.settings, key);
  }
  return key;
}
