import DataLoader from 'dataloader';
import type { Page } from '../kit/connection.ts';
import type { Context } from '../kit/context.ts';
import type { Tx, TxRunner } from '../kit/db/database.ts';
import { sharedReads } from '../kit/db/shared-reads.ts';
import { rowsById } from '../kit/loaders.ts';
import * as store from './store.ts';

export interface PagedRows<V> {
  rows: V[];
  total: number;
}

interface PagedKey {
  parent: string;
  page: Page;
}

/**
 * A per-request loader of one page of a list per parent (children of pages, revisions of
 * pages): all parents asking for the same page (offset, limit) are read in one statement.
 */
function pagedByParent<V extends { total: string; idx: string }>(
  tx: TxRunner,
  fetch: (tx: Tx, parentIds: readonly string[], page: Page) => Promise<V[]>,
  count: (tx: Tx, parentIds: readonly string[]) => Promise<Map<string, number>>,
  parentOf: (row: V) => string,
): DataLoader<PagedKey, PagedRows<Omit<V, 'total' | 'idx'>>, string> {
  return new DataLoader(
    async (keys) => {
      const groups = new Map<string, { page: Page; parents: Set<string> }>();
      for (const { parent, page } of keys) {
        const id = `${page.offset}:${page.limit}`;
        const group = groups.get(id) ?? { page, parents: new Set<string>() };
        group.parents.add(parent);
        groups.set(id, group);
      }
      const results = new Map<string, PagedRows<Omit<V, 'total' | 'idx'>>>();
      await tx(async (t) => {
        for (const [id, { page, parents }] of groups) {
          const rows = await fetch(t, [...parents], page);
          for (const parent of parents) results.set(`${parent}:${id}`, { rows: [], total: 0 });
          for (const { total, idx: _idx, ...row } of rows) {
            const entry = results.get(`${parentOf(row as unknown as V)}:${id}`)!;
            entry.rows.push(row);
            entry.total = Number(total);
          }
          // A page past the end has no row to carry the total: count those parents.
          const empty = [...parents].filter((p) => !results.get(`${p}:${id}`)!.rows.length);
          if (page.offset > 0 && empty.length) {
            const counts = await count(t, empty);
            for (const p of empty) results.get(`${p}:${id}`)!.total = counts.get(p) ?? 0;
          }
        }
      });
      return keys.map(({ parent, page }) => results.get(`${parent}:${page.offset}:${page.limit}`)!);
    },
    { cacheKeyFn: ({ parent, page }) => `${parent}:${page.offset}:${page.limit}`, maxBatchSize: 500 },
  );
}

/**
 * Loaders reading one tenant's data at one view (draft: the caller's; live: a public site's), and
 * `tx`, the transactions they read in, for that scope's other reads.
 */
function scopedLoaders(tx: TxRunner, view: store.View) {
  return {
    tx,
    page: rowsById(tx, (t, ids) => store.pagesByIds(t, view, ids), (row) => row.id),
    children: pagedByParent(
      tx,
      (t, ids, page) => store.childrenOf(t, view, ids, page),
      (t, ids) => store.childCounts(t, view, ids),
      (row) => row.parent_id!,
    ),
    snippet: rowsById(tx, store.snippetsByIds, (row) => row.id),
    asset: rowsById(tx, store.assetsByIds, (row) => row.id),
  };
}

export type ScopedLoaders = ReturnType<typeof scopedLoaders>;

/** Per-request DataLoaders: every by-id read of the CMS subgraph is one statement per batch. */
export function createLoaders(ctx: Pick<Context, 'tx' | 'deps'>) {
  const sites = new Map<string, ScopedLoaders>();
  return {
    ...scopedLoaders(ctx.tx, 'draft'),
    revision: rowsById(ctx.tx, store.revisionsByIds, (row) => row.id),
    revisions: pagedByParent(ctx.tx, store.revisionsOf, store.revisionCounts, (row) => row.page_id),
    /** The published content of a public site's tenant, read in that tenant's transaction. */
    site(tenantId: string): ScopedLoaders {
      let loaders = sites.get(tenantId);
      if (!loaders) {
        loaders = scopedLoaders(sharedReads(ctx.deps.db, { tenantId, accountId: null }), 'live');
        sites.set(tenantId, loaders);
      }
      return loaders;
    },
  };
}

export type CmsLoaders = ReturnType<typeof createLoaders>;
export type CmsContext = Context<CmsLoaders>;
