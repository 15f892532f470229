import { accountEmailLoader } from '../kit/accounts.ts';
import type { Context } from '../kit/context.ts';
import { childPages, rowsById, rowsByParent } from '../kit/loaders.ts';
import * as store from './store.ts';

/** Per-request DataLoaders: every by-id read of the CRM subgraph is one statement per batch. */
export function createLoaders(ctx: Pick<Context, 'tx'>) {
  return {
    lead: rowsById(ctx.tx, store.leadsByIds, (row) => row.id),
    contact: rowsById(ctx.tx, store.contactsByIds, (row) => row.id),
    deal: rowsById(ctx.tx, store.dealsByIds, (row) => row.id),
    activity: rowsById(ctx.tx, store.activitiesByIds, (row) => row.id),
    stage: rowsById(ctx.tx, store.stagesByIds, (row) => row.id),
    /** The contact / deal that convertLead made of a lead, by lead id. */
    contactOfLead: rowsById(ctx.tx, store.contactsByLeadIds, (row) => row.lead_id!),
    dealOfLead: rowsById(ctx.tx, store.dealsByLeadIds, (row) => row.lead_id!),
    dealProducts: rowsByParent(ctx.tx, store.productsOfDeals, (row) => row.deal_id),
    leadActivities: childPages(ctx.tx, store.activitiesOfLeads),
    contactActivities: childPages(ctx.tx, store.activitiesOfContacts),
    dealActivities: childPages(ctx.tx, store.activitiesOfDeals),
    contactDeals: childPages(ctx.tx, store.dealsOfContacts),
    ownerLeads: childPages(ctx.tx, store.leadsOfOwners),
    /** Owners' emails (kit/accounts.ts), for `owner { email }` without auth. */
    accountEmail: accountEmailLoader(ctx.tx),
  };
}

export type CrmLoaders = ReturnType<typeof createLoaders>;
export type CrmContext = Context<CrmLoaders>;
