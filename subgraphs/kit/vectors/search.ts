import type { Tx } from '../db/database.ts';
import { Params } from '../db/params.ts';
import { sqlName, type VectorColumn } from './column.ts';
import type { Embedder } from './embedder.ts';
import { checkDimensions, checkModel, isZero, vectorText } from './literal.ts';

export interface NearestOptions {
  /** The embedding model of `vector`: only rows embedded with it (and its dimension) are compared. */
  model: string;
  vector: Float32Array;
  /** At most this many rows, best first (1 to 1,000). */
  limit: number;
  /** Columns to return with each score (plain names of the table; default `id`). */
  select?: readonly string[];
  /**
   * More conditions, as SQL joined with AND, their values added through `p` (`kind = ${p.add(kind)}`).
   * Row-level security already limits the rows to the caller's tenant.
   */
  where?: (p: Params) => string;
  /** Only rows at least this similar (cosine, -1 to 1). */
  minScore?: number;
}

/**
 * Candidates an hnsw scan keeps (pgvector's default is 40): more finds the true nearest more
 * often (recall) at some cost; the index is approximate either way, most visibly for texts unlike
 * the rest of the table, which the graph links to few others.
 */
// Measured with the local embedder (pages of unrelated subjects among 400 rows, 8 index builds):
// at 40 the true best page was missed in 7 of 32 searches, at 100 in none.
const efSearch = (limit: number) => Math.min(1000, Math.max(100, 2 * limit));


/** One statement to send (or two, on pgvector: `prepare` first, in the same transaction). */
export interface NearestQuery {
  /**
   * pgvector only, transaction-local: lets the hnsw index keep scanning until `limit` rows pass
   * the filters (row-level security's tenant, the model, `where`): `hnsw.iterative_scan =
   * relaxed_order`. Without it an index scan looks at `hnsw.ef_search` candidates of every tenant
   * and returns what is left: too few for a small tenant. (strict_order drops a nearer row found
   * in a later round: measured, it lost a small tenant's best match.) It also raises
   * `hnsw.ef_search` from 40 (see efSearch).
   */
  prepare: string | null;
  text: string;
  values: unknown[];
}

export type Neighbour<R> = R & { score: number };

/**
 * The nearest-neighbour SELECT of `column`'s storage, scored by cosine similarity (1 = same
 * direction), best first, among the rows embedded with `options.model` and the vector's dimension
 * (rows of another model, another dimension or not embedded are never compared):
 *   * pgvector: `ORDER BY col::vector(n) <=> $1 LIMIT $2`, the form the model's partial hnsw
 *     index serves (model and dimension are inlined so the planner can match its predicate),
 *     approximate when the planner uses the index (it reads and sorts exactly when the rows are
 *     few: a small tenant by its primary key, a table of a few thousand rows);
 *   * exact: kit.cosine_similarity over every row of the tenant and model, then the top `limit`.
 * Tenancy is row-level security's: run it in the caller's tenant transaction.
 */
export function nearestQuery(column: VectorColumn, options: NearestOptions): NearestQuery {
  const model = checkModel(options.model);
  const dimensions = checkDimensions(options.vector.length);
  if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > 1000) {
    throw new Error(`vectors: limit must be an integer from 1 to 1000, not ${options.limit}`);
  }
  if (options.minScore !== undefined && !(options.minScore >= -1 && options.minScore <= 1)) {
    throw new Error(`vectors: minScore must be from -1 to 1, not ${options.minScore}`);
  }
  const select = (options.select ?? ['id']).map((name) => sqlName(name, 'column name'));
  if (!select.length || select.some((name) => name === 'score' || name === 'kit_distance')) {
    throw new Error('vectors: select names the columns to return (score is added)');
  }
  const col = column.column;
  const p = new Params();
  const q = p.add(vectorText(column.storage, options.vector));
  const limit = p.add(options.limit);
  const conditions = [`${col}_model = '${model}'`, `${col}_dimensions = ${dimensions}`];
  const extra = options.where?.(p);
  if (extra) conditions.push(`(${extra})`);

  if (column.storage === 'pgvector') {
    const ext = column.extensionSchema!;
    const distance = `${col}::${ext}.vector(${dimensions}) OPERATOR(${ext}.<=>) ${q}::${ext}.vector(${dimensions})`;
    if (options.minScore !== undefined) conditions.push(`${distance} <= ${p.add(1 - options.minScore)}::float8`);
    // relaxed_order may return a row found late a little out of order: the outer query sorts the
    // few rows again (pgvector's documented form), where strict_order would drop such a row.
    const nearestRows = `SELECT ${select.join(', ')}, ${distance} AS kit_distance FROM ${column.table} WHERE ${conditions.join(' AND ')} ORDER BY ${distance} LIMIT ${limit}`;
    return {
      prepare: `SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', '${efSearch(options.limit)}', true)`,
      text: `WITH nearest AS MATERIALIZED (${nearestRows}) SELECT ${select.join(', ')}, 1 - kit_distance AS score FROM nearest ORDER BY kit_distance`,
      values: p.values,
    };
  }
  const score = `kit.cosine_similarity(${col}, ${q}::real[])`;
  const inner = `SELECT ${select.join(', ')}, ${score} AS score FROM ${column.table} WHERE ${conditions.join(' AND ')}`;
  const min = options.minScore !== undefined ? ` AND score >= ${p.add(options.minScore)}::float8` : '';
  return {
    prepare: null,
    text: `SELECT * FROM (${inner}) AS scored WHERE score IS NOT NULL${min} ORDER BY score DESC LIMIT ${limit}`,
    values: p.values,
  };
}

/**
 * The rows nearest to `options.vector`, best first, with their scores, in the caller's tenant
 * transaction (row-level security applies). One statement; two on pgvector (see
 * NearestQuery.prepare), so not inside a transaction that declared one statement.
 * A zero vector (an empty text) has no neighbours.
 */
export async function nearest<R extends Record<string, unknown> = { id: string }>(
  tx: Tx,
  column: VectorColumn,
  options: NearestOptions,
): Promise<Neighbour<R>[]> {
  if (isZero(options.vector)) return [];
  const query = nearestQuery(column, options);
  if (query.prepare) await tx.query(query.prepare);
  const { rows } = await tx.query<Neighbour<R>>(query.text, query.values);
  // float8 arrives as a number; a NaN (a zero vector stored some other way) is no neighbour.
  return rows.filter((row) => Number.isFinite(row.score));
}

/** Embeds `text` with `embedder` and returns its nearest rows (see `nearest`). */
export async function searchText<R extends Record<string, unknown> = { id: string }>(
  tx: Tx,
  column: VectorColumn,
  embedder: Embedder,
  text: string,
  options: Omit<NearestOptions, 'model' | 'vector'>,
): Promise<Neighbour<R>[]> {
  const [vector] = await embedder.embed([text]);
  return nearest<R>(tx, column, { ...options, model: embedder.model, vector: vector! });
}
