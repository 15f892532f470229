import type { ActivityRow, ContactRow, DealRow, LeadFormRow, LeadRow, StageRow } from './store.ts';

// What each GraphQL type's resolvers receive as parent (see codegen.ts).
export type LeadModel = LeadRow;
export type ContactModel = ContactRow;
export type DealModel = DealRow;
export type ActivityModel = ActivityRow;
export type PipelineStageModel = StageRow;
export type LeadFormModel = LeadFormRow;
/** An auth account referenced by id; auth resolves its other fields. */
export interface AccountModel {
  id: string;
}
/** A Saleor product referenced by its key. */
export interface ProductModel {
  id: string;
  channel: string;
}
