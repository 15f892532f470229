import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import { inDependencyOrder, loadSubgraphs, SubgraphDependencyError, subgraphNames } from '../subgraphs/kit/registry.ts';
import type { SubgraphDefinition } from '../subgraphs/kit/server.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';

/*
 * The kit's part of every subgraph's database: its own migrations (kit.tenant_table), applied
 * before any subgraph's, and the order of the subgraphs' migrations and demo data, by their
 * declared dependencies rather than their names.
 */

describe('subgraph dependency order', () => {
  const order = (subgraphs: { name: string; dependsOn?: string[] }[]) => inDependencyOrder(subgraphs).map((s) => s.name);

  it('puts each subgraph after those it depends on, and the rest alphabetically', () => {
    expect(order([{ name: 'crm', dependsOn: ['auth'] }, { name: 'bi' }, { name: 'auth' }, { name: 'agents', dependsOn: ['auth'] }])).toEqual([
      'auth',
      'agents',
      'bi',
      'crm',
    ]);
    expect(order([{ name: 'agents', dependsOn: ['crm', 'auth', 'crm'] }, { name: 'crm', dependsOn: ['auth'] }, { name: 'auth' }])).toEqual([
      'auth',
      'crm',
      'agents',
    ]);
    expect(order([])).toEqual([]);
  });

  it("orders the registry's subgraphs: auth before crm and cms, every one after its dependencies", async () => {
    const subgraphs = await loadSubgraphs();
    const names = subgraphs.map((s) => s.name);
    expect([...names].sort()).toEqual(subgraphNames());
    expect(names.indexOf('auth')).toBeLessThan(names.indexOf('crm'));
    expect(names.indexOf('auth')).toBeLessThan(names.indexOf('cms'));
    for (const [i, subgraph] of subgraphs.entries()) {
      for (const dependency of subgraph.dependsOn ?? []) expect(names.indexOf(dependency), `${subgraph.name} after ${dependency}`).toBeLessThan(i);
    }
  });

  it('stops at a dependency on an unknown subgraph, in one line', () => {
    const run = () => order([{ name: 'auth' }, { name: 'crm', dependsOn: ['auth', 'nope'] }]);
    expect(run).toThrow(SubgraphDependencyError);
    expect(run).toThrow(/^Subgraph "crm" depends on unknown subgraph "nope"$/);
  });

  it('stops at a dependency cycle, naming it in one line', () => {
    expect(() => order([{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }])).toThrow(/^Subgraph dependency cycle: a -> b -> a$/);
    expect(() => order([{ name: 'a', dependsOn: ['a'] }])).toThrow(/^Subgraph dependency cycle: a -> a$/);
    // Subgraphs outside the cycle (ready ones, or ones waiting on it) are not part of the message.
    const withBystanders = [
      { name: 'auth' },
      { name: 'b', dependsOn: ['c', 'auth'] },
      { name: 'c', dependsOn: ['d'] },
      { name: 'd', dependsOn: ['b'] },
      { name: 'a', dependsOn: ['b'] },
    ];
    expect(() => order(withBystanders)).toThrow(/^Subgraph dependency cycle: b -> c -> d -> b$/);
    expect(() => order(withBystanders)).toThrow(SubgraphDependencyError);
  });
});

/**
 * A subgraph named `agents` (it sorts before `auth`) whose table references auth.memberships,
 * as crm's do, with its migrations in a folder of its own.
 */
function agentsSubgraph(dependsOn?: string[]): Pick<SubgraphDefinition, 'name' | 'dependsOn' | 'migrations'> & { cleanUp(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bizosaas-agents-migrations-'));
  writeFileSync(
    join(dir, '001_agents.sql'),
    `-- Up Migration
CREATE TABLE agents.runs (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  owner_id uuid,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT runs_owner_fkey FOREIGN KEY (tenant_id, owner_id)
    REFERENCES auth.memberships (tenant_id, account_id) ON DELETE SET NULL (owner_id)
);
SELECT kit.tenant_table('agents.runs');

-- Down Migration
DROP SCHEMA agents CASCADE;
`,
  );
  return { name: 'agents', dependsOn, migrations: { name: 'agents', dir }, cleanUp: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('a subgraph whose tables reference auth, on a fresh database', () => {
  let backends: TestBackends;
  const agents = agentsSubgraph(['auth']);

  beforeAll(async () => {
    backends = await createTestBackends();
  });
  afterAll(async () => {
    await backends?.close();
    agents.cleanUp();
  });

  const asOwner = <T>(sql: string, params?: unknown[]) => backends.deps('test').asOwner((tx) => tx.query<T>(sql, params));

  it('migrates after auth when it declares dependsOn: the kit first, then auth, then agents', async () => {
    const ordered = inDependencyOrder([agents, auth]);
    expect(ordered.map((s) => s.name)).toEqual(['auth', 'agents']);
    await backends.migrate(ordered.map((s) => s.migrations!));

    const history = await asOwner<{ name: string }>(
      `SELECT name FROM kit.schema_migrations UNION ALL SELECT name FROM agents.schema_migrations ORDER BY name`,
    );
    expect(history.rows.map((r) => r.name)).toEqual(['001_agents', '001_tenant_table', '002_vectors', '003_readonly_role', '004_rollup_locks', '005_rollup_refresh']);
    const fkey = await asOwner<{ target: string }>(
      `SELECT confrelid::regclass::text AS target FROM pg_constraint WHERE conname = 'runs_owner_fkey'`,
    );
    expect(fkey.rows).toEqual([{ target: 'auth.memberships' }]);
  });

  it('kit.tenant_table gave its table the common form: RLS forced, the InitPlan tenant policy, the owner policy, the app grants', async () => {
    const table = await asOwner(`SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'agents.runs'::regclass`);
    expect(table.rows).toEqual([{ relrowsecurity: true, relforcerowsecurity: true }]);
    const policies = await asOwner(
      `SELECT policyname, cmd, roles::text[] AS roles, qual, with_check FROM pg_policies WHERE schemaname = 'agents' ORDER BY policyname`,
    );
    const tenant = `(tenant_id = ( SELECT (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid AS "nullif"))`;
    expect(policies.rows).toEqual([
      { policyname: 'owner_functions', cmd: 'ALL', roles: ['bizosaas_owner'], qual: 'true', with_check: 'true' },
      { policyname: 'tenant_isolation', cmd: 'ALL', roles: ['bizosaas_app'], qual: tenant, with_check: tenant },
      { policyname: 'tenant_readonly', cmd: 'SELECT', roles: ['bizosaas_readonly'], qual: tenant, with_check: null },
    ]);
    const grants = await asOwner(
      `SELECT has_schema_privilege('bizosaas_app', 'agents', 'USAGE') AS usage,
         array(SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
               WHERE has_table_privilege('bizosaas_app', 'agents.runs', p)) AS privileges`,
    );
    expect(grants.rows).toEqual([{ usage: true, privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] }]);
  });

  it('the app role reads and writes only the rows of its tenant', async () => {
    const [mine, other] = [randomUUID(), randomUUID()];
    const as = (tenantId: string) => ({ tenantId, accountId: null });
    await backends.db.withTenant(as(mine), (tx) => tx.query('INSERT INTO agents.runs (tenant_id) VALUES ($1)', [mine]));
    await expect(
      backends.db.withTenant(as(mine), (tx) => tx.query('INSERT INTO agents.runs (tenant_id) VALUES ($1)', [other])),
    ).rejects.toThrow(/row-level security/);
    const count = (tenantId: string) =>
      backends.db.withTenant(as(tenantId), (tx) => tx.query<{ n: number }>('SELECT count(*)::int AS n FROM agents.runs')).then((r) => r.rows[0]!.n);
    expect(await count(mine)).toBe(1);
    expect(await count(other)).toBe(0);
  });

  it('kit.tenant_table takes the grants and owner access a table needs', async () => {
    await asOwner(`CREATE TABLE agents.notes (tenant_id uuid NOT NULL, id uuid NOT NULL, secret text, PRIMARY KEY (tenant_id, id));
      SELECT kit.tenant_table('agents.notes', app_grants => ARRAY['SELECT (tenant_id, id)', 'INSERT'], owner_access => 'NONE')`);
    await asOwner(`CREATE TABLE agents.reads (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
      SELECT kit.tenant_table('agents.reads', app_grants => '{}', owner_access => 'SELECT')`);
    const policies = await asOwner(
      `SELECT tablename, policyname, cmd, roles::text[] AS roles FROM pg_policies
       WHERE schemaname = 'agents' AND tablename IN ('notes', 'reads') ORDER BY tablename, policyname`,
    );
    expect(policies.rows).toEqual([
      { tablename: 'notes', policyname: 'tenant_isolation', cmd: 'ALL', roles: ['bizosaas_app'] },
      { tablename: 'notes', policyname: 'tenant_readonly', cmd: 'SELECT', roles: ['bizosaas_readonly'] },
      { tablename: 'reads', policyname: 'owner_functions', cmd: 'SELECT', roles: ['bizosaas_owner'] },
      { tablename: 'reads', policyname: 'tenant_isolation', cmd: 'ALL', roles: ['bizosaas_app'] },
      { tablename: 'reads', policyname: 'tenant_readonly', cmd: 'SELECT', roles: ['bizosaas_readonly'] },
    ]);
    const privileges = await asOwner(
      `SELECT has_column_privilege('bizosaas_app', 'agents.notes', 'id', 'SELECT') AS id,
         has_column_privilege('bizosaas_app', 'agents.notes', 'secret', 'SELECT') AS secret,
         has_table_privilege('bizosaas_app', 'agents.notes', 'INSERT') AS "insert",
         has_table_privilege('bizosaas_app', 'agents.notes', 'UPDATE') AS "update",
         has_table_privilege('bizosaas_app', 'agents.reads', 'SELECT') AS "readsSelect"`,
    );
    expect(privileges.rows).toEqual([{ id: true, secret: false, insert: true, update: false, readsSelect: false }]);
  });

  it('kit.tenant_table refuses what would make a wrong policy or grant', async () => {
    await asOwner(`CREATE TABLE agents.loose (tenant_id uuid, id uuid PRIMARY KEY, team text NOT NULL)`);
    const call = (args: string) => asOwner(`SELECT kit.tenant_table(${args})`);
    await expect(call(`'agents.loose'`)).rejects.toThrow('kit.tenant_table(agents.loose): no NOT NULL uuid column "tenant_id"');
    await expect(call(`'agents.loose', tenant_column => 'team'`)).rejects.toThrow('no NOT NULL uuid column "team"');
    await expect(call(`'agents.runs', owner_access => 'WRITE'`)).rejects.toThrow('owner_access must be ALL, SELECT or NONE, not WRITE');
    await expect(call(`'agents.runs', app_grants => ARRAY['SELECT ON agents.runs TO PUBLIC; --']`)).rejects.toThrow('not a table privilege');
    await expect(call(`'agents.runs', app_grants => ARRAY['ALL']`)).rejects.toThrow('not a table privilege: ALL');
    // Nothing of the refused calls was applied.
    const policies = await asOwner<{ n: number }>(`SELECT count(*)::int AS n FROM pg_policies WHERE schemaname = 'agents' AND tablename IN ('loose', 'runs')`);
    expect(policies.rows).toEqual([{ n: 3 }]);
  });

  it('the read-only role (an SQL admin UI) reads one tenant at a time under RLS, the columns the app reads, and writes nothing', async () => {
    const role = await asOwner(
      `SELECT rolsuper, rolbypassrls, rolcreaterole, (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) AS owned
       FROM pg_roles r WHERE rolname = 'bizosaas_readonly'`,
    );
    expect(role.rows).toEqual([{ rolsuper: false, rolbypassrls: false, rolcreaterole: false, owned: 0 }]);
    const [mine, other] = [randomUUID(), randomUUID()];
    for (const tenant of [mine, other]) {
      await backends.db.withTenant({ tenantId: tenant, accountId: null }, (tx) => tx.query('INSERT INTO agents.runs (tenant_id) VALUES ($1)', [tenant]));
    }
    // Logged in as the role (PostgreSQL; the test server trusts local logins), or switched to it on
    // embedded PGlite (whose one user is a superuser), in a transaction rolled back after.
    const asReadonly = async (tenant: string | null, sql: string): Promise<{ rows: { n: number }[] } | Error> => {
      const url = backends.database.ownerUrl ? new URL(backends.database.ownerUrl) : null;
      if (url) url.username = 'bizosaas_readonly';
      const client = url ? new pg.Client({ connectionString: url.toString() }) : await backends.db.pool.connect();
      if (url) await (client as pg.Client).connect();
      try {
        await client.query('BEGIN');
        if (!url) await client.query('SET LOCAL ROLE bizosaas_readonly');
        if (tenant) await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
        return await client.query(sql);
      } catch (error) {
        return error as Error;
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        if (url) await (client as pg.Client).end();
        else (client as pg.PoolClient).release();
      }
    };
    const count = async (tenant: string | null) => {
      const result = await asReadonly(tenant, 'SELECT count(*)::int AS n FROM agents.runs');
      return result instanceof Error ? result.message : result.rows[0]!.n;
    };
    expect(await count(null)).toBe(0);
    expect(await count(mine)).toBe(1);
    expect(await count(other)).toBe(1);
    expect(String(await asReadonly(mine, `INSERT INTO agents.runs (tenant_id) VALUES ('${mine}')`))).toMatch(/permission denied/);
    expect(String(await asReadonly(mine, `DELETE FROM agents.runs`))).toMatch(/permission denied/);
    // Column grants follow the app role's: agents.notes gives it (tenant_id, id), not secret.
    expect(String(await asReadonly(mine, 'SELECT secret FROM agents.notes'))).toMatch(/permission denied/);
    expect(await asReadonly(mine, 'SELECT id FROM agents.notes')).not.toBeInstanceOf(Error);
    // No other table: auth's accounts (password hashes) are no tenant table.
    expect(String(await asReadonly(null, 'SELECT count(*) FROM auth.accounts'))).toMatch(/permission denied/);
  });

  it('is not callable by the app role', async () => {
    await expect(
      backends.db.withTenant({ tenantId: null, accountId: null }, (tx) => tx.query(`SELECT kit.tenant_table('agents.runs')`)),
    ).rejects.toThrow(/permission denied/);
  });
});

describe('the same subgraph without dependsOn, on a fresh database', () => {
  let backends: TestBackends;
  const agents = agentsSubgraph();

  beforeAll(async () => {
    backends = await createTestBackends();
  });
  afterAll(async () => {
    await backends?.close();
    agents.cleanUp();
  });

  it('sorts before auth and fails to migrate: what dependsOn prevents', async () => {
    const ordered = inDependencyOrder([auth, agents]);
    expect(ordered.map((s) => s.name)).toEqual(['agents', 'auth']);
    await expect(backends.migrate(ordered.map((s) => s.migrations!))).rejects.toThrow(/"auth"|auth\.memberships/);
  });
});
