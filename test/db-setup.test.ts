import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_ROLE, OWNER_ROLE } from '../subgraphs/kit/db/roles.ts';
import { ADMIN_URL, postgresReachable, uniqueSuffix } from './support/services.ts';

// `npm run db:setup` on a PostgreSQL you already have (the local one, trust auth): the roles, a
// scratch database and its grants, idempotently; the URLs it prints are what `npm run db:migrate`
// and the subgraphs then use. Needs PostgreSQL: skipped (not passed) without it.

const realPostgres = await postgresReachable();
const database = `bizosaas_setup_${uniqueSuffix()}`;

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Roles are cluster-wide (every test uses them): a password this test sets is taken off again. */
let rolesWithoutPassword: string[] = [];

afterAll(async () => {
  if (!realPostgres) return;
  await admin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    for (const role of rolesWithoutPassword) await client.query(`ALTER ROLE ${role} PASSWORD NULL`);
  });
});

const run = (args: string[], env: Record<string, string> = {}, timeout = 120_000) =>
  spawnSync(process.execPath, ['--import', 'tsx', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout });

/** `KEY=value` lines of stdout. */
const envLines = (stdout: string) => Object.fromEntries(stdout.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));

describe('npm run db:setup', () => {
  it.skipIf(!realPostgres)(
    'creates the database owned by the owner role with its grants, prints the URLs db:migrate and the subgraphs use, and can run again',
    async () => {
      rolesWithoutPassword = await admin(async (client) => {
        const { rows } = await client.query<{ rolname: string }>('SELECT rolname FROM pg_authid WHERE rolname = ANY($1) AND rolpassword IS NULL', [[OWNER_ROLE, APP_ROLE]]);
        return rows.map((r) => r.rolname);
      });
      const passwords = { POSTGRES_OWNER_PASSWORD: 'owner-pw-0123abcd', POSTGRES_APP_PASSWORD: 'app-pw-4567ef' };
      const first = run(['subgraphs/kit/db/setup-cli.ts', ADMIN_URL, '--database', database], passwords);
      expect(first.status, first.stderr).toBe(0);
      const urls = envLines(first.stdout);
      expect(Object.keys(urls)).toEqual(['DATABASE_URL', 'DATABASE_OWNER_URL']);
      const app = new URL(urls.DATABASE_URL!);
      const owner = new URL(urls.DATABASE_OWNER_URL!);
      expect([app.username, app.password, app.pathname, app.host]).toEqual([APP_ROLE, 'app-pw-4567ef', `/${database}`, new URL(ADMIN_URL).host]);
      expect([owner.username, owner.password, owner.pathname]).toEqual([OWNER_ROLE, 'owner-pw-0123abcd', `/${database}`]);
      expect(first.stderr).toContain(`database ${database}: created`);
      // A stock PostgreSQL 15 has no pgvector: skipped, not an error.
      expect(first.stderr).toMatch(/extension vector: (created|not installed on this server, skipped)/);

      const state = await admin(async (client) => {
        const { rows } = await client.query<{ owner: string; app: boolean; public: boolean; passwords: number }>(
          `SELECT pg_get_userbyid(d.datdba) AS owner,
                  has_database_privilege($2, d.oid, 'CONNECT') AS app,
                  (SELECT count(*)::int FROM pg_authid WHERE rolname = ANY($3) AND rolpassword IS NOT NULL) AS passwords,
                  EXISTS (SELECT FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE a.grantee = 0) AS public
             FROM pg_database d WHERE d.datname = $1`,
          [database, APP_ROLE, [OWNER_ROLE, APP_ROLE]],
        );
        return rows[0];
      });
      expect(state).toEqual({ owner: OWNER_ROLE, app: true, public: false, passwords: 2 });

      // Idempotent: again, with no passwords, keeps everything (the passwords too).
      const again = run(['subgraphs/kit/db/setup-cli.ts', ADMIN_URL, '--database', database]);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stderr).toContain(`database ${database}: existed`);
      expect(again.stderr).toContain(`role ${APP_ROLE}: existed, password left as it was`);

      // The printed URLs are what the migrations and the app use: migrate as the owner, then read
      // as the app role under row-level security.
      const migrate = run(['subgraphs/kit/db/migrate-cli.ts'], { DATABASE_URL: urls.DATABASE_URL!, DATABASE_OWNER_URL: urls.DATABASE_OWNER_URL!, DEMO_DATA: 'false', LOG_LEVEL: 'warn' }, 180_000);
      expect(migrate.status, migrate.stderr).toBe(0);
      const client = new pg.Client({ connectionString: urls.DATABASE_URL });
      await client.connect();
      try {
        expect((await client.query('SELECT count(*)::int AS n FROM auth.tenants')).rows).toEqual([{ n: 0 }]);
        await expect(client.query('CREATE TABLE public.x (id int)')).rejects.toThrow(/permission denied/);
      } finally {
        await client.end();
      }
    },
    300_000,
  );

  it('refuses a bad database name or a missing URL with one line and exit 1', () => {
    const bad = run(['subgraphs/kit/db/setup-cli.ts', 'postgresql://postgres@127.0.0.1:5432/postgres', '--database', 'bizosaas; DROP DATABASE x']);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^db:setup: database name "bizosaas; DROP DATABASE x": /)]);
    const none = run(['subgraphs/kit/db/setup-cli.ts']);
    expect(none.status).toBe(1);
    expect(none.stderr.trim()).toMatch(/^usage: npm run -s db:setup/);
  });
});
