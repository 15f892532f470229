import type { ListRequest } from '../connection.ts';
import type { Tx, TxOptions } from './database.ts';

/** One page of a list; `total` is null when the caller did not ask for it and it is not known. */
export interface ListPage<R> {
  rows: R[];
  /** A row exists past this page. */
  hasMore: boolean;
  total: number | null;
}

/**
 * Reads one page of a list: `rows` (a SELECT ending in its ORDER BY) gets `LIMIT limit + 1 OFFSET
 * offset`, and the extra row says whether a next page exists. The total is known without
 * counting when this page is the last one; otherwise `count` (the same FROM and WHERE, with the
 * same `values`) runs only when the caller asked for it. Counting scans every row of the tenant
 * that matches, where a page with a matching index stops after its rows: a leads page of the
 * demo tenant costs PostgreSQL 0.09 ms this way, 0.77 ms with `count(*) OVER ()`.
 */
export async function readPage<R>(
  tx: Tx,
  query: { rows: string; count: string; values: readonly unknown[] },
  page: ListRequest,
): Promise<ListPage<R>> {
  const n = query.values.length;
  const { rows } = await tx.query<R>(`${query.rows} LIMIT $${n + 1} OFFSET $${n + 2}`, [...query.values, page.limit + 1, page.offset]);
  const hasMore = rows.length > page.limit;
  if (hasMore) rows.length = page.limit;
  let total: number | null = null;
  if (!hasMore && (rows.length > 0 || page.offset === 0)) total = page.offset + rows.length;
  else if (page.withTotal) total = Number((await tx.query<{ n: string }>(query.count, query.values)).rows[0]!.n);
  return { rows, hasMore, total };
}

/** A list's SELECT in parts; `values` fill the placeholders of `where` and `orderBy` (see Params). */
export interface ListQuery {
  columns: string;
  /** A table, or a join. */
  from: string;
  /** Conditions, all of which must hold; none: every row the tenant has. */
  where: readonly string[];
  orderBy: string;
  values: readonly unknown[];
}

/**
 * `readPage` of a SELECT given in parts, with its count built from the same FROM and WHERE.
 *
 *   const p = new Params();
 *   const where = filter.ownerId ? [`owner_id = ${p.add(filter.ownerId)}`] : [];
 *   return readList<LeadRow>(tx, { columns: LEADS.columns, from: LEADS.name, where, orderBy: 'created_at DESC, id DESC', values: p.values }, page);
 */
export function readList<R>(tx: Tx, query: ListQuery, page: ListRequest): Promise<ListPage<R>> {
  const where = query.where.length ? ` WHERE ${query.where.join(' AND ')}` : '';
  return readPage<R>(
    tx,
    {
      rows: `SELECT ${query.columns} FROM ${query.from}${where} ORDER BY ${query.orderBy}`,
      count: `SELECT count(*) AS n FROM ${query.from}${where}`,
      values: query.values,
    },
    page,
  );
}

/** The statements `readPage` may run, for the transaction it runs in: the page, and its count when asked for. */
export const pageStatements = (page: ListRequest): TxOptions => ({ statements: page.withTotal ? 2 : 1 });
