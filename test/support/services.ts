import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { BOOTSTRAP_ROLES_SQL } from '../../subgraphs/kit/db/roles.ts';
import { createRedis, type RedisClient } from '../../subgraphs/kit/redis.ts';

/**
 * Tests run against real PostgreSQL and Redis when they are reachable (as in CI) and fall back
 * to embedded PGlite and in-memory Redis when not, saying so once.
 */
export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 1_500 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function redisReachable(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Where no Redis listens: for what happens while Redis is unreachable. */
export const UNREACHABLE_REDIS_URL = 'redis://127.0.0.1:1';

/** A client of a Redis that is not there, its connection errors silenced; the caller disconnects it. */
export function unreachableRedis(): RedisClient {
  const redis = createRedis({ REDIS_URL: UNREACHABLE_REDIS_URL });
  redis.on('error', () => undefined);
  return redis;
}

export const uniqueSuffix = () => `${process.pid}_${randomBytes(4).toString('hex')}`;

export interface TestDatabase {
  /** The database's name on PostgreSQL. Unset on PGlite. */
  name?: string;
  /** Connection as the app role (what subgraphs use). Unset on PGlite. */
  appUrl?: string;
  /** Connection as the owner role (migrations). */
  ownerUrl?: string;
  /** Data folder for embedded PGlite when PostgreSQL is not reachable. */
  dataDir: string;
  real: boolean;
  drop(): Promise<void>;
}

/**
 * A fresh database owned by the owner role, dropped afterwards (PostgreSQL; a copy of `template`
 * when given, see demo-template.ts), or a PGlite folder.
 */
export async function createTestDatabase(options: { embedded?: boolean; template?: string } = {}): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bizosaas-test-'));
  if (options.embedded || !(await postgresReachable())) {
    return { dataDir, real: false, async drop() {} };
  }
  return { ...(await createPostgresDatabase(ADMIN_URL, 'bizosaas_test', { template: options.template })), dataDir, real: true };
}

export interface PostgresDatabase {
  name: string;
  appUrl: string;
  ownerUrl: string;
  drop(): Promise<void>;
}

/**
 * A fresh database `<prefix>_<pid>_<random>` owned by the owner role on the server at
 * `adminUrl` (a superuser), with app-role and owner-role URLs; `drop()` removes it. With
 * `template`: a copy of that database (which nobody may be connected to).
 */
export async function createPostgresDatabase(adminUrl: string, prefix: string, options: { template?: string } = {}): Promise<PostgresDatabase> {
  const name = `${prefix}_${uniqueSuffix()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Roles are cluster-wide; global-setup creates them, this covers scripts run outside vitest.
    await admin.query(BOOTSTRAP_ROLES_SQL).catch(() => undefined);
    await admin.query(`CREATE DATABASE ${name} OWNER bizosaas_owner${options.template ? ` TEMPLATE ${options.template}` : ''}`);
  } finally {
    await admin.end();
  }
  const as = (user: string) => {
    const u = new URL(adminUrl);
    u.username = user;
    u.password = '';
    u.pathname = `/${name}`;
    return u.toString();
  };
  return {
    name,
    appUrl: as('bizosaas_app'),
    ownerUrl: as('bizosaas_owner'),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * The Redis a test file uses directly, as the kit connects to it (real when reachable, else the
 * in-memory stand-in), ready for commands; keys under a prefix of its own, deleted by `close`.
 */
export async function createTestRedis(): Promise<{ redis: RedisClient; prefix: string; close(): Promise<void> }> {
  const redis = createRedis({ REDIS_URL: (await redisReachable()) ? REDIS_URL : undefined });
  // Commands fail fast until the connection is up (no offline queue): start once it is.
  if (redis.status !== 'ready' && 'once' in redis) await new Promise((resolve) => redis.once('ready', resolve));
  const prefix = `test:${uniqueSuffix()}:`;
  return {
    redis,
    prefix,
    async close() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      if (redis.status !== 'end') redis.disconnect();
    },
  };
}
