import { ACTIVITY_TYPES, LEAD_STATUSES, LIMITS, RANGES, SETTABLE_LEAD_STATUSES, STAGE_KINDS } from '../../../subgraphs/crm/domain.ts';
import { lowerEnum } from '../case.ts';
import { choiceList, drfResource, idOf, searchFilter, uuidFilter, type Filter } from '../drf.ts';
import { badInput } from '../errors.ts';
import type { JsonSchema, RestRoute } from '../types.ts';

/*
 * `/api/brain/django-crm/*`: what Django CRM's REST API answered, served by the crm subgraph.
 *
 * Objects: the snake_case of the GraphQL fields (`created_at`, `last_activity_at`); enums lower
 * case (`status: "new"`); related objects as their ids under the relation's name (`owner` is the
 * owner's account id, `contact`, `stage`, `lead`, ...), read and written alike. Deal amounts are
 * decimal strings ("1500.00"), as DRF's DecimalField renders them (numbers are accepted on input).
 * A deal's stage is set on create; later moves run `moveDeal` (PATCH `stage`). An activity's
 * `done` is set with `completeActivity` (PATCH `done`).
 */

const TAG = 'django-crm';

const str = (maxLength: number): JsonSchema => ({ type: ['string', 'null'], maxLength });
const uuid: JsonSchema = { type: ['string', 'null'], format: 'uuid' };
const tags: JsonSchema = { type: 'array', items: { type: 'string', maxLength: LIMITS.tag }, maxItems: LIMITS.tags };
const dateTime: JsonSchema = { type: ['string', 'null'], format: 'date-time' };
const timestamps = { created_at: { type: 'string', format: 'date-time' }, updated_at: { type: 'string', format: 'date-time' } };
const ref = (description: string): JsonSchema => ({ type: ['string', 'null'], description });

// Enum values (lower case, as the CRM stores them), lengths and ranges: the CRM's own, from
// subgraphs/crm/domain.ts, so the shim refuses exactly what the subgraph would.
const score: JsonSchema = { type: 'integer', minimum: RANGES.score.min, maximum: RANGES.score.max };
const probability: JsonSchema = { type: 'integer', minimum: RANGES.probability.min, maximum: RANGES.probability.max };
/** How a person (a lead, a contact) is reached, read and written alike. */
const contactDetails = { email: str(LIMITS.email), phone: str(LIMITS.phone), company: str(LIMITS.company), title: str(LIMITS.title) };
/** A required text of at most `maxLength` characters. */
const text = (maxLength: number): JsonSchema => ({ type: 'string', minLength: 1, maxLength });

/** A single-id filter sent as the graph's one-element list (`?stage=` -> `stageIds: [id]`). */
const listOf = (filter: Filter): Filter => ({
  param: filter.param,
  apply: (f, value) => {
    const one: Record<string, unknown> = {};
    filter.apply(one, value);
    for (const [key, v] of Object.entries(one)) f[key] = [v];
  },
});

const ownerFilter = uuidFilter('owner', 'ownerId', "Owner's account id");

/** DRF DecimalField: "1500.00" out; a number or numeric string in. */
const decimalOut = (value: number | null) => (value === null || value === undefined ? null : value.toFixed(2));
const decimalIn = (value: unknown) => {
  const number = typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) throw badInput('drf', [{ field: 'amount', message: 'A valid number is required.' }]);
  return number;
};

export const crmRoutes: RestRoute[] = [
  ...drfResource({
    tag: TAG,
    path: '/django-crm/leads',
    type: 'Lead',
    singular: 'lead',
    plural: 'leads',
    summaries: { one: 'a lead', many: 'leads' },
    fields: `id name email phone company title source status score tags owner { id } notes
      createdAt updatedAt lastActivityAt convertedAt convertedContact { id } convertedDeal { id }`,
    toRest: (lead) => ({
      id: lead.id,
      name: lead.name,
      email: lead.email,
      phone: lead.phone,
      company: lead.company,
      title: lead.title,
      source: lead.source,
      status: lowerEnum(lead.status),
      score: lead.score,
      tags: lead.tags,
      owner: idOf(lead.owner),
      notes: lead.notes,
      created_at: lead.createdAt,
      updated_at: lead.updatedAt,
      last_activity_at: lead.lastActivityAt,
      converted_at: lead.convertedAt,
      converted_contact: idOf(lead.convertedContact),
      converted_deal: idOf(lead.convertedDeal),
    }),
    schema: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        name: { type: 'string' },
        ...contactDetails,
        source: str(LIMITS.source),
        status: { enum: LEAD_STATUSES },
        score,
        tags,
        owner: ref("Owner's account id"),
        notes: str(LIMITS.notes),
        ...timestamps,
        last_activity_at: dateTime,
        converted_at: dateTime,
        converted_contact: ref('Contact made of this lead'),
        converted_deal: ref('Deal made of this lead'),
      },
      required: ['id', 'name', 'status', 'score', 'tags', 'owner', 'created_at', 'updated_at'],
    },
    writable: {
      name: text(LIMITS.name),
      ...contactDetails,
      source: str(LIMITS.source),
      status: { enum: SETTABLE_LEAD_STATUSES },
      score,
      tags,
      owner: uuid,
      notes: str(LIMITS.notes),
    },
    required: ['name'],
    inputNames: { owner: 'ownerId' },
    enums: ['status'],
    filters: {
      search: searchFilter('name, email, company, title, source, tags and notes'),
      status: {
        param: { schema: { type: 'string' }, description: `Comma-separated: ${LEAD_STATUSES.join(', ')}` },
        apply: choiceList(LEAD_STATUSES, (f, values) => (f.status = values.map((v) => v.toUpperCase())), 'status'),
      },
      owner: ownerFilter,
      source: { param: { schema: { type: 'string', maxLength: LIMITS.source }, description: 'Exact source' }, apply: (f, v) => void (f.source = v) },
    },
    ordering: ['created_at', 'updated_at', 'name', 'score', 'last_activity_at', 'rank'],
  }),

  ...drfResource({
    tag: TAG,
    path: '/django-crm/contacts',
    type: 'Contact',
    singular: 'contact',
    plural: 'contacts',
    summaries: { one: 'a contact', many: 'contacts' },
    fields: 'id name email phone company title tags owner { id } notes lead { id } createdAt updatedAt',
    toRest: (contact) => ({
      id: contact.id,
      name: contact.name,
      email: contact.email,
      phone: contact.phone,
      company: contact.company,
      title: contact.title,
      tags: contact.tags,
      owner: idOf(contact.owner),
      notes: contact.notes,
      lead: idOf(contact.lead),
      created_at: contact.createdAt,
      updated_at: contact.updatedAt,
    }),
    schema: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        name: { type: 'string' },
        ...contactDetails,
        tags,
        owner: ref("Owner's account id"),
        notes: str(LIMITS.notes),
        lead: ref('The lead this contact was converted from'),
        ...timestamps,
      },
      required: ['id', 'name', 'tags', 'owner', 'created_at', 'updated_at'],
    },
    writable: {
      name: text(LIMITS.name),
      ...contactDetails,
      tags,
      owner: uuid,
      notes: str(LIMITS.notes),
    },
    required: ['name'],
    inputNames: { owner: 'ownerId' },
    filters: { search: searchFilter('name, email, company, title, tags and notes'), owner: ownerFilter },
    ordering: ['created_at', 'updated_at', 'name', 'rank'],
  }),

  ...drfResource({
    tag: TAG,
    path: '/django-crm/deals',
    type: 'Deal',
    singular: 'deal',
    plural: 'deals',
    summaries: { one: 'a deal', many: 'deals' },
    fields: `id title amount currency stage { id kind } probability expectedCloseDate contact { id } owner { id }
      products { id channel } tags notes lead { id } closedAt createdAt updatedAt`,
    toRest: (deal) => ({
      id: deal.id,
      title: deal.title,
      amount: decimalOut(deal.amount),
      currency: deal.currency,
      stage: idOf(deal.stage),
      status: lowerEnum(deal.stage?.kind ?? null),
      probability: deal.probability,
      expected_close_date: deal.expectedCloseDate,
      contact: idOf(deal.contact),
      owner: idOf(deal.owner),
      products: deal.products.map((p: { id: string; channel: string | null }) => ({ id: p.id, channel: p.channel })),
      tags: deal.tags,
      notes: deal.notes,
      lead: idOf(deal.lead),
      closed_at: deal.closedAt,
      created_at: deal.createdAt,
      updated_at: deal.updatedAt,
    }),
    schema: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        title: { type: 'string' },
        amount: { type: ['string', 'null'], pattern: '^-?\\d+\\.\\d{2}$', description: 'Decimal string' },
        currency: { type: 'string' },
        stage: { type: 'string', description: 'Pipeline stage id' },
        status: { enum: STAGE_KINDS, description: "The stage's kind (read-only)" },
        probability,
        expected_close_date: { type: ['string', 'null'], format: 'date' },
        contact: ref('Contact id'),
        owner: ref("Owner's account id"),
        products: {
          type: 'array',
          items: { type: 'object', properties: { id: { type: 'string' }, channel: { type: ['string', 'null'] } }, required: ['id', 'channel'] },
        },
        tags,
        notes: str(LIMITS.notes),
        lead: ref('The lead this deal was converted from'),
        closed_at: dateTime,
        ...timestamps,
      },
      required: ['id', 'title', 'amount', 'currency', 'stage', 'status', 'probability', 'products', 'tags', 'created_at', 'updated_at'],
    },
    writable: {
      title: text(LIMITS.title),
      amount: { type: ['string', 'number', 'null'] },
      currency: { type: 'string', minLength: 3, maxLength: 3 },
      stage: { type: 'string', format: 'uuid', description: 'On create; a later change moves the deal (moveDeal)' },
      probability,
      expected_close_date: { type: ['string', 'null'], format: 'date' },
      contact: uuid,
      owner: uuid,
      products: {
        type: 'array',
        items: { type: 'object', properties: { id: { type: 'string' }, channel: { type: 'string' } }, required: ['id'], additionalProperties: false },
      },
      tags,
      notes: str(LIMITS.notes),
    },
    required: ['title'],
    inputNames: { owner: 'ownerId', contact: 'contactId', stage: 'stageId' },
    convert: {
      amount: decimalIn,
      products: (value) => (value as { id: string; channel?: string }[]).map((p) => ({ productId: p.id, channel: p.channel ?? null })),
    },
    update: {
      // A stage change is its own mutation (it records an activity and may close the deal).
      operation: (fragment, payload) => `mutation RestDealUpdate($id: ID!, $input: DealUpdateInput!, $stageId: ID = "", $move: Boolean!) {
        updateDeal(id: $id, input: $input) { ${payload} }
        moveDeal(id: $id, stageId: $stageId) @include(if: $move) { ${payload} }
      }
      ${fragment}`,
      variables: ({ stage, ...input }) => ({ input, extra: stage === undefined ? { move: false } : { move: true, stageId: stage } }),
      pick: (data) => (data.updateDeal?.errors?.length ? data.updateDeal : (data.moveDeal ?? data.updateDeal)),
    },
    filters: {
      search: searchFilter('title, tags and notes'),
      status: {
        param: { schema: { type: 'string' }, description: `Stage kind, comma-separated: ${STAGE_KINDS.join(', ')}` },
        apply: choiceList(STAGE_KINDS, (f, values) => (f.stageKinds = values.map((v) => v.toUpperCase())), 'status'),
      },
      stage: listOf(uuidFilter('stage', 'stageIds', 'Pipeline stage id')),
      contact: uuidFilter('contact', 'contactId', 'Contact id'),
      owner: ownerFilter,
    },
    ordering: ['created_at', 'updated_at', 'title', 'amount', 'expected_close_date', 'stage', 'rank'],
  }),

  ...drfResource({
    tag: TAG,
    path: '/django-crm/activities',
    type: 'Activity',
    singular: 'activity',
    plural: 'activities',
    summaries: { one: 'an activity', many: 'activities' },
    mutations: { create: 'logActivity' },
    createInput: 'LogActivityInput',
    fields: 'id type subject body dueAt done completedAt account { id } lead { id } contact { id } deal { id } createdAt updatedAt',
    toRest: (activity) => ({
      id: activity.id,
      type: lowerEnum(activity.type),
      subject: activity.subject,
      body: activity.body,
      due_at: activity.dueAt,
      done: activity.done,
      completed_at: activity.completedAt,
      account: idOf(activity.account),
      lead: idOf(activity.lead),
      contact: idOf(activity.contact),
      deal: idOf(activity.deal),
      created_at: activity.createdAt,
      updated_at: activity.updatedAt,
    }),
    schema: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        type: { enum: ACTIVITY_TYPES },
        subject: { type: 'string' },
        body: str(LIMITS.notes),
        due_at: dateTime,
        done: { type: 'boolean' },
        completed_at: dateTime,
        account: ref('The account that logged it'),
        lead: ref('Lead id'),
        contact: ref('Contact id'),
        deal: ref('Deal id'),
        ...timestamps,
      },
      required: ['id', 'type', 'subject', 'done', 'created_at', 'updated_at'],
    },
    writable: {
      type: { enum: ACTIVITY_TYPES },
      subject: text(LIMITS.subject),
      body: str(LIMITS.notes),
      due_at: dateTime,
      done: { type: 'boolean' },
      lead: uuid,
      contact: uuid,
      deal: uuid,
    },
    required: ['type', 'subject'],
    inputNames: { lead: 'leadId', contact: 'contactId', deal: 'dealId' },
    createOnly: ['lead', 'contact', 'deal'],
    enums: ['type'],
    update: {
      // `done` is its own mutation (it stamps completed_at).
      operation: (fragment, payload) => `mutation RestActivityUpdate($id: ID!, $input: ActivityUpdateInput!, $done: Boolean, $complete: Boolean!) {
        updateActivity(id: $id, input: $input) { ${payload} }
        completeActivity(id: $id, done: $done) @include(if: $complete) { ${payload} }
      }
      ${fragment}`,
      variables: ({ done, ...input }) => ({ input, extra: done === undefined || done === null ? { complete: false } : { complete: true, done } }),
      pick: (data) => (data.updateActivity?.errors?.length ? data.updateActivity : (data.completeActivity ?? data.updateActivity)),
    },
    filters: {
      search: searchFilter('subject and body'),
      status: {
        param: { schema: { type: 'string', enum: ['open', 'done'] }, description: '`open` or `done`' },
        apply: (f, v) => void (f.done = v === 'done'),
      },
      type: {
        param: { schema: { type: 'string' }, description: `Comma-separated: ${ACTIVITY_TYPES.join(', ')}` },
        apply: choiceList(ACTIVITY_TYPES, (f, values) => (f.types = values.map((v) => v.toUpperCase())), 'type'),
      },
      lead: uuidFilter('lead', 'leadId', 'Lead id'),
      contact: uuidFilter('contact', 'contactId', 'Contact id'),
      deal: uuidFilter('deal', 'dealId', 'Deal id'),
    },
    ordering: ['created_at', 'due_at', 'rank'],
  }),
];
