import { accountEmailLoader } from '../kit/accounts.ts';
import type { Context } from '../kit/context.ts';
import type { TxRunner } from '../kit/db/database.ts';
import { sharedReads } from '../kit/db/shared-reads.ts';
import { childPages, rowsById } from '../kit/loaders.ts';
import type { CmsSettings } from './settings.ts';
import * as store from './store.ts';

/**
 * Loaders reading one tenant's data at one view (draft: the caller's; live: a public site's), and
 * `tx`, the transactions they read in, for that scope's other reads.
 */
function scopedLoaders(tx: TxRunner, view: store.View) {
  return {
    tx,
    page: rowsById(tx, (t, ids) => store.pagesByIds(t, view, ids), (row) => row.id),
    children: childPages(tx, store.childrenOf[view]),
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
    revisions: childPages(ctx.tx, store.revisionsOf),
    /**
     * Authors' emails (kit/accounts.ts), for `author { email }` without auth: in the caller's
     * transaction, as only members of the page's tenant see authors.
     */
    accountEmail: accountEmailLoader(ctx.tx),
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
export type CmsContext = Context<CmsLoaders, CmsSettings>;
