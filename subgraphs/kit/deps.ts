import type { z } from 'zod';
import { demoDataEnabled, parseEnv, type Config, type Env } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { Database, type Tx } from './db/database.ts';
import pg from 'pg';
import { OWNER_ROLE } from './db/roles.ts';
import { APP_ROLE } from './db/roles.ts';
import { startEmbeddedPostgres } from './db/embedded.ts';
import { migrate, migrateUrl, type MigrationTarget } from './db/migrate.ts';
import { createRedis, redisConfigured, type RedisClient } from './redis.ts';
import { createTokenVerifier, type TokenVerifier } from './principal.ts';
import { checkingRevocation } from './revocation.ts';
import { subgraphMetrics } from './metrics.ts';

/** What a subgraph server needs from the outside world; tests build their own. */
export interface SubgraphDeps<TSettings = unknown> {
  config: Config;
  /** The environment `config` was read from; a subgraph's own `settings` are read from it too. */
  env: Env;
  /** The subgraph's own settings (its definition's `settings` schema); undefined in shared deps. */
  settings: TSettings;
  db: Database;
  redis: RedisClient;
  log: Logger;
  /** Verifies the access token and refuses a revoked one (both as anonymous). */
  verifyToken: TokenVerifier;
  /**
   * A transaction as the owner role, for demo seeding and operator tasks only (never for a
   * request): on PostgreSQL over DATABASE_OWNER_URL, on PGlite by switching role.
   */
  asOwner<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** True when running on embedded PGlite / in-memory Redis. */
  embedded: { postgres: boolean; redis: boolean };
}

/**
 * The process's database, reporting to its metrics: PostgreSQL at DATABASE_URL, else embedded
 * PGlite (`close` stops it) with exactly one connection: PGlite is a single session, so
 * transactions must be serialised or one tenant's `set_config` would leak into another's.
 */
export async function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX' | 'DATA_DIR'>): Promise<{ db: Database; closeEmbedded?: () => Promise<void> }> {
  const observer = subgraphMetrics().database;
  if (config.DATABASE_URL) return { db: new Database({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX, observer }) };
  const embedded = await startEmbeddedPostgres(config.DATA_DIR);
  return { db: new Database({ url: embedded.url, poolMax: 1, assumeRole: APP_ROLE, observer }), closeEmbedded: embedded.close };
}

let shared: Promise<Omit<SubgraphDeps, 'log'>> | undefined;

/** One database pool and one Redis client per process, shared by every subgraph it runs. */
export function sharedDeps(config: Config): Promise<Omit<SubgraphDeps, 'log'>> {
  shared ??= (async () => {
    const log = createLogger(config, 'kit');
    const { db } = await openDatabase(config);
    const redis = createRedis(config, log);
    const jwks = config.AUTH_JWKS_URL ?? `http://127.0.0.1:${process.env.AUTH_PORT ?? 8007}/.well-known/jwks.json`;
    const verifyToken = checkingRevocation(
      createTokenVerifier({ issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE, keys: jwks }),
      redis,
      config.REDIS_PREFIX,
      log,
    );
    return {
      config,
      env: process.env,
      settings: undefined,
      db,
      redis,
      verifyToken,
      asOwner: ownerRunner(config.DATABASE_URL ? (config.DATABASE_OWNER_URL ?? config.DATABASE_URL) : db),
      embedded: { postgres: !config.DATABASE_URL, redis: !redisConfigured(config) },
    };
  })();
  return shared;
}

/**
 * `deps` with a subgraph's own settings, parsed from `deps.env` by its definition's `settings`
 * schema; a bad value throws ConfigError naming the variable.
 */
export function withSettings<TSettings>(definition: { settings?: z.ZodType<TSettings> }, deps: SubgraphDeps): SubgraphDeps<TSettings> {
  return { ...deps, settings: parseSettings(definition, deps.env) };
}

/** A subgraph's own settings from `env` (undefined for a subgraph without any); throws ConfigError. */
export const parseSettings = <TSettings>(definition: { settings?: z.ZodType<TSettings> }, env: Env): TSettings =>
  (definition.settings ? parseEnv(definition.settings, env) : undefined) as TSettings;

export async function createDeps(config: Config, name: string): Promise<SubgraphDeps> {
  return { ...(await sharedDeps(config)), log: createLogger(config, name) };
}

/** Applies migrations: on PostgreSQL with the owner URL, on PGlite through the single pool client. */
export async function migrateDatabase(config: Config, db: Database, targets: readonly MigrationTarget[]) {
  if (config.DATABASE_URL) {
    await migrateUrl(config.DATABASE_OWNER_URL ?? config.DATABASE_URL, targets);
    return;
  }
  const client = await db.pool.connect();
  try {
    await migrate(client, targets);
  } finally {
    client.release();
  }
}

/**
 * Writes every subgraph's demo data when DEMO_DATA is on, then refreshes the planner statistics
 * of the tables the owner role holds. Without that, a freshly seeded database is planned from
 * empty statistics until autovacuum's first analyze (a minute or more on PostgreSQL, never on
 * PGlite, which runs no autovacuum), and list queries pick poor plans in the meantime.
 */
export async function seedDemoData(config: Config, subgraphs: readonly { seed?(deps: SubgraphDeps): Promise<void> }[]) {
  if (!demoDataEnabled(config)) return;
  const deps = await createDeps(config, 'seed');
  for (const subgraph of subgraphs) await subgraph.seed?.(deps);
  await deps.asOwner(async (tx) => {
    const { rows } = await tx.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE tableowner = current_user ORDER BY 1`,
    );
    if (rows.length) await tx.query(`ANALYZE ${rows.map((r) => r.name).join(', ')}`);
  });
}

/** See SubgraphDeps.asOwner: a URL (its own short-lived client) or the embedded pool. */
export function ownerRunner(target: string | Database) {
  return async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
    const client = typeof target === 'string' ? new pg.Client({ connectionString: target }) : await target.pool.connect();
    if (typeof target === 'string') await (client as pg.Client).connect();
    try {
      await client.query('BEGIN');
      if (typeof target !== 'string') await client.query(`SET LOCAL ROLE ${OWNER_ROLE}`);
      const result = await fn({ query: (text, params) => client.query(text, params as unknown[] | undefined) as never });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      if (typeof target === 'string') await (client as pg.Client).end();
      else (client as pg.PoolClient).release();
    }
  };
}
