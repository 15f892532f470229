import { existsSync } from 'node:fs';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { repoPath } from '../paths.ts';
import { BOOTSTRAP_ROLES_SQL, OWNER_ROLE } from './roles.ts';
import { installJobSchema } from '../jobs/install.ts';

export interface MigrationTarget {
  /** The subgraph name; also its PostgreSQL schema. */
  name: string;
  /** Folder of SQL files (`-- Up Migration` / `-- Down Migration`), applied in name order. */
  dir: string;
}

/**
 * The kit's own migrations (schema `kit`: kit.tenant_table() and whatever else every subgraph's
 * migrations call), applied before any subgraph's.
 */
export const KIT_MIGRATIONS: MigrationTarget = { name: 'kit', dir: repoPath('subgraphs/kit/migrations') };

const quiet = { debug() {}, info() {}, warn: console.warn, error: console.error };

/**
 * Applies every pending migration of the kit, then of each subgraph in the order given (the
 * registry's dependency order), each in its own schema with its own history table, as the owner
 * role; after the kit's, the job system's schema (kit/jobs/install.ts). Connected as a superuser
 * (a fresh cluster, embedded PGlite), it first creates the roles and then switches to the owner,
 * so the owner owns every table.
 */
export async function migrate(client: pg.ClientBase, targets: readonly MigrationTarget[]): Promise<void> {
  const { rows } = await client.query<{ rolsuper: boolean; db: string }>(
    'SELECT rolsuper, current_database() AS db FROM pg_roles WHERE rolname = current_user',
  );
  if (rows[0]?.rolsuper) {
    await client.query(BOOTSTRAP_ROLES_SQL);
    await client.query(`GRANT CREATE ON DATABASE "${rows[0].db}" TO ${OWNER_ROLE}`);
    await client.query(`SET ROLE ${OWNER_ROLE}`);
  }
  try {
    for (const target of [KIT_MIGRATIONS, ...targets]) {
      if (!existsSync(target.dir)) continue;
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${target.name}`);
      await runner({
        dbClient: client,
        dir: target.dir,
        direction: 'up',
        count: Infinity,
        migrationsTable: 'schema_migrations',
        migrationsSchema: target.name,
        schema: target.name,
        checkOrder: true,
        singleTransaction: true,
        logger: quiet,
        verbose: false,
      });
      // The job system's schema (pg-boss), right after the kit's: subgraphs' migrations may use it.
      if (target === KIT_MIGRATIONS) await installJobSchema(client);
    }
  } finally {
    if (rows[0]?.rolsuper) await client.query('RESET ROLE');
  }
}

/** Migrates with a dedicated connection to `url` (the owner's, or a superuser's). */
export async function migrateUrl(url: string, targets: readonly MigrationTarget[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await migrate(client, targets);
  } finally {
    await client.end();
  }
}
