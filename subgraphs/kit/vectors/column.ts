import type { Tx } from '../db/database.ts';

/**
 * A vector column that `kit.vector_column()` added in a migration (kit/migrations/002_vectors.sql):
 * how it is stored, read from the catalog, so the search builds the statement that storage needs.
 *   * 'pgvector': a `vector` column, hnsw-indexed per model and dimension (`<=>`, cosine);
 *   * 'exact': a `real[]` column (no pgvector when it was migrated), exact cosine in SQL.
 */
export type VectorStorage = 'pgvector' | 'exact';

export interface VectorColumn {
  /** `schema.table`, as written in SQL. */
  table: string;
  /** The vector column; `<column>_model` and `<column>_dimensions` sit beside it. */
  column: string;
  storage: VectorStorage;
  /** The schema of the `vector` extension (its type and operators), for the 'pgvector' storage. */
  extensionSchema: string | null;
  /** What the migration chose and why, from the column's comment (for the start-up log). */
  note: string;
}

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A lower-case SQL name written as is; anything else is refused (names come from code, never input). */
export function sqlName(name: string, what = 'name'): string {
  if (!NAME.test(name)) throw new Error(`vectors: not a plain SQL ${what}: ${JSON.stringify(name)}`);
  return name;
}

/** `schema.table` checked as two plain names. */
export function sqlTable(table: string): string {
  const parts = table.split('.');
  if (parts.length !== 2) throw new Error(`vectors: expected schema.table, not ${JSON.stringify(table)}`);
  return parts.map((part) => sqlName(part, 'table name')).join('.');
}

/**
 * Reads how `table.column` is stored (one catalog statement; any role with USAGE on the schema).
 * Call it once when the subgraph starts, log `note`, and pass the result to every search.
 */
export async function describeVectorColumn(tx: Tx, table: string, column = 'embedding'): Promise<VectorColumn> {
  const name = sqlTable(table);
  sqlName(column, 'column name');
  const { rows } = await tx.query<{ type: string; note: string | null; ext: string | null }>(
    `SELECT t.typname AS type, col_description(a.attrelid, a.attnum) AS note,
       (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector') AS ext
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = $1::regclass AND a.attname = $2 AND NOT a.attisdropped`,
    [name, column],
  );
  const row = rows[0];
  if (!row) throw new Error(`vectors: ${name} has no column ${column} (a migration adds it with kit.vector_column)`);
  const storage: VectorStorage | undefined = row.type === 'vector' ? 'pgvector' : row.type === '_float4' ? 'exact' : undefined;
  if (!storage) throw new Error(`vectors: ${name}.${column} is ${row.type}, not a column kit.vector_column added`);
  if (storage === 'pgvector' && !row.ext) throw new Error(`vectors: ${name}.${column} is a vector column but the extension is gone`);
  return {
    table: name,
    column,
    storage,
    extensionSchema: storage === 'pgvector' ? sqlName(row.ext!, 'schema name') : null,
    note: row.note ?? (storage === 'pgvector' ? 'pgvector' : 'exact cosine over real[], no index'),
  };
}
