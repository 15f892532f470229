import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ConfigError } from '../config.ts';
import { APP_ROLE, BOOTSTRAP_ROLES_SQL, OWNER_ROLE, READONLY_ROLE } from './roles.ts';

/**
 * `npm run db:setup`: what a PostgreSQL cluster needs before `npm run db:migrate`, run once as a
 * superuser (docker's `db-setup` service runs the same): the two roles of roles.ts with
 * passwords, the database owned by the owner role, and its grants. Idempotent: a role or database
 * that exists is kept (a role's password changes only when one is given).
 *
 *   bizosaas_owner  owns the database; migrations run as it, so it owns every schema and table
 *   bizosaas_app    what the gateway and subgraphs connect as: owns nothing, no superuser, no
 *                   BYPASSRLS (row-level security always applies); may connect, migrations grant
 *                   it the rest
 *
 * The pgvector extension is created when the server has it (the docker image does) and skipped when
 * it does not (a stock PostgreSQL 15): only a superuser may create it, and the kit's vector columns
 * (kit.vector_column) then use it, else exact cosine over real[] (kit/vectors/).
 */

export interface SetupOptions {
  /** The database to create (or adopt). */
  database: string;
  /** Passwords to set; a role created without one gets a random one (printed once). */
  ownerPassword?: string;
  appPassword?: string;
  /** The read-only role's password (an SQL admin UI); without one it cannot log in. */
  readonlyPassword?: string;
}

export interface SetupResult {
  /** As the app role, for DATABASE_URL; no password in it when the role existed and none was given. */
  databaseUrl: string;
  /** As the owner role, for DATABASE_OWNER_URL (migrations). */
  ownerUrl: string;
  /** What was done, one line each (for the operator). */
  steps: string[];
}

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const generatedPassword = () => randomBytes(24).toString('hex');

/** `adminUrl` with another user, password and database (host, port and query kept). */
function urlAs(adminUrl: string, user: string, password: string | undefined, database: string): string {
  const url = new URL(adminUrl);
  url.username = user;
  url.password = password ? encodeURIComponent(password) : '';
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

async function connected<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function setupDatabase(adminUrl: string, options: SetupOptions): Promise<SetupResult> {
  const { database } = options;
  if (!DATABASE_NAME.test(database)) throw new ConfigError(`db:setup: database name "${database}": letters, digits and _ (at most 63), not starting with a digit`);
  const steps: string[] = [];
  const passwords: Record<string, string | undefined> = {};

  await connected(adminUrl, async (admin) => {
    const { rows: me } = await admin.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    if (!me[0]?.rolsuper) throw new ConfigError('db:setup: connect as a superuser (e.g. postgres)');

    const { rows: existing } = await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [[OWNER_ROLE, APP_ROLE]]);
    const existed = new Set(existing.map((r) => r.rolname));
    await admin.query(BOOTSTRAP_ROLES_SQL);
    for (const [role, given] of [
      [OWNER_ROLE, options.ownerPassword],
      [APP_ROLE, options.appPassword],
    ] as const) {
      const password = given || (existed.has(role) ? undefined : generatedPassword());
      if (password) await admin.query(`ALTER ROLE ${role} PASSWORD ${admin.escapeLiteral(password)}`);
      passwords[role] = password;
      const what = existed.has(role) ? 'existed' : 'created';
      const how = given ? 'password set' : password ? 'random password generated' : 'password left as it was';
      steps.push(`role ${role}: ${what}, ${how}`);
    }

    const name = admin.escapeIdentifier(database);
    const { rows: found } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.length) {
      await admin.query(`ALTER DATABASE ${name} OWNER TO ${OWNER_ROLE}`);
      steps.push(`database ${database}: existed, owned by ${OWNER_ROLE}`);
    } else {
      await admin.query(`CREATE DATABASE ${name} OWNER ${OWNER_ROLE}`);
      steps.push(`database ${database}: created, owned by ${OWNER_ROLE}`);
    }
    // PostgreSQL 15 already keeps PUBLIC from creating in schema public; only our roles connect.
    await admin.query(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
    await admin.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${name} TO ${APP_ROLE}`);
    // The read-only role (an SQL admin UI) connects too; it logs in once it has a password.
    await admin.query(`GRANT CONNECT ON DATABASE ${name} TO ${READONLY_ROLE}`);
    if (options.readonlyPassword) {
      await admin.query(`ALTER ROLE ${READONLY_ROLE} PASSWORD ${admin.escapeLiteral(options.readonlyPassword)}`);
      steps.push(`role ${READONLY_ROLE}: password set`);
    }
  });

  const inDatabase = new URL(adminUrl);
  inDatabase.pathname = `/${encodeURIComponent(database)}`;
  await connected(inDatabase.toString(), async (admin) => {
    // Created by the superuser here, so migrations (as the owner) never need one. In schema public.
    const { rows } = await admin.query('SELECT 1 FROM pg_available_extensions WHERE name = $1', ['vector']);
    if (rows.length) {
      await admin.query('CREATE EXTENSION IF NOT EXISTS vector');
      steps.push('extension vector: created (pgvector: vector columns get an hnsw index)');
    } else {
      steps.push('extension vector: not installed on this server, skipped (vector columns fall back to exact cosine over real[])');
    }
  });

  return {
    databaseUrl: urlAs(adminUrl, APP_ROLE, passwords[APP_ROLE], database),
    ownerUrl: urlAs(adminUrl, OWNER_ROLE, passwords[OWNER_ROLE], database),
    steps,
  };
}
