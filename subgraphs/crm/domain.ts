import type { ActivityType, LeadStatus, PipelineStageKind } from './__generated__/resolvers-types.ts';

/*
 * The CRM's domain rules, in one place for the store, the input checks and the REST shim
 * (gateway/rest/routes/crm.ts): the values of its enums as the database stores them, and how
 * long and how large its fields may be. The GraphQL enums (schema/crm.graphql) are the same
 * values in upper case, which the compiler checks below; the migrations' CHECK constraints hold
 * the same values and numbers, which test/crm-domain.test.ts checks on a migrated database.
 */

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'unqualified', 'converted'] as const;
export type LeadStatusValue = (typeof LEAD_STATUSES)[number];
/** Only convertLead makes a lead `converted`; a write may set the others. */
export const SETTABLE_LEAD_STATUSES = LEAD_STATUSES.filter((status) => status !== 'converted');

export const ACTIVITY_TYPES = ['call', 'email', 'meeting', 'note', 'task'] as const;
export type ActivityTypeValue = (typeof ACTIVITY_TYPES)[number];

export const STAGE_KINDS = ['open', 'won', 'lost'] as const;
export type StageKindValue = (typeof STAGE_KINDS)[number];

/** The stored value of a GraphQL enum value (`CONTACTED` -> `contacted`). */
export const fromGraphQLEnum = <V extends string>(value: Uppercase<V>) => value.toLowerCase() as V;
/** The GraphQL enum value of a stored value (`contacted` -> `CONTACTED`). */
export const toGraphQLEnum = <V extends string>(value: V) => value.toUpperCase() as Uppercase<V>;

// The SDL's enums are exactly these values upper-cased: a value added on one side only fails
// `npm run typecheck` (after `npm run codegen`).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _sdlEnumsMatch: [Same<Uppercase<LeadStatusValue>, LeadStatus>, Same<Uppercase<ActivityTypeValue>, ActivityType>, Same<Uppercase<StageKindValue>, PipelineStageKind>] = [
  true,
  true,
  true,
];

/** Longest texts (characters) and largest lists of the CRM's inputs. */
export const LIMITS = {
  /** A lead's or contact's name. */
  name: 200,
  email: 254,
  phone: 50,
  company: 200,
  /** A person's job title, and a deal's title. */
  title: 200,
  source: 100,
  /** Notes of leads, contacts and deals, an activity's body, a deal move's note. */
  notes: 10_000,
  subject: 300,
  tag: 50,
  tags: 20,
  stageName: 100,
  formName: 100,
  /** Saleor products of one deal. */
  products: 50,
  /** A Saleor product's global id. */
  productId: 200,
  /** A lead-form post's message (stored as the lead's notes). */
  formMessage: 5_000,
  /** JSON size of one lead-form post. */
  formBytes: 16 * 1024,
  /** A list's full-text search. */
  search: 200,
} as const;

/** Inclusive ranges of the CRM's whole numbers. */
export const RANGES = {
  score: { min: 0, max: 100 },
  probability: { min: 0, max: 100 },
  stagePosition: { min: -1_000_000, max: 1_000_000 },
} as const;

/** ISO 4217 currency codes, as deals store them. */
export const CURRENCY = /^[A-Z]{3}$/;
export const DEFAULT_CURRENCY = 'USD';
