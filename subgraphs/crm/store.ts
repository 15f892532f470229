import { withAccountEmail } from '../kit/accounts.ts';
import type { ListRequest } from '../kit/connection.ts';
import { selectChildPages } from '../kit/db/child-pages.ts';
import type { Tx } from '../kit/db/database.ts';
import { readList, type ListPage } from '../kit/db/list.ts';
import { Params } from '../kit/db/params.ts';
import { selectByKeys } from '../kit/db/select-by-keys.ts';
import { columnsFor, withReferringId, type Table } from '../kit/db/table.ts';
import { CURRENT_TENANT } from '../kit/db/tenant.ts';
import { deleteRow, insertRow, updateRow } from '../kit/db/write-row.ts';
import type { ActivityTypeValue, LeadStatusValue, StageKindValue } from './domain.ts';

// All SQL of the CRM subgraph. Every function runs inside the caller's tenant transaction
// (ctx.tx): row-level security decides which rows exist, and new rows take the transaction's
// tenant. Ids reaching these functions are already checked to be UUIDs.

export type SortDirection = 'ASC' | 'DESC';

/** What leads and contacts share: a person. */
interface PersonRow {
  id: string;
  name: string;
  email: string | null;
  phone: string | null;
  company: string | null;
  title: string | null;
  tags: string[];
  owner_id: string | null;
  notes: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface LeadRow extends PersonRow {
  source: string | null;
  status: LeadStatusValue;
  score: number;
  converted_at: Date | null;
  last_activity_at: Date | null;
  /** Read by a leads page when asked (`LeadPageExtras`); null: none (or hidden). */
  owner_email?: string | null;
  converted_contact_id?: string | null;
  converted_deal_id?: string | null;
}

export interface ContactRow extends PersonRow {
  lead_id: string | null;
}

export interface DealRow {
  id: string;
  title: string;
  amount: number | null;
  currency: string;
  stage_id: string;
  probability: number;
  /** YYYY-MM-DD (formatted in SQL: a `date` must not become a local-time Date). */
  expected_close_date: string | null;
  contact_id: string | null;
  owner_id: string | null;
  lead_id: string | null;
  tags: string[];
  notes: string | null;
  closed_at: Date | null;
  /** When it entered its current stage (its creation until it is moved: migration 003). */
  stage_entered_at: Date;
  created_at: Date;
  updated_at: Date;
}

export interface DealProductRow {
  deal_id: string;
  product_id: string;
  channel: string;
}

export interface ActivityRow {
  id: string;
  type: ActivityTypeValue;
  subject: string;
  body: string | null;
  due_at: Date | null;
  done: boolean;
  completed_at: Date | null;
  account_id: string | null;
  lead_id: string | null;
  contact_id: string | null;
  deal_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface StageRow {
  id: string;
  name: string;
  position: number;
  probability: number;
  kind: StageKindValue;
}

export interface LeadFormRow {
  id: string;
  name: string;
  key_prefix: string;
  source: string;
  owner_id: string | null;
  tags: string[];
  created_at: Date;
}

const LEADS: Table = {
  name: 'crm.leads',
  columns: 'id, name, email, phone, company, title, source, status, score, tags, owner_id, notes, converted_at, created_at, updated_at, last_activity_at',
};
/** The columns each Lead field reads (resolvers.ts): a leads page reads only those its query asks for. */
const LEAD_NEEDS: Record<string, readonly string[]> = {
  __typename: [],
  id: [],
  name: ['name'],
  email: ['email'],
  phone: ['phone'],
  company: ['company'],
  title: ['title'],
  source: ['source'],
  status: ['status'],
  score: ['score'],
  tags: ['tags'],
  owner: ['owner_id'],
  notes: ['notes'],
  createdAt: ['created_at'],
  updatedAt: ['updated_at'],
  lastActivityAt: ['last_activity_at'],
  convertedAt: ['converted_at'],
  convertedContact: ['status'],
  convertedDeal: ['status'],
  activities: [],
};
const CONTACTS: Table = { name: 'crm.contacts', columns: 'id, name, email, phone, company, title, tags, owner_id, notes, lead_id, created_at, updated_at' };
const DEALS: Table = {
  name: 'crm.deals',
  columns: `id, title, amount::float8 AS amount, currency, stage_id, probability,
  to_char(expected_close_date, 'YYYY-MM-DD') AS expected_close_date, contact_id, owner_id, lead_id, tags, notes,
  closed_at, coalesce(stage_entered_at, created_at) AS stage_entered_at, created_at, updated_at`,
};
const DEAL_PRODUCTS: Table = { name: 'crm.deal_products', columns: 'deal_id, product_id, channel' };
const ACTIVITIES: Table = {
  name: 'crm.activities',
  columns: 'id, type, subject, body, due_at, done, completed_at, account_id, lead_id, contact_id, deal_id, created_at, updated_at',
};
const STAGES: Table = { name: 'crm.pipeline_stages', columns: 'id, name, position, probability, kind' };
const FORMS: Table = { name: 'crm.lead_forms', columns: 'id, name, key_prefix, source, owner_id, tags, created_at' };

// ---------------------------------------------------------------------------------------------
// Lists: one statement per page (the total only when asked for: see listPage).

export interface CommonFilter {
  /** A prefix tsquery (see toTsQuery), or null for no search. */
  tsQuery?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/** Filters of the lists whose rows have an owner and tags (leads, contacts, deals). */
export interface ContactListFilter extends CommonFilter {
  ownerId?: string | null;
  tags?: string[] | null;
}

export interface LeadListFilter extends ContactListFilter {
  status?: LeadStatusValue[] | null;
  unassigned?: boolean | null;
  source?: string | null;
  scoreMin?: number | null;
  scoreMax?: number | null;
}

export interface DealListFilter extends ContactListFilter {
  stageIds?: string[] | null;
  stageKinds?: StageKindValue[] | null;
  contactId?: string | null;
  expectedCloseAfter?: string | null;
  expectedCloseBefore?: string | null;
}

export interface ActivityListFilter extends CommonFilter {
  types?: ActivityTypeValue[] | null;
  done?: boolean | null;
  accountId?: string | null;
  leadId?: string | null;
  contactId?: string | null;
  dealId?: string | null;
  dueAfter?: Date | null;
  dueBefore?: Date | null;
}

export interface Sort<F extends string> {
  field: F;
  direction: SortDirection;
}

/** Words of a search string as a prefix query ("jan do" -> "jan:* & do:*"); null when none. */
export function toTsQuery(search: string | null | undefined): string | null {
  if (!search) return null;
  const words = (search.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 10).map((w) => w.slice(0, 50));
  return words.length ? words.map((w) => `${w}:*`).join(' & ') : null;
}

type Searchable = 'leads' | 'contacts' | 'deals' | 'activities';

/** Filters every list has; returns the placeholder of the search query (ORDER BY RANK uses it too). */
function common(p: Params, where: string[], filter: CommonFilter, table: Searchable): string | null {
  const tsQuery = filter.tsQuery ? p.add(filter.tsQuery) : null;
  // Through crm.search_<table> (migration 001): the only way the GIN index serves a query under RLS.
  if (tsQuery) where.push(`id IN (SELECT crm.search_${table}(to_tsquery('simple', ${tsQuery})))`);
  if (filter.createdAfter) where.push(`created_at >= ${p.add(filter.createdAfter)}`);
  if (filter.createdBefore) where.push(`created_at < ${p.add(filter.createdBefore)}`);
  return tsQuery;
}

/**
 * ORDER BY of a list: the field's column (RANK: relevance to the search, whose placeholder
 * `common` returned), then the id in the same direction, so `created_at DESC, id DESC` reads
 * straight off the (tenant_id, created_at DESC, id DESC) index and stops after one page.
 * Columns in `nullable` sort their NULLs last; the others are NOT NULL, where a NULLS clause
 * would only stop PostgreSQL from using the index.
 */
function orderBy(columns: Record<string, string>, sort: Sort<string>, tsQuery: string | null, nullable: readonly string[] = []) {
  const dir = sort.direction === 'ASC' ? 'ASC' : 'DESC';
  if (sort.field === 'RANK') {
    if (!tsQuery) return `created_at ${dir}, id ${dir}`;
    return `ts_rank(search, to_tsquery('simple', ${tsQuery})) ${dir}, created_at DESC, id DESC`;
  }
  const column = columns[sort.field] ?? 'created_at';
  return `${column} ${dir}${nullable.includes(column) ? ' NULLS LAST' : ''}, id ${dir}`;
}

/** One page of a table's rows (the total only when asked for: see kit readPage). */
const listPage = <R>(tx: Tx, table: Table, p: Params, where: string[], orderBy: string, page: ListRequest): Promise<ListPage<R>> =>
  readList<R>(tx, { columns: table.columns, from: table.name, where, orderBy, values: p.values }, page);

const LEAD_SORT = {
  CREATED_AT: 'created_at',
  UPDATED_AT: 'updated_at',
  NAME: 'lower(name)',
  SCORE: 'score',
  LAST_ACTIVITY_AT: 'last_activity_at',
};

/** Only a converted lead has a contact and a deal made of it (Lead.convertedContact). */
const CONVERTED = "status = 'converted'";

/** What a leads page reads besides its columns, each in the page's own statement. */
export interface LeadPageExtras {
  /** The owners' emails, as `owner_email` (kit/accounts.ts). */
  ownerEmail?: boolean;
  /** The ids of the converted contact and deal, as `converted_contact_id` and `converted_deal_id`. */
  convertedContactId?: boolean;
  convertedDealId?: boolean;
}

/** One page of leads; `fields`: the Lead fields the query selects (every column when not given). */
export function leadsPage(tx: Tx, filter: LeadListFilter, sort: Sort<string>, page: ListRequest, fields?: ReadonlySet<string>, extras: LeadPageExtras = {}) {
  const p = new Params();
  const where: string[] = [];
  const tsQuery = common(p, where, filter, 'leads');
  if (filter.status?.length) where.push(`status = ANY(${p.add(filter.status)}::text[])`);
  if (filter.ownerId) where.push(`owner_id = ${p.add(filter.ownerId)}`);
  if (filter.unassigned === true) where.push('owner_id IS NULL');
  if (filter.unassigned === false) where.push('owner_id IS NOT NULL');
  if (filter.tags?.length) where.push(`tags @> ${p.add(filter.tags)}::text[]`);
  if (filter.source) where.push(`lower(source) = lower(${p.add(filter.source)})`);
  if (filter.scoreMin != null) where.push(`score >= ${p.add(filter.scoreMin)}`);
  if (filter.scoreMax != null) where.push(`score <= ${p.add(filter.scoreMax)}`);
  const order = orderBy(LEAD_SORT, sort, tsQuery, ['last_activity_at']);
  // Rows carry only the columns `fields` need: nothing else reads them (they prime no loader).
  let table = fields ? columnsFor(LEADS, fields, LEAD_NEEDS) : LEADS;
  if (extras.ownerEmail) table = withAccountEmail(table, 'owner_id', 'owner_email');
  if (extras.convertedContactId) table = withReferringId(table, 'crm.contacts', 'lead_id', 'converted_contact_id', CONVERTED);
  if (extras.convertedDealId) table = withReferringId(table, 'crm.deals', 'lead_id', 'converted_deal_id', CONVERTED);
  return listPage<LeadRow>(tx, table, p, where, order, page);
}

const CONTACT_SORT = { CREATED_AT: 'created_at', UPDATED_AT: 'updated_at', NAME: 'lower(name)' };

export function contactsPage(tx: Tx, filter: ContactListFilter, sort: Sort<string>, page: ListRequest) {
  const p = new Params();
  const where: string[] = [];
  const tsQuery = common(p, where, filter, 'contacts');
  if (filter.ownerId) where.push(`owner_id = ${p.add(filter.ownerId)}`);
  if (filter.tags?.length) where.push(`tags @> ${p.add(filter.tags)}::text[]`);
  const order = orderBy(CONTACT_SORT, sort, tsQuery);
  return listPage<ContactRow>(tx, CONTACTS, p, where, order, page);
}

const DEAL_SORT = {
  CREATED_AT: 'created_at',
  UPDATED_AT: 'updated_at',
  TITLE: 'lower(title)',
  AMOUNT: 'amount',
  EXPECTED_CLOSE_DATE: 'expected_close_date',
  STAGE: `(SELECT s.position FROM crm.pipeline_stages s WHERE s.tenant_id = deals.tenant_id AND s.id = deals.stage_id)`,
};

export function dealsPage(tx: Tx, filter: DealListFilter, sort: Sort<string>, page: ListRequest) {
  const p = new Params();
  const where: string[] = [];
  const tsQuery = common(p, where, filter, 'deals');
  if (filter.stageIds?.length) where.push(`stage_id = ANY(${p.add(filter.stageIds)}::uuid[])`);
  if (filter.stageKinds?.length) {
    where.push(`stage_id IN (SELECT s.id FROM crm.pipeline_stages s WHERE s.kind = ANY(${p.add(filter.stageKinds)}::text[]))`);
  }
  if (filter.ownerId) where.push(`owner_id = ${p.add(filter.ownerId)}`);
  if (filter.contactId) where.push(`contact_id = ${p.add(filter.contactId)}`);
  if (filter.tags?.length) where.push(`tags @> ${p.add(filter.tags)}::text[]`);
  if (filter.expectedCloseAfter) where.push(`expected_close_date >= ${p.add(filter.expectedCloseAfter)}::date`);
  if (filter.expectedCloseBefore) where.push(`expected_close_date < ${p.add(filter.expectedCloseBefore)}::date`);
  const order = orderBy(DEAL_SORT, sort, tsQuery, ['amount', 'expected_close_date', DEAL_SORT.STAGE]);
  return listPage<DealRow>(tx, DEALS, p, where, order, page);
}

const ACTIVITY_SORT = { CREATED_AT: 'created_at', DUE_AT: 'due_at' };

export function activitiesPage(tx: Tx, filter: ActivityListFilter, sort: Sort<string>, page: ListRequest) {
  const p = new Params();
  const where: string[] = [];
  const tsQuery = common(p, where, filter, 'activities');
  if (filter.types?.length) where.push(`type = ANY(${p.add(filter.types)}::text[])`);
  if (filter.done != null) where.push(`done = ${p.add(filter.done)}`);
  if (filter.accountId) where.push(`account_id = ${p.add(filter.accountId)}`);
  if (filter.leadId) where.push(`lead_id = ${p.add(filter.leadId)}`);
  if (filter.contactId) where.push(`contact_id = ${p.add(filter.contactId)}`);
  if (filter.dealId) where.push(`deal_id = ${p.add(filter.dealId)}`);
  if (filter.dueAfter) where.push(`due_at >= ${p.add(filter.dueAfter)}`);
  if (filter.dueBefore) where.push(`due_at < ${p.add(filter.dueBefore)}`);
  const order = orderBy(ACTIVITY_SORT, sort, tsQuery, ['due_at']);
  return listPage<ActivityRow>(tx, ACTIVITIES, p, where, order, page);
}

export const leadFormsPage = (tx: Tx, page: ListRequest) => listPage<LeadFormRow>(tx, FORMS, new Params(), [], 'created_at, id', page);

// ---------------------------------------------------------------------------------------------
// Pages of children of many parents, newest first, in one statement (see kit childPages).

const NEWEST_FIRST = 'created_at DESC, id DESC';
export const activitiesOfLeads = selectChildPages<ActivityRow>(ACTIVITIES, { parent: 'lead_id', orderBy: NEWEST_FIRST });
export const activitiesOfContacts = selectChildPages<ActivityRow>(ACTIVITIES, { parent: 'contact_id', orderBy: NEWEST_FIRST });
export const activitiesOfDeals = selectChildPages<ActivityRow>(ACTIVITIES, { parent: 'deal_id', orderBy: NEWEST_FIRST });
export const dealsOfContacts = selectChildPages<DealRow>(DEALS, { parent: 'contact_id', orderBy: NEWEST_FIRST });
export const leadsOfOwners = selectChildPages<LeadRow>(LEADS, { parent: 'owner_id', orderBy: NEWEST_FIRST });

// ---------------------------------------------------------------------------------------------
// By id (DataLoaders): one statement per batch.

export const leadsByIds = selectByKeys<LeadRow>(LEADS, { key: 'id' });
export const contactsByIds = selectByKeys<ContactRow>(CONTACTS, { key: 'id' });
/** The contact convertLead made of each lead. */
export const contactsByLeadIds = selectByKeys<ContactRow>(CONTACTS, { key: 'lead_id' });
export const dealsByIds = selectByKeys<DealRow>(DEALS, { key: 'id' });
/** The deal convertLead made of each lead. */
export const dealsByLeadIds = selectByKeys<DealRow>(DEALS, { key: 'lead_id' });
export const activitiesByIds = selectByKeys<ActivityRow>(ACTIVITIES, { key: 'id' });
export const stagesByIds = selectByKeys<StageRow>(STAGES, { key: 'id' });
export const productsOfDeals = selectByKeys<DealProductRow>(DEAL_PRODUCTS, { key: 'deal_id', orderBy: 'deal_id, position, product_id' });

// ---------------------------------------------------------------------------------------------
// Pipeline.

/** The defaults every tenant starts with (written on first use, see `stages`). */
export const DEFAULT_STAGES: { name: string; probability: number; kind: StageKindValue }[] = [
  { name: 'Prospecting', probability: 10, kind: 'open' },
  { name: 'Qualification', probability: 25, kind: 'open' },
  { name: 'Proposal', probability: 50, kind: 'open' },
  { name: 'Negotiation', probability: 75, kind: 'open' },
  { name: 'Won', probability: 100, kind: 'won' },
  { name: 'Lost', probability: 0, kind: 'lost' },
];

/**
 * The tenant's stages in order; a tenant without any gets the defaults first, in the same
 * statement (so a new tenant needs no set-up step and a read costs one statement).
 */
export async function stages(tx: Tx): Promise<StageRow[]> {
  const { rows } = await tx.query<StageRow>(
    `WITH existing AS (SELECT ${STAGES.columns} FROM crm.pipeline_stages),
     inserted AS (
       INSERT INTO crm.pipeline_stages (tenant_id, name, position, probability, kind)
       SELECT ${CURRENT_TENANT}, d.name, d.position, d.probability, d.kind
       FROM jsonb_to_recordset($1::jsonb) AS d(name text, position int, probability int, kind text)
       WHERE NOT EXISTS (SELECT 1 FROM existing)
       ON CONFLICT DO NOTHING
       RETURNING ${STAGES.columns}
     )
     SELECT * FROM existing UNION ALL SELECT * FROM inserted ORDER BY position, name`,
    [JSON.stringify(DEFAULT_STAGES.map((s, i) => ({ ...s, position: (i + 1) * 10 })))],
  );
  return rows;
}

export interface StageTotalsRow {
  stage_id: string;
  currency: string;
  deal_count: number;
  amount: number;
  weighted: number;
}

export async function stageTotals(tx: Tx) {
  const { rows } = await tx.query<StageTotalsRow>(
    `SELECT stage_id, currency, count(*)::int AS deal_count, coalesce(sum(amount), 0)::float8 AS amount,
       coalesce(sum(amount * probability / 100.0), 0)::float8 AS weighted
     FROM crm.deals GROUP BY stage_id, currency ORDER BY stage_id, currency`,
  );
  return rows;
}

export async function insertStage(tx: Tx, stage: { name: string; position: number | null; probability: number; kind: StageKindValue }) {
  const { rows } = await tx.query<StageRow>(
    `INSERT INTO crm.pipeline_stages (tenant_id, name, position, probability, kind)
     VALUES (${CURRENT_TENANT}, $1, coalesce($2, (SELECT coalesce(max(position), 0) + 10 FROM crm.pipeline_stages)), $3, $4)
     RETURNING ${STAGES.columns}`,
    [stage.name, stage.position, stage.probability, stage.kind],
  );
  return rows[0]!;
}

export const updateStage = (tx: Tx, id: string, changes: Record<string, unknown>) => updateRow<StageRow>(tx, STAGES, id, changes);

export async function openStageCount(tx: Tx) {
  const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM crm.pipeline_stages WHERE kind = 'open'`);
  return rows[0]!.n;
}

export async function moveDealsBetweenStages(tx: Tx, from: string, to: string) {
  await tx.query('UPDATE crm.deals SET stage_id = $2, stage_entered_at = now(), updated_at = now() WHERE stage_id = $1', [from, to]);
}

// ---------------------------------------------------------------------------------------------
// Writes.

// Column values reaching the writes are validated, under their database names (mutations.ts).
export const insertLead = (tx: Tx, values: Record<string, unknown>) => insertRow<LeadRow>(tx, LEADS, values);
/** Null when there is no such lead, or (with `notConverted`) it is converted. */
export const updateLead = (tx: Tx, id: string, changes: Record<string, unknown>, notConverted = false) =>
  updateRow<LeadRow>(tx, LEADS, id, changes, notConverted ? `AND status <> 'converted'` : '');
export const deleteLead = (tx: Tx, id: string) => deleteRow(tx, LEADS, id);

export async function leadForUpdate(tx: Tx, id: string) {
  const { rows } = await tx.query<LeadRow>(`SELECT ${LEADS.columns} FROM crm.leads WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0] ?? null;
}

export async function markConverted(tx: Tx, id: string) {
  const { rows } = await tx.query<LeadRow>(
    `UPDATE crm.leads SET status = 'converted', converted_at = now(), updated_at = now() WHERE id = $1 RETURNING ${LEADS.columns}`,
    [id],
  );
  return rows[0]!;
}

export const insertContact = (tx: Tx, values: Record<string, unknown>) => insertRow<ContactRow>(tx, CONTACTS, values);
export const updateContact = (tx: Tx, id: string, changes: Record<string, unknown>) => updateRow<ContactRow>(tx, CONTACTS, id, changes);
export const deleteContact = (tx: Tx, id: string) => deleteRow(tx, CONTACTS, id);

/** A new deal's columns: a deal's own, with a null `stage_id` for the first open stage and a null `probability` for the stage's. */
export type DealValues = Omit<DealRow, 'id' | 'stage_id' | 'probability' | 'closed_at' | 'stage_entered_at' | 'created_at' | 'updated_at'> & {
  stage_id: string | null;
  probability: number | null;
};

/**
 * Inserts a deal; the stage's probability and kind fill the defaults. A stage id of another
 * tenant (or none) fails the (tenant_id, stage_id) foreign key.
 */
export async function insertDeal(tx: Tx, deal: DealValues) {
  const stage = `coalesce($3::uuid, (SELECT id FROM crm.pipeline_stages WHERE kind = 'open' ORDER BY position, name LIMIT 1))`;
  const { rows } = await tx.query<DealRow>(
    `WITH s AS (SELECT ${stage} AS id)
     INSERT INTO crm.deals (tenant_id, title, amount, currency, stage_id, probability, expected_close_date, contact_id,
       owner_id, lead_id, tags, notes, closed_at)
     SELECT ${CURRENT_TENANT}, $1, $2, $4, s.id,
       coalesce($5, (SELECT probability FROM crm.pipeline_stages WHERE id = s.id), 0), $6::date, $7, $8, $9, $10, $11,
       CASE WHEN (SELECT kind FROM crm.pipeline_stages WHERE id = s.id) IN ('won', 'lost') THEN now() END
     FROM s
     RETURNING ${DEALS.columns}`,
    [
      deal.title,
      deal.amount,
      deal.stage_id,
      deal.currency,
      deal.probability,
      deal.expected_close_date,
      deal.contact_id,
      deal.owner_id,
      deal.lead_id,
      deal.tags,
      deal.notes,
    ],
  );
  return rows[0]!;
}

export const updateDeal = (tx: Tx, id: string, changes: Record<string, unknown>) => updateRow<DealRow>(tx, DEALS, id, changes);
export const deleteDeal = (tx: Tx, id: string) => deleteRow(tx, DEALS, id);

/** Replaces the deal's products (an empty list clears them). The channel defaults to the tenant's. */
export async function setDealProducts(tx: Tx, dealId: string, products: { productId: string; channel: string | null }[], replace: boolean) {
  if (replace) await tx.query('DELETE FROM crm.deal_products WHERE deal_id = $1', [dealId]);
  if (!products.length) return;
  await tx.query(
    `INSERT INTO crm.deal_products (tenant_id, deal_id, product_id, channel, position)
     SELECT ${CURRENT_TENANT}, $1, p.product_id,
       coalesce(p.channel, (SELECT t.saleor_channel FROM auth.tenants t WHERE t.id = ${CURRENT_TENANT})), p.position
     FROM jsonb_to_recordset($2::jsonb) AS p(product_id text, channel text, position int)`,
    [dealId, JSON.stringify(products.map((x, i) => ({ product_id: x.productId, channel: x.channel, position: i })))],
  );
}

/** The deal (locked) with the name of its stage. */
export async function dealForMove(tx: Tx, id: string) {
  const { rows } = await tx.query<{ id: string; stage_id: string; stage_name: string }>(
    `SELECT d.id, d.stage_id, s.name AS stage_name FROM crm.deals d
     JOIN crm.pipeline_stages s ON s.tenant_id = d.tenant_id AND s.id = d.stage_id
     WHERE d.id = $1 FOR UPDATE OF d`,
    [id],
  );
  return rows[0] ?? null;
}

export async function moveDeal(tx: Tx, id: string, stage: StageRow) {
  const { rows } = await tx.query<DealRow>(
    `UPDATE crm.deals SET stage_id = $2, probability = $3,
       closed_at = CASE WHEN $4 = 'open' THEN NULL ELSE coalesce(closed_at, now()) END,
       stage_entered_at = CASE WHEN stage_id = $2 THEN stage_entered_at ELSE now() END, updated_at = now()
     WHERE id = $1 RETURNING ${DEALS.columns}`,
    [id, stage.id, stage.probability, stage.kind],
  );
  return rows[0]!;
}

export interface ActivityValues {
  type: ActivityTypeValue;
  subject: string;
  body: string | null;
  due_at: Date | null;
  done: boolean;
  account_id: string | null;
  lead_id: string | null;
  contact_id: string | null;
  deal_id: string | null;
}

/** Inserts an activity and, on a lead, moves the lead's lastActivityAt (one statement). */
export async function insertActivity(tx: Tx, a: ActivityValues) {
  const { rows } = await tx.query<ActivityRow>(
    `WITH a AS (
       INSERT INTO crm.activities (tenant_id, type, subject, body, due_at, done, completed_at, account_id, lead_id, contact_id, deal_id)
       VALUES (${CURRENT_TENANT}, $1, $2, $3, $4, $5, CASE WHEN $5 THEN now() END, $6, $7, $8, $9)
       RETURNING ${ACTIVITIES.columns}, tenant_id
     ), touched AS (
       UPDATE crm.leads l SET last_activity_at = a.created_at FROM a
       WHERE l.tenant_id = a.tenant_id AND l.id = a.lead_id
     )
     SELECT ${ACTIVITIES.columns} FROM a`,
    [a.type, a.subject, a.body, a.due_at, a.done, a.account_id, a.lead_id, a.contact_id, a.deal_id],
  );
  return rows[0]!;
}

export const updateActivity = (tx: Tx, id: string, changes: Record<string, unknown>) => updateRow<ActivityRow>(tx, ACTIVITIES, id, changes);
export const deleteActivity = (tx: Tx, id: string) => deleteRow(tx, ACTIVITIES, id);

export async function completeActivity(tx: Tx, id: string, done: boolean) {
  const { rows } = await tx.query<ActivityRow>(
    `UPDATE crm.activities SET done = $2, completed_at = CASE WHEN $2 THEN coalesce(completed_at, now()) END, updated_at = now()
     WHERE id = $1 RETURNING ${ACTIVITIES.columns}`,
    [id, done],
  );
  return rows[0] ?? null;
}

export const deleteStage = (tx: Tx, id: string) => deleteRow(tx, STAGES, id);

// ---------------------------------------------------------------------------------------------
// Lead forms.

export async function insertLeadForm(
  tx: Tx,
  form: { name: string; keyHash: Buffer; keyPrefix: string; source: string; ownerId: string | null; tags: string[] },
) {
  const { rows } = await tx.query<LeadFormRow>(
    `INSERT INTO crm.lead_forms (tenant_id, name, key_hash, key_prefix, source, owner_id, tags)
     VALUES (${CURRENT_TENANT}, $1, $2, $3, $4, $5, $6) RETURNING ${FORMS.columns}`,
    [form.name, form.keyHash, form.keyPrefix, form.source, form.ownerId, form.tags],
  );
  return rows[0]!;
}

export const deleteLeadForm = (tx: Tx, id: string) => deleteRow(tx, FORMS, id);

/** The tenant and form of a key hash (SECURITY DEFINER: the caller has no tenant yet). */
export async function leadFormTenant(tx: Tx, keyHash: Buffer) {
  const { rows } = await tx.query<{ tenant_id: string; form_id: string }>('SELECT * FROM crm.lead_form_tenant($1)', [keyHash]);
  return rows[0] ?? null;
}

/** A lead from a form post, with the form's source, owner and tags (inside the form's tenant). */
export async function insertLeadFromForm(
  tx: Tx,
  formId: string,
  lead: { name: string; email: string; phone: string | null; company: string | null; title: string | null; notes: string | null },
) {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO crm.leads (tenant_id, name, email, phone, company, title, notes, source, owner_id, tags, lead_form_id)
     SELECT f.tenant_id, $2, $3, $4, $5, $6, $7, f.source, f.owner_id, f.tags, f.id FROM crm.lead_forms f WHERE f.id = $1
     RETURNING id`,
    [formId, lead.name, lead.email, lead.phone, lead.company, lead.title, lead.notes],
  );
  return rows[0]?.id ?? null;
}

// ---------------------------------------------------------------------------------------------
// Demo data (seed.ts): bulk inserts from JSON, one statement per table.

export async function countLeads(tx: Tx) {
  const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM crm.leads');
  return rows[0]!.n;
}

/** Each lead's lastActivityAt from its activities. */
export async function touchLeadsFromActivities(tx: Tx) {
  await tx.query(
    `UPDATE crm.leads l SET last_activity_at = a.latest
     FROM (SELECT lead_id, max(created_at) AS latest FROM crm.activities WHERE lead_id IS NOT NULL GROUP BY lead_id) a
     WHERE l.id = a.lead_id`,
  );
}

export async function bulkInsert(tx: Tx, table: string, columns: Record<string, string>, records: readonly object[]) {
  if (!records.length) return;
  const names = Object.keys(columns);
  const definition = names.map((n) => `${n} ${columns[n]}`).join(', ');
  await tx.query(
    `INSERT INTO ${table} (tenant_id, ${names.join(', ')})
     SELECT ${CURRENT_TENANT}, ${names.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS r(${definition})`,
    [JSON.stringify(records)],
  );
}
