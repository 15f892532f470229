import DataLoader from 'dataloader';
import type { Page } from './connection.ts';
import type { ChildPosition } from './db/child-pages.ts';
import { ONE_STATEMENT, type Tx, type TxRunner } from './db/database.ts';
import type { ListPage } from './db/list.ts';
import { notFound } from './errors.ts';
import { isUuid } from './formats.ts';

// Per-request DataLoaders over the kit's SQL helpers (kit/db/select-by-keys.ts,
// kit/db/child-pages.ts): one statement per batch, declared as such (ONE_STATEMENT) so that
// sibling batches share one transaction (kit/db/shared-reads.ts). Keys are UUIDs.

const MAX_BATCH = 500;

/**
 * Only UUIDs reach SQL (`= ANY($1::uuid[])`): any other key names no row, and must not fail the
 * statement of the whole batch. The keys themselves when all are UUIDs (no copy).
 */
const uuidKeys = <K extends string>(keys: readonly K[]): readonly K[] => (keys.every(isUuid) ? keys : keys.filter(isUuid));

/**
 * Rows by id. Rows the tenant cannot see (RLS) come back as null, exactly like rows that do not
 * exist, so a foreign id reveals nothing.
 *
 *   lead: rowsById(ctx.tx, store.leadsByIds, (row) => row.id),
 *   ... await ctx.loaders.lead.load(id)   // LeadRow | null
 */
export function rowsById<V, K extends string = string>(
  tx: TxRunner,
  fetch: (tx: Tx, ids: readonly K[]) => Promise<V[]>,
  keyOf: (row: V) => K,
): DataLoader<K, V | null> {
  return new DataLoader<K, V | null>(
    async (keys) => {
      const ids = uuidKeys(keys);
      const rows = ids.length ? await tx((t) => fetch(t, ids), ONE_STATEMENT) : [];
      const byKey = new Map<K, V>();
      for (const row of rows) byKey.set(keyOf(row), row);
      return keys.map((id) => byKey.get(id) ?? null);
    },
    { maxBatchSize: MAX_BATCH },
  );
}

/**
 * The row a `rowsById` loader finds, or NOT_FOUND naming `what`: for fields that cannot be null.
 *
 *   lead: (_root, args, ctx) => loadOrNotFound(ctx.loaders.lead, args.id.toLowerCase(), 'Lead'),
 */
export async function loadOrNotFound<K, V>(loader: DataLoader<K, V | null>, key: K, what: string): Promise<V> {
  const row = await loader.load(key);
  if (!row) throw notFound(what);
  return row;
}

/**
 * Every row of each parent (a deal's products), in the order `fetch` returns them.
 *
 *   dealProducts: rowsByParent(ctx.tx, store.productsOfDeals, (row) => row.deal_id),
 *   ... await ctx.loaders.dealProducts.load(deal.id)   // DealProductRow[]
 */
export function rowsByParent<V, K extends string = string>(
  tx: TxRunner,
  fetch: (tx: Tx, parentIds: readonly K[]) => Promise<V[]>,
  parentOf: (row: V) => K,
): DataLoader<K, V[]> {
  return new DataLoader<K, V[]>(
    async (keys) => {
      const ids = uuidKeys(keys);
      const rows = ids.length ? await tx((t) => fetch(t, ids), ONE_STATEMENT) : [];
      const groups = new Map<K, V[]>();
      for (const row of rows) {
        const key = parentOf(row);
        const list = groups.get(key);
        if (list) list.push(row);
        else groups.set(key, [row]);
      }
      return keys.map((id) => groups.get(id) ?? []);
    },
    { maxBatchSize: MAX_BATCH },
  );
}

/**
 * One page of each parent's children (a lead's activities, a page's child pages), for a
 * connection field with `first`/`after` arguments: one loader per page (offset and size), whose
 * batches read that page of every parent asked for in one statement (`fetch`: kit/db/child-pages.ts
 * `selectChildPages`). Each parent's page comes with its total, ready for `listConnection`.
 *
 *   leadActivities: childPages(ctx.tx, store.activitiesOfLeads),
 *   ... listConnection(await ctx.loaders.leadActivities(page).load(lead.id), page)
 */
export function childPages<V>(
  tx: TxRunner,
  fetch: (tx: Tx, parentIds: readonly string[], page: Page) => Promise<(V & ChildPosition)[]>,
): (page: Page) => DataLoader<string, ListPage<V>> {
  const loaders = new Map<string, DataLoader<string, ListPage<V>>>();
  return (page) => {
    const key = `${page.offset}:${page.limit}`;
    let loader = loaders.get(key);
    if (!loader) {
      loader = new DataLoader<string, ListPage<V>>((parentIds) => readChildPages(tx, fetch, parentIds, page), { maxBatchSize: MAX_BATCH });
      loaders.set(key, loader);
    }
    return loader;
  };
}

async function readChildPages<V>(
  tx: TxRunner,
  fetch: (tx: Tx, parentIds: readonly string[], page: Page) => Promise<(V & ChildPosition)[]>,
  parentIds: readonly string[],
  page: Page,
): Promise<ListPage<V>[]> {
  const ids = uuidKeys(parentIds);
  const rows = ids.length ? await tx((t) => fetch(t, ids, page), ONE_STATEMENT) : [];
  // Rows come in parent order, each parent's first child first: that one carries the total, and
  // is on the page only when the page starts at the first child.
  const firstOnPage = page.offset === 0 && page.limit > 0;
  const pages = new Map<string, ListPage<V>>();
  for (const row of rows) {
    const list = pages.get(row.child_of);
    if (list) {
      list.rows.push(row);
      continue;
    }
    const total = Number(row.child_total);
    pages.set(row.child_of, { rows: firstOnPage ? [row] : [], total, hasMore: false });
  }
  return parentIds.map((id) => {
    const list = pages.get(id);
    if (!list) return { rows: [], total: 0, hasMore: false };
    list.hasMore = page.offset + list.rows.length < list.total!;
    return list;
  });
}
