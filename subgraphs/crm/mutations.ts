import type { Tx } from '../kit/db/database.ts';
import type { ConstraintErrors } from '../kit/mutations/database-errors.ts';
import type { Outcome as KitOutcome } from '../kit/mutations/outcome.ts';
import { subgraphMutations } from '../kit/mutations/subgraph-mutations.ts';
import type {
  ActivityUpdateInput,
  ContactCreateInput,
  ContactUpdateInput,
  ConvertLeadInput,
  CrmErrorCode,
  DealCreateInput,
  DealUpdateInput,
  LeadCreateInput,
  LeadUpdateInput,
  LogActivityInput,
  PipelineStageInput,
  PipelineStageUpdateInput,
} from './__generated__/resolvers-types.ts';
import { DEFAULT_CURRENCY, fromGraphQLEnum, LIMITS, RANGES, type ActivityTypeValue, type LeadStatusValue, type StageKindValue } from './domain.ts';
import type { CrmContext } from './loaders.ts';
import * as store from './store.ts';
import { has, Problems } from './validate.ts';

// The CRM's writes, one per Mutation field: `(ctx, args)` to an Outcome (resolvers.ts makes the
// payloads). Each runs in one tenant transaction: input is checked first, then any problem found
// on the way (a foreign key of another tenant, a converted lead) rolls the whole transaction back
// and comes back as payload errors. Nothing is ever half-written.

export type Outcome<T> = KitOutcome<T, CrmErrorCode>;

const NOT_MEMBER = 'No such member in this tenant.';

/**
 * `write` runs a CRM write in one transaction, and `reject` rolls it back with an error (kit
 * subgraphMutations); database errors read as below: which input field a violated constraint or
 * NOT NULL column is about.
 */
export const { write, reject } = subgraphMutations<CrmErrorCode>(
  { unique: 'DUPLICATE', foreignKey: 'NOT_FOUND', check: 'INVALID', notNull: 'REQUIRED', tooLong: 'TOO_LONG', outOfRange: 'OUT_OF_RANGE', malformed: 'INVALID' },
  {
    messages: { check: 'The input breaks a rule of the CRM.' },
    constraints: {
      leads_owner_fkey: { field: 'ownerId', code: 'NOT_FOUND', message: NOT_MEMBER },
      contacts_owner_fkey: { field: 'ownerId', code: 'NOT_FOUND', message: NOT_MEMBER },
      deals_owner_fkey: { field: 'ownerId', code: 'NOT_FOUND', message: NOT_MEMBER },
      lead_forms_owner_fkey: { field: 'ownerId', code: 'NOT_FOUND', message: NOT_MEMBER },
      deals_stage_fkey: { field: 'stageId', code: 'NOT_FOUND', message: 'No such pipeline stage.' },
      deals_contact_fkey: { field: 'contactId', code: 'NOT_FOUND', message: 'No such contact.' },
      activities_lead_fkey: { field: 'leadId', code: 'NOT_FOUND', message: 'No such lead.' },
      activities_contact_fkey: { field: 'contactId', code: 'NOT_FOUND', message: 'No such contact.' },
      activities_deal_fkey: { field: 'dealId', code: 'NOT_FOUND', message: 'No such deal.' },
      deal_products_deal_fkey: { field: 'id', code: 'NOT_FOUND', message: 'No such deal.' },
      pipeline_stages_name_key: { field: 'name', code: 'DUPLICATE', message: 'A stage with this name exists.' },
      lead_forms_name_key: { field: 'name', code: 'DUPLICATE', message: 'A form with this name exists.' },
      contacts_lead_key: { field: 'id', code: 'ALREADY_CONVERTED', message: 'The lead is already converted.' },
      deals_lead_key: { field: 'id', code: 'ALREADY_CONVERTED', message: 'The lead is already converted.' },
    },
    columns: {
      stage_id: { field: 'stageId', code: 'REQUIRED', message: 'The pipeline has no open stage.' },
      channel: { field: 'products', code: 'REQUIRED', message: 'The tenant has no Saleor channel: give each product its channel.' },
    },
  },
);

// ---------------------------------------------------------------------------------------------
// The shapes most of them share: check the input, then one write.

/** Column values of an input, checked (problems recorded in `problems`). */
type ValuesOf<I> = (problems: Problems, input: I) => Record<string, unknown>;

/** A create: the input's column values, checked, then `insert`ed. */
const createFrom =
  <I, R>(valuesOf: ValuesOf<I>, insert: (tx: Tx, values: Record<string, unknown>) => Promise<R>) =>
  async (ctx: CrmContext, { input }: { input: I }): Promise<Outcome<R>> => {
    const problems = new Problems();
    const values = valuesOf(problems, input);
    if (problems.any) return problems.failed();
    return write(ctx.tx, (tx) => insert(tx, values));
  };

/** An update of row `id` with the columns the input sends, checked; `missing` when there is no such row. */
const updateById =
  <I, R>(valuesOf: ValuesOf<I>, update: (tx: Tx, id: string, values: Record<string, unknown>) => Promise<R | null>, missing: string) =>
  async (ctx: CrmContext, { id, input }: { id: string; input: I }): Promise<Outcome<R>> => {
    const problems = new Problems();
    const rowId = problems.id('id', id);
    const values = valuesOf(problems, input);
    if (problems.any) return problems.failed();
    return write(ctx.tx, async (tx) => (await update(tx, rowId!, values)) ?? reject('id', missing, 'NOT_FOUND'));
  };

/** A delete by id; `missing` when there is no such row. */
const deleteById =
  (remove: (tx: Tx, id: string) => Promise<string | null>, missing: string) =>
  async (ctx: CrmContext, { id }: { id: string }): Promise<Outcome<string>> => {
    const problems = new Problems();
    const rowId = problems.id('id', id);
    if (problems.any) return problems.failed();
    return write(ctx.tx, async (tx) => (await remove(tx, rowId!)) ?? reject('id', missing, 'NOT_FOUND'));
  };

// ---------------------------------------------------------------------------------------------
// Leads

/** The fields leads and contacts share: a person. */
type PersonInput = ContactCreateInput | ContactUpdateInput;

/** Column values of the person fields present in a lead or contact input (`sent`: create all, update those sent). */
function personValues(problems: Problems, input: PersonInput, sent: (key: keyof ContactUpdateInput) => boolean) {
  const values: Record<string, unknown> = {};
  if (sent('name')) values.name = problems.text('name', input.name, LIMITS.name, true);
  if (sent('email')) values.email = problems.email('email', input.email);
  if (sent('phone')) values.phone = problems.text('phone', input.phone, LIMITS.phone);
  if (sent('company')) values.company = problems.text('company', input.company, LIMITS.company);
  if (sent('title')) values.title = problems.text('title', input.title, LIMITS.title);
  if (sent('notes')) values.notes = problems.text('notes', input.notes, LIMITS.notes);
  if (sent('tags')) values.tags = problems.tags('tags', input.tags);
  if (sent('ownerId')) values.owner_id = problems.id('ownerId', input.ownerId);
  return values;
}

/** Column values of the fields present in a lead input (create: all, update: those sent). */
function leadValues(problems: Problems, input: LeadCreateInput | LeadUpdateInput, partial: boolean) {
  const sent = (key: keyof LeadUpdateInput) => !partial || has(input, key);
  const values = personValues(problems, input, sent);
  if (sent('source')) values.source = problems.text('source', input.source, LIMITS.source);
  if (sent('score')) {
    if (partial && input.score === null) problems.add('score', 'The score cannot be cleared.', 'REQUIRED');
    values.score = problems.intRange('score', input.score, RANGES.score) ?? 0;
  }
  if (sent('status')) {
    if (input.status === 'CONVERTED') problems.add('status', 'Leads are converted with convertLead.', 'NOT_ALLOWED');
    else if (partial && input.status === null) problems.add('status', 'The status cannot be cleared.', 'REQUIRED');
    values.status = fromGraphQLEnum<LeadStatusValue>(input.status ?? 'NEW');
  }
  return values;
}

export const createLead = createFrom((problems, input: LeadCreateInput) => leadValues(problems, input, false), store.insertLead);

export async function updateLead(ctx: CrmContext, { id, input }: { id: string; input: LeadUpdateInput }): Promise<Outcome<store.LeadRow>> {
  const problems = new Problems();
  const leadId = problems.id('id', id);
  const values = leadValues(problems, input, true);
  if (problems.any) return problems.failed();
  return write(ctx.tx, async (tx) => {
    const lead = await store.updateLead(tx, leadId!, values, 'status' in values);
    if (lead) return lead;
    // Either there is no such lead, or its status was to change after conversion.
    const exists = await store.leadsByIds(tx, [leadId!]);
    return exists.length
      ? reject('status', 'A converted lead keeps its status.', 'ALREADY_CONVERTED')
      : reject('id', 'No such lead.', 'NOT_FOUND');
  });
}

export async function assignLead(ctx: CrmContext, { id, ownerId }: { id: string; ownerId?: string | null }): Promise<Outcome<store.LeadRow>> {
  const problems = new Problems();
  const leadId = problems.id('id', id);
  const owner = problems.id('ownerId', ownerId);
  if (problems.any) return problems.failed();
  return write(ctx.tx, async (tx) => (await store.updateLead(tx, leadId!, { owner_id: owner })) ?? reject('id', 'No such lead.', 'NOT_FOUND'));
}

export interface Converted {
  lead: store.LeadRow;
  contact: store.ContactRow;
  deal: store.DealRow | null;
}

/**
 * Lead -> contact (+ deal) in one transaction: the lead is locked, the contact inserted, then the
 * deal and its products, then the lead marked CONVERTED. Any failure (an unknown or foreign
 * stage, contact owner or product channel) rolls back all of it.
 */
export async function convertLead(ctx: CrmContext, { id, input }: { id: string; input?: ConvertLeadInput | null }): Promise<Outcome<Converted>> {
  const problems = new Problems();
  const leadId = problems.id('id', id);
  const ownerId = input && has(input, 'ownerId') ? problems.id('ownerId', input.ownerId) : undefined;
  const dealInput = input?.deal ?? null;
  const dealProblems = problems.nested('deal');
  const deal = dealInput && {
    title: dealProblems.text('title', dealInput.title, LIMITS.title),
    amount: dealProblems.amount('amount', dealInput.amount),
    currency: dealProblems.currency('currency', dealInput.currency) ?? DEFAULT_CURRENCY,
    stage_id: dealProblems.id('stageId', dealInput.stageId),
    probability: dealProblems.intRange('probability', dealInput.probability, RANGES.probability),
    expected_close_date: dealProblems.date('expectedCloseDate', dealInput.expectedCloseDate),
    products: dealProblems.products('products', dealInput.products),
  };
  if (problems.any) return problems.failed();
  return write(
    ctx.tx,
    async (tx) => {
      const lead = await store.leadForUpdate(tx, leadId!);
      if (!lead) return reject('id', 'No such lead.', 'NOT_FOUND');
      if (lead.status === 'converted') return reject('id', 'The lead is already converted.', 'ALREADY_CONVERTED');
      const owner = ownerId === undefined ? lead.owner_id : ownerId;
      const contact = await store.insertContact(tx, {
        name: lead.name,
        email: lead.email,
        phone: lead.phone,
        company: lead.company,
        title: lead.title,
        tags: lead.tags,
        owner_id: owner,
        notes: lead.notes,
        lead_id: lead.id,
      });
      let dealRow: store.DealRow | null = null;
      if (deal) {
        if (!deal.stage_id) await store.stages(tx); // a new tenant's first deal: default stages
        dealRow = await store.insertDeal(tx, {
          title: deal.title ?? lead.company ?? lead.name,
          amount: deal.amount,
          currency: deal.currency,
          stage_id: deal.stage_id,
          probability: deal.probability,
          expected_close_date: deal.expected_close_date,
          contact_id: contact.id,
          owner_id: owner,
          lead_id: lead.id,
          tags: lead.tags,
          notes: null,
        });
        await store.setDealProducts(tx, dealRow.id, deal.products, false);
      }
      const converted = await store.markConverted(tx, lead.id);
      return { lead: converted, contact, deal: dealRow };
    },
    CONVERT_LEAD_ERRORS,
  );
}

/** The deal's constraints are about `deal.*` fields of convertLead's input. */
const CONVERT_LEAD_ERRORS: ConstraintErrors<CrmErrorCode> = {
  deals_stage_fkey: { field: 'deal.stageId', code: 'NOT_FOUND', message: 'No such pipeline stage.' },
  deals_owner_fkey: { field: 'ownerId', code: 'NOT_FOUND', message: NOT_MEMBER },
  // A product with a channel the check constraint refuses, after the contact and deal exist.
  deal_products_pkey: { field: 'deal.products', code: 'DUPLICATE', message: 'A product is listed twice.' },
};

export const deleteLead = deleteById(store.deleteLead, 'No such lead.');

// ---------------------------------------------------------------------------------------------
// Contacts

const contactValues = (problems: Problems, input: PersonInput, partial: boolean) =>
  personValues(problems, input, (key) => !partial || has(input, key));

export const createContact = createFrom((problems, input: ContactCreateInput) => contactValues(problems, input, false), store.insertContact);
export const updateContact = updateById((problems, input: ContactUpdateInput) => contactValues(problems, input, true), store.updateContact, 'No such contact.');

export const deleteContact = deleteById(store.deleteContact, 'No such contact.');

// ---------------------------------------------------------------------------------------------
// Deals

export async function createDeal(ctx: CrmContext, { input }: { input: DealCreateInput }): Promise<Outcome<store.DealRow>> {
  const problems = new Problems();
  const values: store.DealValues = {
    title: problems.text('title', input.title, LIMITS.title, true)!,
    amount: problems.amount('amount', input.amount),
    currency: problems.currency('currency', input.currency) ?? DEFAULT_CURRENCY,
    stage_id: problems.id('stageId', input.stageId),
    probability: problems.intRange('probability', input.probability, RANGES.probability),
    expected_close_date: problems.date('expectedCloseDate', input.expectedCloseDate),
    contact_id: problems.id('contactId', input.contactId),
    owner_id: problems.id('ownerId', input.ownerId),
    lead_id: null,
    tags: problems.tags('tags', input.tags),
    notes: problems.text('notes', input.notes, LIMITS.notes),
  };
  const products = problems.products('products', input.products);
  if (problems.any) return problems.failed();
  return write(ctx.tx, async (tx) => {
    if (!values.stage_id) await store.stages(tx); // a new tenant's first deal: default stages
    const deal = await store.insertDeal(tx, values);
    await store.setDealProducts(tx, deal.id, products, false);
    return deal;
  });
}

export async function updateDeal(ctx: CrmContext, { id, input }: { id: string; input: DealUpdateInput }): Promise<Outcome<store.DealRow>> {
  const problems = new Problems();
  const dealId = problems.id('id', id);
  const values: Record<string, unknown> = {};
  if (has(input, 'title')) values.title = problems.text('title', input.title, LIMITS.title, true);
  if (has(input, 'amount')) values.amount = problems.amount('amount', input.amount);
  if (has(input, 'currency')) {
    if (input.currency === null) problems.add('currency', 'The currency cannot be cleared.', 'REQUIRED');
    values.currency = problems.currency('currency', input.currency);
  }
  if (has(input, 'probability')) {
    if (input.probability === null) problems.add('probability', 'The probability cannot be cleared.', 'REQUIRED');
    values.probability = problems.intRange('probability', input.probability, RANGES.probability);
  }
  if (has(input, 'expectedCloseDate')) values.expected_close_date = problems.date('expectedCloseDate', input.expectedCloseDate);
  if (has(input, 'contactId')) values.contact_id = problems.id('contactId', input.contactId);
  if (has(input, 'ownerId')) values.owner_id = problems.id('ownerId', input.ownerId);
  if (has(input, 'tags')) values.tags = problems.tags('tags', input.tags);
  if (has(input, 'notes')) values.notes = problems.text('notes', input.notes, LIMITS.notes);
  const products = has(input, 'products') ? problems.products('products', input.products) : null;
  if (problems.any) return problems.failed();
  return write(ctx.tx, async (tx) => {
    const deal = (await store.updateDeal(tx, dealId!, values)) ?? reject('id', 'No such deal.', 'NOT_FOUND');
    if (products) await store.setDealProducts(tx, deal.id, products, true);
    return deal;
  });
}

export const deleteDeal = deleteById(store.deleteDeal, 'No such deal.');

/** Stage change: the stage's probability, closedAt for WON/LOST, and a NOTE activity on the deal. */
export async function moveDeal(
  ctx: CrmContext,
  { id, stageId, note }: { id: string; stageId: string; note?: string | null },
): Promise<Outcome<store.DealRow>> {
  const problems = new Problems();
  const dealId = problems.id('id', id);
  const targetId = problems.id('stageId', stageId);
  const body = problems.text('note', note, LIMITS.notes);
  if (problems.any) return problems.failed();
  return write(ctx.tx, async (tx) => {
    const deal = (await store.dealForMove(tx, dealId!)) ?? reject('id', 'No such deal.', 'NOT_FOUND');
    const [stage] = await store.stagesByIds(tx, [targetId!]);
    if (!stage) return reject('stageId', 'No such pipeline stage.', 'NOT_FOUND');
    const moved = await store.moveDeal(tx, deal.id, stage);
    if (deal.stage_id !== stage.id) {
      await store.insertActivity(tx, {
        type: 'note',
        subject: `Stage: ${deal.stage_name} → ${stage.name}`.slice(0, LIMITS.subject),
        body,
        due_at: null,
        done: true,
        account_id: ctx.principal.accountId,
        lead_id: null,
        contact_id: null,
        deal_id: deal.id,
      });
    }
    return moved;
  });
}

// ---------------------------------------------------------------------------------------------
// Activities

export async function logActivity(ctx: CrmContext, { input }: { input: LogActivityInput }): Promise<Outcome<store.ActivityRow>> {
  const problems = new Problems();
  const values: store.ActivityValues = {
    type: fromGraphQLEnum<ActivityTypeValue>(input.type),
    subject: problems.text('subject', input.subject, LIMITS.subject, true)!,
    body: problems.text('body', input.body, LIMITS.notes),
    due_at: problems.dateTime('dueAt', input.dueAt),
    done: input.done ?? input.type === 'NOTE',
    account_id: ctx.principal.accountId,
    lead_id: problems.id('leadId', input.leadId),
    contact_id: problems.id('contactId', input.contactId),
    deal_id: problems.id('dealId', input.dealId),
  };
  const targets = [input.leadId, input.contactId, input.dealId].filter((x) => x != null).length;
  if (targets !== 1) problems.add(null, 'Give exactly one of leadId, contactId and dealId.', 'INVALID');
  if (problems.any) return problems.failed();
  return write(ctx.tx, (tx) => store.insertActivity(tx, values));
}

/** Column values of the fields an activity update sends. */
function activityChanges(problems: Problems, input: ActivityUpdateInput) {
  const values: Record<string, unknown> = {};
  if (has(input, 'type')) {
    if (!input.type) problems.add('type', 'The type cannot be cleared.', 'REQUIRED');
    else values.type = fromGraphQLEnum<ActivityTypeValue>(input.type);
  }
  if (has(input, 'subject')) values.subject = problems.text('subject', input.subject, LIMITS.subject, true);
  if (has(input, 'body')) values.body = problems.text('body', input.body, LIMITS.notes);
  if (has(input, 'dueAt')) values.due_at = problems.dateTime('dueAt', input.dueAt);
  return values;
}

export const updateActivity = updateById(activityChanges, store.updateActivity, 'No such activity.');

/** Marks an activity done (`done` defaults to true) or open again. */
export async function completeActivity(ctx: CrmContext, { id, done }: { id: string; done?: boolean | null }): Promise<Outcome<store.ActivityRow>> {
  const problems = new Problems();
  const activityId = problems.id('id', id);
  if (problems.any) return problems.failed();
  return write(ctx.tx, async (tx) => (await store.completeActivity(tx, activityId!, done ?? true)) ?? reject('id', 'No such activity.', 'NOT_FOUND'));
}

export const deleteActivity = deleteById(store.deleteActivity, 'No such activity.');

// ---------------------------------------------------------------------------------------------
// Pipeline stages (admins)

export async function createStage(ctx: CrmContext, { input }: { input: PipelineStageInput }): Promise<Outcome<store.StageRow>> {
  const problems = new Problems();
  const kind = fromGraphQLEnum<StageKindValue>(input.kind ?? 'OPEN');
  const name = problems.text('name', input.name, LIMITS.stageName, true)!;
  const position = problems.intRange('position', input.position, RANGES.stagePosition);
  const probability = problems.intRange('probability', input.probability, RANGES.probability) ?? (kind === 'won' ? 100 : 0);
  if (problems.any) return problems.failed();
  return write(ctx.tx, async (tx) => {
    await store.stages(tx); // the defaults first, so a custom stage adds to them
    return store.insertStage(tx, { name, position, probability, kind });
  });
}

export async function updateStage(ctx: CrmContext, { id, input }: { id: string; input: PipelineStageUpdateInput }): Promise<Outcome<store.StageRow>> {
  const problems = new Problems();
  const stageId = problems.id('id', id);
  const values: Record<string, unknown> = {};
  if (has(input, 'name')) values.name = problems.text('name', input.name, LIMITS.stageName, true);
  for (const key of ['position', 'probability', 'kind'] as const) {
    if (has(input, key) && input[key] === null) problems.add(key, 'This field cannot be cleared.', 'REQUIRED');
  }
  if (input.position != null) values.position = problems.intRange('position', input.position, RANGES.stagePosition);
  if (input.probability != null) values.probability = problems.intRange('probability', input.probability, RANGES.probability);
  if (input.kind != null) values.kind = fromGraphQLEnum<StageKindValue>(input.kind);
  if (problems.any) return problems.failed();
  return write(ctx.tx, async (tx) => {
    const stage = (await store.updateStage(tx, stageId!, values)) ?? reject('id', 'No such pipeline stage.', 'NOT_FOUND');
    if (values.kind && values.kind !== 'open' && (await store.openStageCount(tx)) === 0) {
      reject('kind', 'The pipeline needs at least one open stage.', 'NOT_ALLOWED');
    }
    return stage;
  });
}

export async function deleteStage(
  ctx: CrmContext,
  { id, moveDealsTo }: { id: string; moveDealsTo?: string | null },
): Promise<Outcome<string>> {
  const problems = new Problems();
  const stageId = problems.id('id', id);
  const targetId = problems.id('moveDealsTo', moveDealsTo);
  if (stageId && stageId === targetId) problems.add('moveDealsTo', 'Move the deals to another stage.', 'INVALID');
  if (problems.any) return problems.failed();
  return write(
    ctx.tx,
    async (tx) => {
      if (targetId) await store.moveDealsBetweenStages(tx, stageId!, targetId);
      const deleted = (await store.deleteStage(tx, stageId!)) ?? reject('id', 'No such pipeline stage.', 'NOT_FOUND');
      if ((await store.openStageCount(tx)) === 0) reject('id', 'The pipeline needs at least one open stage.', 'NOT_ALLOWED');
      return deleted;
    },
    {
      deals_stage_fkey: targetId
        ? { field: 'moveDealsTo', code: 'NOT_FOUND', message: 'No such pipeline stage.' }
        : { field: 'id', code: 'IN_USE', message: 'The stage has deals: give moveDealsTo.' },
    },
  );
}
