import type DataLoader from 'dataloader';
import { toConnection, type Page } from '../kit/connection.ts';
import type { Context } from '../kit/context.ts';
import type { Tx } from '../kit/db/database.ts';
import { rowsById, rowsByParent } from '../kit/loaders.ts';
import { isUuid } from '../kit/principal.ts';
import * as store from './store.ts';

type TxRunner = Context['tx'];

/** Only UUIDs reach SQL: any other id cannot exist, and must not fail the whole batch. */
const uuidsOnly =
  <V>(fetch: (tx: Tx, ids: readonly string[]) => Promise<V[]>) =>
  (tx: Tx, ids: readonly string[]) => {
    const valid = ids.filter(isUuid);
    return valid.length ? fetch(tx, valid) : Promise.resolve([]);
  };

const byId = <V extends { id: string }>(tx: TxRunner, fetch: (tx: Tx, ids: readonly string[]) => Promise<V[]>) =>
  rowsById<V>(tx, uuidsOnly(fetch), (row) => row.id);

/**
 * Pages of children (a lead's activities, a contact's deals, an account's leads) for many
 * parents: one loader per page size and offset, one statement per batch.
 */
function childPages<V>(tx: TxRunner, fetch: (tx: Tx, parentIds: readonly string[], page: Page) => Promise<(V & store.ChildRow)[]>) {
  const loaders = new Map<string, DataLoader<string, (V & store.ChildRow)[]>>();
  return (page: Page) => {
    const key = `${page.offset}:${page.limit}`;
    let loader = loaders.get(key);
    if (!loader) {
      loader = rowsByParent<V & store.ChildRow>(tx, uuidsOnly((t, ids) => fetch(t, ids, page)), (row) => row.parent_id);
      loaders.set(key, loader);
    }
    return loader;
  };
}

/** The connection of one parent's page (rows carry their per-parent number and total). */
export function childConnection<V>(rows: readonly (V & store.ChildRow)[], page: Page) {
  const total = rows[0] ? Number(rows[0].total) : 0;
  const inPage = rows.filter((row) => Number(row.rn) > page.offset && Number(row.rn) <= page.offset + page.limit);
  const nodes = inPage.map(({ parent_id: _p, rn: _rn, total: _t, ...row }) => row as unknown as V);
  return toConnection(nodes, page, total);
}

/** Per-request DataLoaders: every by-id read of the CRM subgraph is one statement per batch. */
export function createLoaders(ctx: Pick<Context, 'tx'>) {
  return {
    lead: byId(ctx.tx, store.leadsByIds),
    contact: byId(ctx.tx, store.contactsByIds),
    deal: byId(ctx.tx, store.dealsByIds),
    activity: byId(ctx.tx, store.activitiesByIds),
    stage: byId(ctx.tx, store.stagesByIds),
    /** The contact / deal that convertLead made of a lead, by lead id. */
    contactOfLead: rowsById(ctx.tx, uuidsOnly(store.contactsByLeadIds), (row) => row.lead_id!),
    dealOfLead: rowsById(ctx.tx, uuidsOnly(store.dealsByLeadIds), (row) => row.lead_id!),
    dealProducts: rowsByParent(ctx.tx, uuidsOnly(store.productsOfDeals), (row) => row.deal_id),
    leadActivities: childPages(ctx.tx, (tx, ids, page) => store.activitiesOf(tx, 'lead_id', ids, page)),
    contactActivities: childPages(ctx.tx, (tx, ids, page) => store.activitiesOf(tx, 'contact_id', ids, page)),
    dealActivities: childPages(ctx.tx, (tx, ids, page) => store.activitiesOf(tx, 'deal_id', ids, page)),
    contactDeals: childPages(ctx.tx, store.dealsOfContacts),
    ownerLeads: childPages(ctx.tx, store.leadsOfOwners),
  };
}

export type CrmLoaders = ReturnType<typeof createLoaders>;
export type CrmContext = Context<CrmLoaders>;
