import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, createLocalJWKSet, importJWK, SignJWT, type JWK } from 'jose';
import { configSchema } from '../../subgraphs/kit/config.ts';
import { parseGatewayConfig, type GatewayConfig } from '../../gateway/config.ts';
import type { Database } from '../../subgraphs/kit/db/database.ts';
import { migrate, migrateUrl, type MigrationTarget } from '../../subgraphs/kit/db/migrate.ts';
import { createRedis, redisConfigured } from '../../subgraphs/kit/redis.ts';
import { createTokenVerifier, type Role, type TokenVerifier } from '../../subgraphs/kit/principal.ts';
import { checkingRevocation } from '../../subgraphs/kit/revocation.ts';
import { createLogger } from '../../subgraphs/kit/logger.ts';
import { openDatabase, ownerRunner, type SubgraphDeps } from '../../subgraphs/kit/deps.ts';
import { createTestDatabase, redisReachable, REDIS_URL, uniqueSuffix, type TestDatabase } from './services.ts';
import { teardownStep } from './teardown.ts';

export interface TestKeys {
  privateJwk: JWK;
  publicJwks: { keys: JWK[] };
}

/** A fresh Ed25519 signing key for one test file (what AUTH_PRIVATE_JWK holds in production). */
export async function createTestKeys(): Promise<TestKeys> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const kid = `test-${uniqueSuffix()}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  return { privateJwk, publicJwks: { keys: [publicJwk] } };
}

/**
 * Signs an access token like the auth subgraph issues, or a forged, expired or mis-addressed one.
 * By default: a random account and tenant, the owner role, the configured issuer and audience
 * (test backends keep their defaults), valid for ten minutes.
 */
export async function signToken(
  privateJwk: JWK,
  claims: { sub?: string; tid?: string; roles?: Role[]; iss?: string; aud?: string; expiresIn?: string | number } = {},
): Promise<string> {
  const key = await importJWK(privateJwk, 'EdDSA');
  return new SignJWT({ tid: claims.tid ?? randomUUID(), roles: claims.roles ?? ['owner'] })
    .setProtectedHeader({ alg: 'EdDSA', kid: privateJwk.kid })
    .setIssuer(claims.iss ?? configSchema.shape.AUTH_ISSUER.parse(undefined))
    .setAudience(claims.aud ?? configSchema.shape.AUTH_AUDIENCE.parse(undefined))
    .setSubject(claims.sub ?? randomUUID())
    .setIssuedAt(Math.floor(Date.now() / 1000) - 60)
    .setExpirationTime(claims.expiresIn ?? '10m')
    .setJti(randomUUID())
    .sign(key);
}

export interface TestBackends {
  /** The gateway's settings, which include every process's shared ones. */
  config: GatewayConfig;
  /** The environment `config` was read from (a subgraph's own settings are read from it too). */
  env: Record<string, string>;
  database: TestDatabase;
  db: Database;
  keys: TestKeys;
  /**
   * Verifies tokens signed with `keys`, without looking at revocation (what a gateway is given: it
   * checks revocation itself); `deps(name).verifyToken` is a subgraph's, which also refuses
   * revoked tokens.
   */
  verifyToken: TokenVerifier;
  /** Builds the deps one subgraph server needs (shared pool, Redis and keys). */
  deps(name: string): SubgraphDeps;
  migrate(targets: readonly MigrationTarget[]): Promise<void>;
  /** Deletes the Redis keys, closes the connections and drops the database (`keepDatabase`: not that). */
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

/**
 * A fresh database (real PostgreSQL when reachable, else PGlite), Redis (real when reachable,
 * with a per-run key prefix, else in-memory), signing keys, and a config pointing at them.
 */
export async function createTestBackends(
  overrides: Record<string, string> = {},
  options: { embedded?: boolean; template?: string } = {},
): Promise<TestBackends> {
  const database = await createTestDatabase(options);
  const realRedis = await redisReachable();
  const keys = await createTestKeys();
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: database.dataDir,
    ...(database.appUrl ? { DATABASE_URL: database.appUrl, DATABASE_OWNER_URL: database.ownerUrl } : {}),
    ...(realRedis ? { REDIS_URL } : {}),
    REDIS_PREFIX: `test:${uniqueSuffix()}:`,
    AUTH_PRIVATE_JWK: JSON.stringify(keys.privateJwk),
    // Functional tests share a busy CI host (two test files at once, other work): a queue bound
    // of 10 s instead of 1 s keeps the admission control from refusing their requests when the
    // host, not the gateway, is slow. Shedding itself is tested with its own settings
    // (gateway-admission, gateway-overload).
    GATEWAY_QUEUE_TIMEOUT_MS: '10000',
    ...overrides,
  };
  const config = parseGatewayConfig(env);
  const { db, closeEmbedded: embeddedClose } = await openDatabase(config);
  const redis = createRedis(config);
  const verifyToken = createTokenVerifier({
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    keys: createLocalJWKSet(keys.publicJwks),
  });
  const subgraphVerifyToken = checkingRevocation(verifyToken, redis, config.REDIS_PREFIX);
  return {
    config,
    env,
    database,
    db,
    keys,
    verifyToken,
    deps: (name) => ({
      config,
      env,
      settings: undefined,
      db,
      redis,
      log: createLogger(config, name),
      verifyToken: subgraphVerifyToken,
      asOwner: ownerRunner(database.ownerUrl ?? db),
      embedded: { postgres: !config.DATABASE_URL, redis: !redisConfigured(config) },
    }),
    async migrate(targets) {
      if (database.ownerUrl) return migrateUrl(database.ownerUrl, targets);
      const client = await db.pool.connect();
      try {
        await migrate(client, targets);
      } finally {
        client.release();
      }
    },
    async close({ keepDatabase = false } = {}) {
      if (redisConfigured(config)) {
        await teardownStep('deleting the Redis keys', async () => {
          const keysToDelete = await redis.keys(`${config.REDIS_PREFIX}*`).catch(() => [] as string[]);
          if (keysToDelete.length) await redis.del(...keysToDelete).catch(() => undefined);
        });
        redis.disconnect();
      }
      const pool = db.pool;
      await teardownStep('closing the database pool', () => db.close(), () => `clients ${pool.totalCount}, idle ${pool.idleCount}, waiting ${pool.waitingCount}`);
      await teardownStep('closing embedded PostgreSQL', async () => embeddedClose?.());
      if (!keepDatabase) await teardownStep('dropping the database', () => database.drop());
    },
  };
}
