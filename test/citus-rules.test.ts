import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSubgraphs } from '../subgraphs/kit/registry.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';

// Issue 18, 5: the schema can be distributed by tenant (Citus) without changing tables or
// queries. On the migrated database of every subgraph the registry lists:
//   * a tenant table (kit.tenant_table(): it has the `tenant_isolation` policy) is distributed
//     by `tenant_id` (the column that policy compares), so its primary key, every unique
//     constraint and unique index, and every foreign key lead with it; a foreign key from a
//     tenant table references another tenant table on (tenant_id, ...) or a reference table;
//   * every other table is a reference table (copied to every node), named below with its
//     reason, and references no distributed table (Citus cannot keep a reference table's foreign
//     key to a distributed one).
// A new table that follows neither rule fails here. docker/README.md ("PostgreSQL at scale:
// Citus") says what a deployment does with these.

/** Tables that are not distributed by tenant, by name, each with why it is global. */
const REFERENCE_TABLES: Record<string, string> = {
  'auth.accounts': 'a person across tenants (one login, memberships in several tenants), found by email before any tenant',
  'auth.tenants':
    'the tenants themselves: looked up by slug or Saleor channel before a tenant is known (unique across tenants); ' +
    'its row-level security (column id) applies on a reference table as on any other',
  'cms.sites':
    "a tenant's public sites (a row or two per tenant), found by site key or tenant slug before a tenant is known " +
    '(both unique across tenants); nothing references it',
};

/**
 * Unique indexes of distributed tables that do not lead with tenant_id, by name: each is unique
 * across tenants on purpose and must change before the table is distributed (Citus refuses a
 * unique index without the distribution column). Not a place for new ones.
 */
const KNOWN_GLOBAL_UNIQUES: Record<string, string> = {
  'crm.lead_forms.lead_forms_key_hash_key':
    'the public lead endpoint finds the tenant by the form key alone. For Citus: unique (tenant_id, key_hash) plus a ' +
    'plain index on key_hash (the look-up then asks every shard), or the key moved to a reference table',
};

/** The distribution column of every distributed table. */
const DISTRIBUTION_COLUMN = 'tenant_id';

let backends: TestBackends;
const subgraphs = await loadSubgraphs();
const schemas = subgraphs.flatMap((s) => (s.migrations ? [s.migrations.name] : []));

interface Table {
  name: string;
  /** The tenant column of its tenant_isolation policy; null for a table without one. */
  tenant: string | null;
}
interface Key {
  table: string;
  name: string;
  kind: 'p' | 'u' | 'f' | 'index';
  columns: string[];
  refTable: string | null;
  refColumns: string[] | null;
}

interface Catalog {
  tables: Table[];
  keys: Key[];
}

/** The tables of the subgraph schemas and their keys, read from the catalog (not under RLS). */
async function readCatalog(db: { query: (text: string, params?: unknown[]) => Promise<{ rows: unknown[] }> }): Promise<Catalog> {
  const tables = (
    (await db.query(
      `SELECT n.nspname || '.' || c.relname AS name,
         (SELECT substring(p.qual FROM '^\\((\\w+) = ') FROM pg_policies p
          WHERE p.schemaname = n.nspname AND p.tablename = c.relname AND p.policyname = 'tenant_isolation') AS tenant
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY($1) AND c.relname <> 'schema_migrations'
       ORDER BY 1`,
      [schemas],
    )) as { rows: Table[] }
  ).rows;
  const columnsOf = (rel: string, attnums: string) =>
    `ARRAY(SELECT a.attname::text FROM unnest(${attnums}) WITH ORDINALITY k(attnum, i)
           JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.attnum ORDER BY k.i)`;
  const keys = (
    (await db.query(
      `SELECT n.nspname || '.' || c.relname AS table, con.conname AS name, con.contype::text AS kind,
         ${columnsOf('con.conrelid', 'con.conkey')} AS columns,
         CASE WHEN con.contype = 'f' THEN rn.nspname || '.' || rc.relname END AS "refTable",
         CASE WHEN con.contype = 'f' THEN ${columnsOf('con.confrelid', 'con.confkey')} END AS "refColumns"
       FROM pg_constraint con
       JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
       WHERE con.contype IN ('p', 'u', 'f') AND n.nspname = ANY($1) AND c.relname <> 'schema_migrations'
       UNION ALL
       -- Unique indexes that are no constraint (CREATE UNIQUE INDEX): Citus needs the column in them too.
       SELECT n.nspname || '.' || c.relname, ic.relname, 'index',
         ${columnsOf('i.indrelid', 'i.indkey::int2[]')}, NULL, NULL
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE i.indisunique AND n.nspname = ANY($1) AND c.relname <> 'schema_migrations'
         AND NOT EXISTS (SELECT FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype <> 'f')
       ORDER BY 1, 2`,
      [schemas],
    )) as { rows: Key[] }
  ).rows;
  return { tables, keys };
}

let catalog: Catalog;
beforeAll(async () => {
  backends = await createTestBackends();
  await backends.migrate(subgraphs.flatMap((s) => (s.migrations ? [s.migrations] : [])));
  catalog = await readCatalog(backends.db.pool);
}, 120_000);
afterAll(() => backends?.close());

/** What breaks each rule, one line per table or key. */
function rules({ tables, keys }: Catalog) {
  /** A distributed table's distribution column (its tenant column); null for a reference table. */
  const tenantColumn = (name: string) => (name in REFERENCE_TABLES ? null : (tables.find((t) => t.name === name)?.tenant ?? null));
  return {
    /** Tables neither per tenant nor listed as reference tables. */
    unexplained: tables.filter((t) => !t.tenant && !(t.name in REFERENCE_TABLES)).map((t) => t.name),
    /** Distributed tables whose tenant column is another. */
    otherColumn: tables.filter((t) => tenantColumn(t.name) && t.tenant !== DISTRIBUTION_COLUMN).map((t) => `${t.name}: ${t.tenant}`),
    primaryKeys: tables
      .filter((t) => tenantColumn(t.name))
      .flatMap((t) => {
        const pk = keys.find((k) => k.table === t.name && k.kind === 'p');
        if (!pk) return [`${t.name}: no primary key`];
        return pk.columns[0] === t.tenant ? [] : [`${t.name}: primary key (${pk.columns.join(', ')})`];
      }),
    uniques: keys
      .filter((k) => (k.kind === 'u' || k.kind === 'index') && tenantColumn(k.table))
      .filter((k) => k.columns[0] !== tenantColumn(k.table) && !(`${k.table}.${k.name}` in KNOWN_GLOBAL_UNIQUES))
      .map((k) => `${k.table}.${k.name} (${k.columns.join(', ') || 'an expression'})`),
    foreignKeys: keys
      .filter((k) => k.kind === 'f' && tenantColumn(k.table))
      .filter((k) => {
        const referenced = tenantColumn(k.refTable!);
        if (!referenced) return !(k.refTable! in REFERENCE_TABLES);
        return k.columns[0] !== tenantColumn(k.table) || k.refColumns![0] !== referenced;
      })
      .map((k) => `${k.table}.${k.name} (${k.columns.join(', ')}) -> ${k.refTable} (${k.refColumns!.join(', ')})`),
    referenceToDistributed: keys
      .filter((k) => k.kind === 'f' && !tenantColumn(k.table) && tenantColumn(k.refTable!))
      .map((k) => `${k.table}.${k.name} -> ${k.refTable}`),
  };
}

describe('Citus: every table can be distributed by tenant or is a named reference table', () => {
  it('finds the tables of every subgraph', () => {
    expect(schemas).toEqual(expect.arrayContaining(['auth', 'crm', 'cms', 'bi']));
    expect(catalog.tables.filter((t) => t.tenant === DISTRIBUTION_COLUMN).length).toBeGreaterThan(10);
    // Unique indexes that are no constraint are found too (auth.tenants' slug, say).
    expect(catalog.keys.some((k) => k.kind === 'index')).toBe(true);
  });

  it('every table is a tenant table (kit.tenant_table) or a reference table named in this test', () => {
    expect(rules(catalog).unexplained, 'tables neither per tenant nor listed as reference tables').toEqual([]);
    const stale = Object.keys(REFERENCE_TABLES).filter((name) => !catalog.tables.some((t) => t.name === name));
    expect(stale, 'REFERENCE_TABLES entries that are no table').toEqual([]);
  });

  it(`every distributed table's tenant column is ${DISTRIBUTION_COLUMN} (one colocation group)`, () => {
    expect(rules(catalog).otherColumn).toEqual([]);
  });

  it('every tenant table has a primary key that leads with tenant_id', () => {
    expect(rules(catalog).primaryKeys).toEqual([]);
  });

  it('every unique constraint and unique index of a tenant table leads with tenant_id', () => {
    expect(rules(catalog).uniques).toEqual([]);
    const stale = Object.keys(KNOWN_GLOBAL_UNIQUES).filter((name) => !catalog.keys.some((k) => `${k.table}.${k.name}` === name));
    expect(stale, 'KNOWN_GLOBAL_UNIQUES entries that are gone').toEqual([]);
  });

  it('every foreign key of a tenant table leads with tenant_id on both sides, or references a reference table', () => {
    expect(rules(catalog).foreignKeys).toEqual([]);
  });

  it('no reference table has a foreign key to a distributed table', () => {
    expect(rules(catalog).referenceToDistributed).toEqual([]);
  });

  it('a new table that breaks the rules is caught', async () => {
    // As the owner (what migrations run as), in a schema of its own, rolled back afterwards.
    const rolledBack = new Error('rolled back');
    const found = await backends
      .deps('crm')
      .asOwner(async (tx) => {
        await tx.query(`
          CREATE SCHEMA citus_probe;
          CREATE TABLE citus_probe.global (id uuid PRIMARY KEY);
          CREATE TABLE citus_probe.items (tenant_id uuid NOT NULL, id uuid, code text, parent uuid,
            PRIMARY KEY (id), UNIQUE (code), FOREIGN KEY (parent) REFERENCES citus_probe.items (id));
          SELECT kit.tenant_table('citus_probe.items');`);
        schemas.push('citus_probe');
        try {
          throw Object.assign(rolledBack, { found: rules(await readCatalog(tx)) });
        } finally {
          schemas.pop();
        }
      })
      .catch((error: unknown) => (error === rolledBack ? (rolledBack as Error & { found: ReturnType<typeof rules> }).found : Promise.reject(error)));
    expect(found.unexplained).toEqual(['citus_probe.global']);
    expect(found.primaryKeys).toEqual(['citus_probe.items: primary key (id)']);
    expect(found.uniques).toEqual(['citus_probe.items.items_code_key (code)']);
    expect(found.foreignKeys).toEqual(['citus_probe.items.items_parent_fkey (parent) -> citus_probe.items (id)']);
  });
});
