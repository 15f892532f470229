import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { ONE_STATEMENT, type Tx } from '../subgraphs/kit/db/database.ts';
import { sharedReads } from '../subgraphs/kit/db/shared-reads.ts';
import { loadSubgraphs } from '../subgraphs/kit/registry.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';
import { postgresReachable } from './support/services.ts';

const acme = DEMO_TENANTS[0].id;
const globex = DEMO_TENANTS[1].id;
const none = { tenantId: null, accountId: null };

// The same row-level security checks on real PostgreSQL (when reachable) and on embedded PGlite.
const modes = [{ name: 'embedded PGlite', embedded: true }];
if (await postgresReachable()) modes.unshift({ name: 'PostgreSQL', embedded: false });

// Every subgraph with tables has a schema of its own (its migrations' name): all are checked,
// including subgraphs added after this test was written.
const subgraphs = await loadSubgraphs();
const schemas = subgraphs.flatMap((s) => (s.migrations ? [s.migrations.name] : []));

describe.each(modes)('row-level security on $name', ({ embedded }) => {
  let backends: TestBackends;

  beforeAll(async () => {
    backends = await createTestBackends({}, { embedded });
    await backends.migrate(subgraphs.flatMap((s) => (s.migrations ? [s.migrations] : [])));
    await auth.seed!(backends.deps('auth'));
  });
  afterAll(() => backends?.close());

  it('finds the subgraph schemas in the registry', () => {
    expect(schemas).toEqual(expect.arrayContaining(['auth', 'crm', 'cms']));
  });

  it('the app role is not superuser, cannot bypass RLS and owns no table', async () => {
    const role = await backends.db.withTenant(none, async (tx) => {
      const { rows } = await tx.query(
        `SELECT current_user AS name, r.rolsuper, r.rolbypassrls,
           (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid) AS owned
         FROM pg_roles r WHERE r.rolname = current_user`,
      );
      return rows[0];
    });
    expect(role).toEqual({ name: 'bizosaas_app', rolsuper: false, rolbypassrls: false, owned: 0 });
  });

  it('every table in a subgraph schema has ENABLE and FORCE row level security', async () => {
    const { rows } = await backends.db.withTenant(none, (tx) =>
      tx.query(
        `SELECT n.nspname || '.' || c.relname AS name, c.relrowsecurity, c.relforcerowsecurity
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1) AND c.relname <> 'schema_migrations'`,
        [schemas],
      ),
    );
    expect(rows.length).toBeGreaterThan(0);
    // Every schema has tables (a schema without any would mean the list was not what we meant).
    for (const schema of schemas) expect(rows.some((row) => row.name.startsWith(`${schema}.`)), schema).toBe(true);
    for (const row of rows) expect(row, row.name).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
  });

  it('every table with a tenant_id column is isolated by tenant for the app role (kit.tenant_table)', async () => {
    const { rows } = await backends.db.withTenant(none, (tx) =>
      tx.query(
        `SELECT n.nspname || '.' || c.relname AS name,
           (SELECT concat_ws(' ', p.qual, p.with_check) FROM pg_policies p
            WHERE p.schemaname = n.nspname AND p.tablename = c.relname AND p.policyname = 'tenant_isolation'
              AND p.cmd = 'ALL' AND p.roles = '{bizosaas_app}') AS expr
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1)`,
        [schemas],
      ),
    );
    expect(rows.length).toBeGreaterThan(10);
    // The InitPlan form, as PostgreSQL prints it back: the setting read once per statement.
    const tenant = `(tenant_id = ( SELECT (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid AS "nullif"))`;
    for (const { name, expr } of rows as { name: string; expr: string | null }[]) expect(expr, name).toBe(`${tenant} ${tenant}`);
  });

  it('every app policy reads the tenant and account once per statement (a scalar subquery), not per row', async () => {
    const { rows } = await backends.db.withTenant(none, (tx) =>
      tx.query(
        `SELECT schemaname || '.' || tablename || ' ' || policyname AS name, concat_ws(' ', qual, with_check) AS expr
         FROM pg_policies WHERE 'bizosaas_app' = ANY(roles) AND schemaname = ANY($1)`,
        [schemas],
      ),
    );
    expect(rows.length).toBeGreaterThan(10);
    for (const { name, expr } of rows as { name: string; expr: string }[]) {
      const reads = expr.match(/current_setting\(/g)?.length ?? 0;
      const once = expr.match(/\( SELECT \(NULLIF\(current_setting\(/g)?.length ?? 0;
      expect(reads, name).toBeGreaterThan(0);
      expect(once, `${name}: ${expr}`).toBe(reads);
    }
  });

  it('sees 0 rows when no tenant is set, inside or outside a transaction', async () => {
    for (const table of ['auth.tenants', 'auth.memberships', 'auth.refresh_tokens', 'auth.accounts']) {
      const inTx = await backends.db.withTenant(none, (tx) => tx.query(`SELECT count(*)::int AS n FROM ${table}`));
      expect(inTx.rows[0].n, table).toBe(0);
    }
    if (!embedded) {
      // On PostgreSQL the pool connects as the app role itself, so even a bare query is filtered.
      const bare = await backends.db.pool.query('SELECT count(*)::int AS n FROM auth.memberships');
      expect(bare.rows[0].n).toBe(0);
    }
  });

  it('sees only its tenant, and cannot write rows of another tenant', async () => {
    const count = (tenantId: string) =>
      backends.db.withTenant({ tenantId, accountId: null }, (tx) => tx.query('SELECT DISTINCT tenant_id FROM auth.memberships'));
    expect((await count(acme)).rows).toEqual([{ tenant_id: acme }]);
    expect((await count(globex)).rows).toEqual([{ tenant_id: globex }]);
    await expect(
      backends.db.withTenant({ tenantId: globex, accountId: null }, (tx) =>
        tx.query(`INSERT INTO auth.memberships (tenant_id, account_id, role)
                  SELECT $1, account_id, 'viewer' FROM auth.memberships LIMIT 1`, [acme]),
      ),
    ).rejects.toThrow(/row-level security/);
    const moved = await backends.db.withTenant({ tenantId: globex, accountId: null }, (tx) =>
      tx.query(`UPDATE auth.memberships SET role = 'viewer' WHERE tenant_id = $1`, [acme]),
    );
    expect(moved.rowCount).toBe(0);
  });

  it('the tenant setting is transaction-local: it does not leak to the next user of the connection', async () => {
    await backends.db.withTenant({ tenantId: acme, accountId: null }, (tx) => tx.query('SELECT 1'));
    const after = await backends.db.withTenant(none, (tx) =>
      tx.query(`SELECT current_setting('app.tenant_id', true) AS tenant, (SELECT count(*)::int FROM auth.memberships) AS n`),
    );
    expect(after.rows[0]).toEqual({ tenant: '', n: 0 });
  });

  it('statements sent before BEGIN is answered (pipelined) run inside the tenant transaction', async () => {
    const SQL = `SELECT txid_current() AS tx, current_setting('app.tenant_id', true) AS tenant,
      (SELECT count(DISTINCT tenant_id)::int FROM auth.memberships) AS tenants`;
    const [first, second] = await backends.db.withTenant({ tenantId: globex, accountId: null }, (tx) =>
      Promise.all([tx.query(SQL), tx.query(`${SQL} -- second`)]),
    );
    expect(first!.rows[0]).toMatchObject({ tenant: globex, tenants: 1 });
    expect(second!.rows[0]).toEqual(first!.rows[0]); // one transaction: the same txid
    const next = await backends.db.withTenant(none, (tx) => tx.query(SQL));
    expect(next.rows[0].tx).not.toBe(first!.rows[0].tx);
    expect(next.rows[0]).toMatchObject({ tenant: '', tenants: 0 });
  });

  it('a read declared to run N statements takes COMMIT with the last one, inside the tenant transaction', async () => {
    const SQL = `SELECT txid_current() AS tx, current_setting('app.tenant_id', true) AS tenant,
      (SELECT count(DISTINCT tenant_id)::int FROM auth.memberships) AS tenants`;
    const globexScope = { tenantId: globex, accountId: null };
    const [first, second] = await backends.db.withTenant(globexScope, async (tx) => [await tx.query(SQL), await tx.query(`${SQL} -- 2`)], { statements: 2 });
    expect(first!.rows[0]).toMatchObject({ tenant: globex, tenants: 1 });
    expect(second!.rows[0]).toEqual(first!.rows[0]);
    const after = await backends.db.withTenant(none, (tx) => tx.query(SQL), ONE_STATEMENT);
    expect(after.rows[0]).toMatchObject({ tenant: '', tenants: 0 });
    expect(after.rows[0].tx).not.toBe(first!.rows[0].tx);

    // One statement more than declared is refused before it reaches PostgreSQL.
    const seen: string[] = [];
    const stop = backends.db.onStatement((text) => seen.push(text));
    await expect(
      backends.db.withTenant(globexScope, async (tx) => [await tx.query('SELECT 1'), await tx.query('SELECT 2')], ONE_STATEMENT),
    ).rejects.toThrow('a transaction declared to run 1 statement(s) ran more');
    stop();
    expect(seen).toEqual(['SELECT 1']);

    // A failing statement fails its caller and leaves the connection clean for the next one.
    await expect(backends.db.withTenant(globexScope, (tx) => tx.query('SELECT 1 / $1::int', [0]), ONE_STATEMENT)).rejects.toThrow(
      'division by zero',
    );
    const next = await backends.db.withTenant({ tenantId: acme, accountId: null }, (tx) => tx.query(SQL), ONE_STATEMENT);
    expect(next.rows[0]).toMatchObject({ tenant: acme, tenants: 1 });
  });

  it("a request's declared reads that start in the same tick share one transaction, each with its own result", async () => {
    const SQL = `SELECT txid_current()::text AS tx, current_setting('app.tenant_id', true) AS tenant,
      (SELECT count(DISTINCT tenant_id)::int FROM auth.memberships) AS tenants, $1::int AS n`;
    const read = (tx: Tx, n: number) => tx.query(SQL, [n]).then((r) => r.rows[0]);
    const tx = sharedReads(backends.db, { tenantId: globex, accountId: null });
    const [a, b, c] = await Promise.all([tx((t) => read(t, 1), ONE_STATEMENT), tx((t) => read(t, 2), ONE_STATEMENT), tx((t) => read(t, 3), ONE_STATEMENT)]);
    expect([a.n, b.n, c.n]).toEqual([1, 2, 3]);
    expect(new Set([a.tx, b.tx, c.tx]).size).toBe(1);
    expect(a).toMatchObject({ tenant: globex, tenants: 1 });

    // A later tick, or a transaction that declares nothing (a write), gets a transaction of its own.
    const later = await tx((t) => read(t, 4), ONE_STATEMENT);
    const undeclared = await tx((t) => read(t, 5));
    expect(new Set([a.tx, later.tx, undeclared.tx]).size).toBe(3);
    expect(later).toMatchObject({ tenant: globex, tenants: 1 });

    // One read past its own declared statements fails alone; one failing statement fails the reads after it.
    const outcomes = await Promise.allSettled([
      tx((t) => read(t, 6), ONE_STATEMENT),
      tx(async (t) => [await read(t, 7), await read(t, 8)], ONE_STATEMENT),
      tx((t) => t.query('SELECT 1 / $1::int', [0]), ONE_STATEMENT),
      tx((t) => read(t, 9), ONE_STATEMENT),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toContain('declared to run 1 statement(s) ran more');
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toContain('division by zero');
    expect(String((outcomes[3] as PromiseRejectedResult).reason)).toContain('current transaction is aborted');
    // The connection is clean afterwards.
    expect(await tx((t) => read(t, 10), ONE_STATEMENT)).toMatchObject({ tenant: globex, n: 10 });
  });

  it('a failed transaction rolls back and leaves the connection usable', async () => {
    await expect(
      backends.db.withTenant({ tenantId: acme, accountId: null }, async (tx) => {
        await tx.query(`UPDATE auth.tenants SET name = 'changed' WHERE id = $1`, [acme]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const name = await backends.db.withTenant({ tenantId: acme, accountId: null }, (tx) => tx.query('SELECT name FROM auth.tenants'));
    expect(name.rows).toEqual([{ name: 'Acme Agency' }]);
  });
});
