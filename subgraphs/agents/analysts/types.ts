import type { z } from 'zod';
import type { TxRunner } from '../../kit/db/database.ts';

/*
 * What an agent kind is, and what a run gives it. The run executor (runs/) builds the context:
 * the run's credentials at the gateway, its tenant transaction, its progress reporter, its signal
 * and, when one is configured, a language model. A kind computes insights and returns them; the
 * executor stores them (with their embeddings) and the run's outcome in one transaction, so a
 * run whose attempt is retried never writes its insights twice.
 */

export type AgentKind = 'LEAD_SCORER' | 'PIPELINE_ANALYST' | 'CONTENT_AUDITOR' | 'SALES_SUMMARY' | 'WRITER';
export type InsightSeverity = 'info' | 'warning' | 'critical';
export type SubjectType = 'Lead' | 'Deal' | 'ContentPage' | 'Product';

/** GraphQL at the gateway with the run's credentials (gateway-client.ts). */
export interface GatewayClient {
  /**
   * The operation's `data`. Throws RunError: FORBIDDEN when the member may not (an error coded
   * FORBIDDEN or UNAUTHENTICATED), UPSTREAM_ERROR (retryable) for anything else; CANCELLED once
   * the run's signal aborts. Errors on some fields with data on others: `partial: true` returns
   * the data with the errors instead of throwing.
   */
  query<T>(document: string, variables?: Record<string, unknown>, options?: { partial?: false }): Promise<T>;
  query<T>(
    document: string,
    variables: Record<string, unknown> | undefined,
    options: { partial: true },
  ): Promise<{ data: T | null; errors: { message: string; code?: string; path?: readonly (string | number)[] }[] }>;
}

/** Tokens a model call used. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ModelRequest {
  system?: string;
  prompt: string;
  /** Give the model the read-only gateway tools (leads, pipeline, pages, products) of the run's member. */
  tools?: boolean;
  maxOutputTokens?: number;
  /** The run's progress (0-100) while the answer streams: its text is then reported as PROGRESS events at that percent (at most about one a second). */
  progress?: number;
}

/** A configured language model (llm/), bound to one run: its calls count against the tenant's daily token budget. */
export interface AgentModel {
  readonly name: string;
  /**
   * The model's answer; streamed text is reported as run progress. Throws RunError:
   * BUDGET_EXCEEDED (the tenant's daily tokens are used up, before or during the call),
   * MODEL_ERROR (the provider failed), TIMEOUT, CANCELLED.
   */
  generate(request: ModelRequest): Promise<{ text: string; usage: TokenUsage }>;
  /** Tokens of every call of this run so far, failed ones included (what the executor stores on the run). */
  usage(): TokenUsage;
}

export interface AnalystContext {
  tenantId: string;
  /** Who the run acts as. */
  accountId: string;
  runId: string;
  /** The kind's settings, parsed by its `settings` schema (defaults filled in). */
  settings: Record<string, unknown>;
  /** The run's input (the writer's brief). */
  input: { brief?: string; draft?: 'PAGE' | 'EMAIL' };
  gateway: GatewayClient;
  /** The run's tenant transaction (RLS as the run's member), for the agents subgraph's own tables. */
  tx: TxRunner;
  /** Aborts when the run is cancelled, expires or its process stops: check it between steps. */
  signal: AbortSignal;
  /** Progress 0-100 and what it is doing: a run event, stored and published live. */
  progress(percent: number, step: string): Promise<void>;
  /** A LOG run event (a skipped write, a fallback). */
  log(message: string, data?: Record<string, unknown>): Promise<void>;
  /** The configured model bound to this run; null when none is configured. */
  model: AgentModel | null;
  /** The run's clock (tests pin it). */
  now: Date;
}

export interface InsightDraft {
  /** What found it: `lead_score`, `stuck_deal`, `thin_page`, ... (snake_case). */
  kind: string;
  severity: InsightSeverity;
  /** At most 200 characters. */
  title: string;
  /** Markdown, at most 20,000 characters. */
  body: string;
  subject?: { type: SubjectType; id: string; channel?: string | null };
  /** The numbers behind it (JSON). */
  evidence: Record<string, unknown>;
}

export interface AnalystResult {
  insights: InsightDraft[];
}

export interface AgentKindDefinition {
  kind: AgentKind;
  description: string;
  needsModel: boolean;
  /** Its settings: parsing `{}` gives the defaults; what it rejects is reported on `settings`. */
  settings: z.ZodType<Record<string, unknown>>;
  run(ctx: AnalystContext): Promise<AnalystResult>;
}
