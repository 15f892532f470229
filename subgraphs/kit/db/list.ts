import type { ListRequest } from '../connection.ts';
import type { Tx, TxOptions } from './database.ts';

/** One page of a list; `total` is null when the caller did not ask for it and it is not known. */
export interface ListPage<R> {
  /** (A first page's rows also carry `__total`: see readPage. Never spread them into a payload.) */
  rows: R[];
  /** A row exists past this page. */
  hasMore: boolean;
  total: number | null;
}

/**
 * Reads one page of a list: `rows` (a SELECT ending in its ORDER BY) gets `LIMIT limit + 1` (and
 * `OFFSET offset` past the first page), and the extra row says whether a next page exists. The
 * total, when the caller asked for it:
 * - on the first page, from the page's own statement: `rowsWithTotal` is `rows` with the count as
 *   a column `__total`, an uncorrelated subquery PostgreSQL runs once (no GraphQL field reads it:
 *   names never start with two underscores). One statement, not two: a REST leads page (with its
 *   count) cost crm 1.24 against 1.46 CPU ms and PostgreSQL 0.45 against 0.58
 *   (`bench:subgraph --request rest-leads`, every round of 6);
 *   The cost: a first page that is also the last used to know its total for free; it now counts
 *   the rows it matched a second time (a second scan where no index serves the filter). And a
 *   list has three statement texts, not two (prepared per text, up to database.ts
 *   MAX_PREPARED). Tried, not kept: numbering the rows (`row_number()`) so that only the extra
 *   row, there when the page is full, runs the count (PostgreSQL evaluates it lazily): a full
 *   page of 50 cost PostgreSQL 0.38 against 0.31 ms, a one-page list of 18 rows 0.20 against
 *   0.21 (`--request leads-few`).
 * - on a later page, known without counting when it is the last one; otherwise `count` (the same
 *   FROM and WHERE, with the same `values`) runs after it.
 * Counting scans every row of the tenant that matches, where a page with a matching index stops
 * after its rows: so never `count(*) OVER ()` (a leads page of the demo tenant cost PostgreSQL
 * 0.77 ms that way, 0.09 without a count).
 */
export async function readPage<R>(
  tx: Tx,
  query: { rows: string; rowsWithTotal: string; count: string; values: readonly unknown[] },
  page: ListRequest,
): Promise<ListPage<R>> {
  const n = query.values.length;
  const counted = countsInPage(page);
  // A first page has no OFFSET at all. As a parameter, PostgreSQL's generic plan of the prepared
  // statement assumed it skips a tenth of the rows, so the generic plan always looked dearer than
  // one made for the values, and the statement was planned again on every execution (0.25 ms of
  // planning against 0.15 of execution for the shim's leads page with its count). Without it,
  // PostgreSQL picks per statement and connection, by cost as usual: it keeps the generic plan
  // when that is estimated no dearer than its custom ones (LIMIT is still a parameter, taken as a
  // tenth of the rows: so where a tenth of an average tenant is far more than a page, custom
  // planning goes on as before). Skewed filter values then share the generic plan, as they do in
  // any prepared statement. The shim's 20 leads with their count at 200/s: PostgreSQL 0.33
  // against 0.54 CPU ms a request (`bench:subgraph --request rest-leads --rate 200`, every round of 4).
  const values = [...query.values, page.limit + 1];
  let text = `${counted ? query.rowsWithTotal : query.rows} LIMIT $${n + 1}`;
  if (page.offset !== 0) {
    values.push(page.offset);
    text += ` OFFSET $${n + 2}`;
  }
  const { rows } = await tx.query<R>(text, values);
  // (Read before the extra row goes: a page of `first: 0` has only that one.)
  let total: number | null = counted && rows.length ? Number((rows[0] as { __total: string }).__total) : null;
  const hasMore = rows.length > page.limit;
  if (hasMore) rows.length = page.limit;
  if (total !== null) return { rows, hasMore, total };
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
      rowsWithTotal: `SELECT ${query.columns}, (SELECT count(*) FROM ${query.from}${where}) AS __total FROM ${query.from}${where} ORDER BY ${query.orderBy}`,
      count: `SELECT count(*) AS n FROM ${query.from}${where}`,
      values: query.values,
    },
    page,
  );
}

/** Whether `readPage` reads the total in the page's own statement: a first page that asks for it. */
const countsInPage = (page: ListRequest) => page.withTotal && page.offset === 0;

/** The statements `readPage` may run, for the transaction it runs in: the page, and a later page's count when asked for. */
export const pageStatements = (page: ListRequest): TxOptions => ({ statements: page.withTotal && !countsInPage(page) ? 2 : 1 });
