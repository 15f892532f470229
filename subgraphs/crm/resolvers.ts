import { accountField, asksForAccountEmail } from '../kit/accounts.ts';
import { listConnection, selectedFields, selectsOnly, toListRequest, toPage, type PageArgs } from '../kit/connection.ts';
import { pageStatements } from '../kit/db/list.ts';
import { badInput } from '../kit/errors.ts';
import { isUuid } from '../kit/formats.ts';
import { loadOrNotFound } from '../kit/loaders.ts';
import { okPayloadResolver, payloadResolver, spreadPayloadResolver } from '../kit/mutations/payload.ts';
import type { CrmAmount, Resolvers } from './__generated__/resolvers-types.ts';
import { fromGraphQLEnum, LIMITS, toGraphQLEnum, type ActivityTypeValue, type LeadStatusValue, type StageKindValue } from './domain.ts';
import * as forms from './forms.ts';
import * as mutations from './mutations.ts';
import * as store from './store.ts';

// ---------------------------------------------------------------------------------------------
// Arguments of the lists: malformed filter values are GraphQL input errors (BAD_USER_INPUT).

function filterId(value: string | null | undefined, field: string): string | null {
  if (value == null) return null;
  if (!isUuid(value)) throw badInput(`"${field}" is not a valid id.`, field);
  return value.toLowerCase();
}

function filterIds(values: readonly string[] | null | undefined, field: string): string[] | null {
  return values?.length ? values.map((v) => filterId(v, field)!) : null;
}

function filterTime(value: unknown, field: string): Date | null {
  if (value == null) return null;
  const date = typeof value === 'string' || value instanceof Date ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) throw badInput(`"${field}" is not an ISO 8601 date and time.`, field);
  return date;
}

function filterDate(value: string | null | undefined, field: string): string | null {
  if (value == null) return null;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(new Date(`${value}T00:00:00Z`).getTime())) {
    throw badInput(`"${field}" is not a date (YYYY-MM-DD).`, field);
  }
  return value;
}

function filterTags(values: readonly string[] | null | undefined) {
  return values?.length ? values.map((t) => t.trim()).filter(Boolean) : null;
}

/** Stored values of a list of GraphQL enum values; null for none. */
const storedValues = <V extends string>(values: readonly Uppercase<V>[] | null | undefined): V[] | null =>
  values?.length ? values.map((v) => fromGraphQLEnum<V>(v)) : null;

function common(filter: { search?: string | null; createdAfter?: unknown; createdBefore?: unknown } | null | undefined) {
  if (filter?.search && filter.search.length > LIMITS.search) throw badInput(`"search" is at most ${LIMITS.search} characters.`, 'search');
  return {
    tsQuery: store.toTsQuery(filter?.search),
    createdAfter: filterTime(filter?.createdAfter, 'createdAfter'),
    createdBefore: filterTime(filter?.createdBefore, 'createdBefore'),
  };
}

/** Default order: newest first, or by relevance when searching. */
function sortOf(sortBy: { field: string; direction?: 'ASC' | 'DESC' | null } | null | undefined, searching: boolean): store.Sort<string> {
  if (sortBy) return { field: sortBy.field, direction: sortBy.direction ?? 'DESC' };
  return { field: searching ? 'RANK' : 'CREATED_AT', direction: 'DESC' };
}


const pageOf = (args: PageArgs) => toPage(args);

/** A reference asked for by its key alone: nothing else of the row is read or resolved. */
const KEY_ONLY = ['__typename', 'id'];

/**
 * The row a reference names: `{ id }` alone when the page's statement read the id (the query
 * asks for nothing else of it: `KEY_ONLY`; null: no such row), else the loader's whole row.
 */
function referenced<R extends { id: string }>(readId: string | null | undefined, load: () => Promise<R | null>): Promise<R | null> | R | null {
  if (readId === undefined) return load();
  return readId === null ? null : ({ id: readId } as R);
}

function amounts(rows: readonly store.StageTotalsRow[], pick: (row: store.StageTotalsRow) => number): CrmAmount[] {
  const byCurrency = new Map<string, number>();
  for (const row of rows) byCurrency.set(row.currency, (byCurrency.get(row.currency) ?? 0) + pick(row));
  return [...byCurrency].map(([currency, amount]) => ({ currency, amount: Math.round(amount * 100) / 100 }));
}

const leadPayload = payloadResolver('lead');
const contactPayload = payloadResolver('contact');
const dealPayload = payloadResolver('deal');
const activityPayload = payloadResolver('activity');
const stagePayload = payloadResolver('stage');
const deletedPayload = payloadResolver('deletedId');

export const resolvers: Resolvers = {
  Query: {
    leads: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      const f = args.filter;
      const filter: store.LeadListFilter = {
        ...common(f),
        status: storedValues<LeadStatusValue>(f?.status),
        ownerId: filterId(f?.ownerId, 'ownerId'),
        unassigned: f?.unassigned ?? null,
        tags: filterTags(f?.tags),
        source: f?.source ?? null,
        scoreMin: f?.scoreMin ?? null,
        scoreMax: f?.scoreMax ?? null,
      };
      const fields = selectedFields(info, ['edges', 'node']);
      // What the page's own statement can answer of the objects its rows refer to.
      const node = (field: string) => ['edges', 'node', field];
      const extras: store.LeadPageExtras = {
        ownerEmail: fields.has('owner') && asksForAccountEmail(info, node('owner')),
        convertedContactId: fields.has('convertedContact') && selectsOnly(info, node('convertedContact'), KEY_ONLY),
        convertedDealId: fields.has('convertedDeal') && selectsOnly(info, node('convertedDeal'), KEY_ONLY),
      };
      const sort = sortOf(args.sortBy, !!filter.tsQuery);
      return listConnection(await ctx.tx((tx) => store.leadsPage(tx, filter, sort, page, fields, extras), pageStatements(page)), page);
    },
    // The loaders read UUIDs only: a malformed id is not found either.
    lead: (_root, args, ctx) => loadOrNotFound(ctx.loaders.lead, args.id.toLowerCase(), 'Lead'),
    contacts: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      const f = args.filter;
      const filter: store.ContactListFilter = { ...common(f), ownerId: filterId(f?.ownerId, 'ownerId'), tags: filterTags(f?.tags) };
      return listConnection(await ctx.tx((tx) => store.contactsPage(tx, filter, sortOf(args.sortBy, !!filter.tsQuery), page), pageStatements(page)), page);
    },
    contact: (_root, args, ctx) => loadOrNotFound(ctx.loaders.contact, args.id.toLowerCase(), 'Contact'),
    deals: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      const f = args.filter;
      const filter: store.DealListFilter = {
        ...common(f),
        stageIds: filterIds(f?.stageIds, 'stageIds'),
        stageKinds: storedValues<StageKindValue>(f?.stageKinds),
        ownerId: filterId(f?.ownerId, 'ownerId'),
        contactId: filterId(f?.contactId, 'contactId'),
        tags: filterTags(f?.tags),
        expectedCloseAfter: filterDate(f?.expectedCloseAfter, 'expectedCloseAfter'),
        expectedCloseBefore: filterDate(f?.expectedCloseBefore, 'expectedCloseBefore'),
      };
      return listConnection(await ctx.tx((tx) => store.dealsPage(tx, filter, sortOf(args.sortBy, !!filter.tsQuery), page), pageStatements(page)), page);
    },
    deal: (_root, args, ctx) => loadOrNotFound(ctx.loaders.deal, args.id.toLowerCase(), 'Deal'),
    activities: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      const f = args.filter;
      const filter: store.ActivityListFilter = {
        ...common(f),
        types: storedValues<ActivityTypeValue>(f?.types),
        done: f?.done ?? null,
        accountId: filterId(f?.accountId, 'accountId'),
        leadId: filterId(f?.leadId, 'leadId'),
        contactId: filterId(f?.contactId, 'contactId'),
        dealId: filterId(f?.dealId, 'dealId'),
        dueAfter: filterTime(f?.dueAfter, 'dueAfter'),
        dueBefore: filterTime(f?.dueBefore, 'dueBefore'),
      };
      return listConnection(await ctx.tx((tx) => store.activitiesPage(tx, filter, sortOf(args.sortBy, !!filter.tsQuery), page), pageStatements(page)), page);
    },
    activity: (_root, args, ctx) => loadOrNotFound(ctx.loaders.activity, args.id.toLowerCase(), 'Activity'),
    pipeline: async (_root, _args, ctx) => {
      const [stages, totals] = await ctx.tx(async (tx) => [await store.stages(tx), await store.stageTotals(tx)] as const);
      for (const stage of stages) ctx.loaders.stage.prime(stage.id, stage);
      const summaries = stages.map((stage) => {
        const rows = totals.filter((t) => t.stage_id === stage.id);
        return {
          stage,
          dealCount: rows.reduce((n, r) => n + r.deal_count, 0),
          amounts: amounts(rows, (r) => r.amount),
          weightedAmounts: amounts(rows, (r) => r.weighted),
        };
      });
      return {
        stages: summaries,
        dealCount: totals.reduce((n, r) => n + r.deal_count, 0),
        amounts: amounts(totals, (r) => r.amount),
      };
    },
    leadForms: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      return listConnection(await ctx.tx((tx) => store.leadFormsPage(tx, page), pageStatements(page)), page);
    },
  },

  // Each mutation function (mutations.ts, forms.ts) gives an Outcome; these name the payload
  // field its value goes to.
  Mutation: {
    createLead: leadPayload(mutations.createLead),
    updateLead: leadPayload(mutations.updateLead),
    assignLead: leadPayload(mutations.assignLead),
    deleteLead: deletedPayload(mutations.deleteLead),
    convertLead: spreadPayloadResolver({ lead: null, contact: null, deal: null })(mutations.convertLead),
    createContact: contactPayload(mutations.createContact),
    updateContact: contactPayload(mutations.updateContact),
    deleteContact: deletedPayload(mutations.deleteContact),
    createDeal: dealPayload(mutations.createDeal),
    updateDeal: dealPayload(mutations.updateDeal),
    moveDeal: dealPayload(mutations.moveDeal),
    deleteDeal: deletedPayload(mutations.deleteDeal),
    logActivity: activityPayload(mutations.logActivity),
    updateActivity: activityPayload(mutations.updateActivity),
    completeActivity: activityPayload(mutations.completeActivity),
    deleteActivity: deletedPayload(mutations.deleteActivity),
    createPipelineStage: stagePayload(mutations.createStage),
    updatePipelineStage: stagePayload(mutations.updateStage),
    deletePipelineStage: deletedPayload(mutations.deleteStage),
    createLeadForm: spreadPayloadResolver({ leadForm: null, formKey: null })(forms.createLeadForm),
    deleteLeadForm: deletedPayload(forms.deleteLeadForm),
    submitLeadForm: okPayloadResolver(forms.submitLeadForm),
  },

  Account: {
    // Auth owns accounts; RLS makes another tenant's account simply have no leads here.
    __resolveReference: (reference) => ({ id: reference.id }),
    // A malformed id owns nothing: the loader reads UUIDs only.
    assignedLeads: async (accountRef, args, ctx) => {
      const page = pageOf(args);
      return listConnection(await ctx.loaders.ownerLeads(page).load(accountRef.id.toLowerCase()), page);
    },
  },

  Lead: {
    __resolveReference: (reference, ctx) => ctx.loaders.lead.load(reference.id),
    status: (lead) => toGraphQLEnum(lead.status),
    owner: accountField('owner_id', 'owner_email'),
    createdAt: (lead) => lead.created_at,
    updatedAt: (lead) => lead.updated_at,
    lastActivityAt: (lead) => lead.last_activity_at,
    convertedAt: (lead) => lead.converted_at,
    // Only convertLead gives a contact or deal a lead_id, in the transaction that marks the lead
    // converted, and a converted lead's status cannot change: no other lead has either, so they
    // are not looked up (the REST leads list asks both for every lead of a page).
    convertedContact: (lead, _args, ctx) =>
      lead.status === 'converted' ? referenced(lead.converted_contact_id, () => ctx.loaders.contactOfLead.load(lead.id)) : null,
    convertedDeal: (lead, _args, ctx) =>
      lead.status === 'converted' ? referenced(lead.converted_deal_id, () => ctx.loaders.dealOfLead.load(lead.id)) : null,
    activities: async (lead, args, ctx) => {
      const page = pageOf(args);
      return listConnection(await ctx.loaders.leadActivities(page).load(lead.id), page);
    },
  },

  Contact: {
    __resolveReference: (reference, ctx) => ctx.loaders.contact.load(reference.id),
    owner: accountField('owner_id'),
    lead: (contact, _args, ctx) => (contact.lead_id ? ctx.loaders.lead.load(contact.lead_id) : null),
    createdAt: (contact) => contact.created_at,
    updatedAt: (contact) => contact.updated_at,
    deals: async (contact, args, ctx) => {
      const page = pageOf(args);
      return listConnection(await ctx.loaders.contactDeals(page).load(contact.id), page);
    },
    activities: async (contact, args, ctx) => {
      const page = pageOf(args);
      return listConnection(await ctx.loaders.contactActivities(page).load(contact.id), page);
    },
  },

  Deal: {
    __resolveReference: (reference, ctx) => ctx.loaders.deal.load(reference.id),
    stage: (deal, _args, ctx) => loadOrNotFound(ctx.loaders.stage, deal.stage_id, 'Pipeline stage'),
    expectedCloseDate: (deal) => deal.expected_close_date,
    contact: (deal, _args, ctx) => (deal.contact_id ? ctx.loaders.contact.load(deal.contact_id) : null),
    owner: accountField('owner_id'),
    products: async (deal, _args, ctx) =>
      (await ctx.loaders.dealProducts.load(deal.id)).map((p) => ({ id: p.product_id, channel: p.channel })),
    lead: (deal, _args, ctx) => (deal.lead_id ? ctx.loaders.lead.load(deal.lead_id) : null),
    closedAt: (deal) => deal.closed_at,
    stageEnteredAt: (deal) => deal.stage_entered_at,
    createdAt: (deal) => deal.created_at,
    updatedAt: (deal) => deal.updated_at,
    activities: async (deal, args, ctx) => {
      const page = pageOf(args);
      return listConnection(await ctx.loaders.dealActivities(page).load(deal.id), page);
    },
  },

  Activity: {
    __resolveReference: (reference, ctx) => ctx.loaders.activity.load(reference.id),
    type: (activity) => toGraphQLEnum(activity.type),
    dueAt: (activity) => activity.due_at,
    completedAt: (activity) => activity.completed_at,
    account: accountField('account_id'),
    lead: (activity, _args, ctx) => (activity.lead_id ? ctx.loaders.lead.load(activity.lead_id) : null),
    contact: (activity, _args, ctx) => (activity.contact_id ? ctx.loaders.contact.load(activity.contact_id) : null),
    deal: (activity, _args, ctx) => (activity.deal_id ? ctx.loaders.deal.load(activity.deal_id) : null),
    createdAt: (activity) => activity.created_at,
    updatedAt: (activity) => activity.updated_at,
  },

  PipelineStage: {
    __resolveReference: (reference, ctx) => ctx.loaders.stage.load(reference.id),
    kind: (stage) => toGraphQLEnum(stage.kind),
  },

  LeadForm: {
    keyPrefix: (form) => form.key_prefix,
    owner: accountField('owner_id'),
    createdAt: (form) => form.created_at,
  },
};
