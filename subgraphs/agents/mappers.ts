import type { AgentKindDefinition } from './analysts/types.ts';
import type { AgentRow, InsightRow, RunRow } from './store.ts';

// What each GraphQL type's resolvers receive as parent (see codegen.ts).

export type AgentModel = AgentRow;
export type AgentRunModel = RunRow;
export type InsightModel = InsightRow;
export type AgentKindInfoModel = AgentKindDefinition;

export interface InsightSearchHitModel {
  score: number;
  insight: InsightRow;
}

export interface SimilarHitModel {
  score: number;
  type: 'INSIGHT' | 'CONTENT_PAGE';
  insight: InsightRow | null;
  contentPage: { id: string } | null;
}

/** Entities of other subgraphs, as their references: the auth subgraph's Account, crm's Lead and Deal, cms's ContentPage. */
export interface AccountModel {
  id: string;
}
export interface LeadModel {
  __typename?: 'Lead';
  id: string;
}
export interface DealModel {
  __typename?: 'Deal';
  id: string;
}
export interface ContentPageModel {
  __typename?: 'ContentPage';
  id: string;
}
/** Saleor's Product, keyed by id and channel (insights about it are about it in every channel). */
export interface ProductModel {
  __typename?: 'Product';
  id: string;
  channel?: string | null;
}
