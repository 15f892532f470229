import { exportJWK, generateKeyPair, createLocalJWKSet, type JWK } from 'jose';
import { parseConfig, type Config } from '../../subgraphs/kit/config.ts';
import type { Database } from '../../subgraphs/kit/db/database.ts';
import { migrate, migrateUrl, type MigrationTarget } from '../../subgraphs/kit/db/migrate.ts';
import { createRedis } from '../../subgraphs/kit/redis.ts';
import { createTokenVerifier } from '../../subgraphs/kit/principal.ts';
import { createLogger } from '../../subgraphs/kit/logger.ts';
import { openDatabase, ownerRunner, type SubgraphDeps } from '../../subgraphs/kit/deps.ts';
import { createTestDatabase, redisReachable, REDIS_URL, uniqueSuffix, type TestDatabase } from './services.ts';

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

export interface TestBackends {
  config: Config;
  database: TestDatabase;
  db: Database;
  keys: TestKeys;
  /** Builds the deps one subgraph server needs (shared pool, Redis and keys). */
  deps(name: string): SubgraphDeps;
  migrate(targets: readonly MigrationTarget[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A fresh database (real PostgreSQL when reachable, else PGlite), Redis (real when reachable,
 * with a per-run key prefix, else in-memory), signing keys, and a config pointing at them.
 */
export async function createTestBackends(
  env: Record<string, string> = {},
  options: { embedded?: boolean } = {},
): Promise<TestBackends> {
  const database = await createTestDatabase(options);
  const realRedis = await redisReachable();
  const keys = await createTestKeys();
  const config = parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: database.dataDir,
    ...(database.appUrl ? { DATABASE_URL: database.appUrl, DATABASE_OWNER_URL: database.ownerUrl } : {}),
    ...(realRedis ? { REDIS_URL } : {}),
    REDIS_PREFIX: `test:${uniqueSuffix()}:`,
    AUTH_PRIVATE_JWK: JSON.stringify(keys.privateJwk),
    ...env,
  });
  const { db, closeEmbedded: embeddedClose } = await openDatabase(config);
  const redis = createRedis(config);
  const verifyToken = createTokenVerifier({
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    keys: createLocalJWKSet(keys.publicJwks),
  });
  return {
    config,
    database,
    db,
    keys,
    deps: (name) => ({
      config,
      db,
      redis,
      log: createLogger(config, name),
      verifyToken,
      asOwner: ownerRunner(database.ownerUrl ?? db),
      embedded: { postgres: !config.DATABASE_URL, redis: !config.REDIS_URL },
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
    async close() {
      if (config.REDIS_URL) {
        const keysToDelete = await redis.keys(`${config.REDIS_PREFIX}*`).catch(() => [] as string[]);
        if (keysToDelete.length) await redis.del(...keysToDelete).catch(() => undefined);
        redis.disconnect();
      }
      await db.close();
      await embeddedClose?.();
      await database.drop();
    },
  };
}
