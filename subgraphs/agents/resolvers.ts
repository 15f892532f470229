import { accountField } from '../kit/accounts.ts';
import { z } from 'zod';
import { listConnection, toListRequest } from '../kit/connection.ts';
import { ONE_STATEMENT } from '../kit/db/database.ts';
import { pageStatements } from '../kit/db/list.ts';
import { badInput } from '../kit/errors.ts';
import { isUuid } from '../kit/formats.ts';
import { loadOrNotFound } from '../kit/loaders.ts';
import { payloadResolver } from '../kit/mutations/payload.ts';
import type { InsightSeverity as GraphQLSeverity, Resolvers } from './__generated__/resolvers-types.ts';
import { agentKinds } from './analysts/index.ts';
import type { AgentKindDefinition, InsightSeverity, SubjectType } from './analysts/types.ts';
import type { AgentsContext } from './loaders.ts';
import type { AgentRunModel, InsightModel } from './mappers.ts';
import * as mutations from './mutations.ts';
import { modelConfigured } from './runs/kinds.ts';
import { runResolvers } from './runs/resolvers.ts';
import { searchInsights, similar } from './search.ts';
import * as store from './store.ts';

/** An id argument that must name a row: a malformed one names none (NOT_FOUND through the loader). */
const idOf = (id: string) => id.toLowerCase();

/** An id a list filters on: a malformed one is an input error. */
function filterId(id: string | null | undefined, field: string): string | null {
  if (id == null) return null;
  if (!isUuid(id)) throw badInput(`"${field}" is not an id.`, field);
  return id.toLowerCase();
}

/** `first` of a short list field: `min`..`max`, `fallback` when omitted. */
function sizeOf(first: number | null | undefined, fallback: number, max: number): number {
  if (first == null) return fallback;
  if (!Number.isInteger(first) || first < 1 || first > max) throw badInput(`"first" must be between 1 and ${max}.`, 'first');
  return first;
}

const SUBJECT_TYPES: readonly SubjectType[] = ['Lead', 'Deal', 'ContentPage', 'Product'];

function subjectTypeOf(value: string | null | undefined): SubjectType | null {
  if (value == null) return null;
  if (!SUBJECT_TYPES.includes(value as SubjectType)) throw badInput(`"subjectType" is one of ${SUBJECT_TYPES.join(', ')}.`, 'filter.subjectType');
  return value as SubjectType;
}

const severityOf = (severity: GraphQLSeverity) => severity.toLowerCase() as InsightSeverity;

const schemas = new WeakMap<AgentKindDefinition, unknown>();
/** A kind's settings as a JSON Schema (what its zod schema accepts as input), computed once. */
function settingsSchemaOf(definition: AgentKindDefinition): unknown {
  let schema = schemas.get(definition);
  if (schema === undefined) {
    schema = z.toJSONSchema(definition.settings, { io: 'input', unrepresentable: 'any' });
    schemas.set(definition, schema);
  }
  return schema;
}

/** An entity extension's `insights(first)`: newest first, not dismissed, batched for every entity of the response. */
const insightsAbout =
  (type: SubjectType) =>
  (entity: { id: string }, args: { first?: number | null }, ctx: AgentsContext): Promise<InsightModel[]> =>
    ctx.loaders.insightsOfSubject(sizeOf(args.first, 10, 50)).load({ type, id: entity.id });

const agentPayload = payloadResolver('agent');
const insightPayload = payloadResolver('insight');
const deletedPayload = payloadResolver('deletedId');

const ownResolvers: Resolvers = {
  Query: {
    agentKinds: () => Object.values(agentKinds),
    agents: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      const filter = { kind: args.filter?.kind ?? null, enabled: args.filter?.enabled ?? null };
      return listConnection(await ctx.tx((tx) => store.agentsPage(tx, filter, page), pageStatements(page)), page);
    },
    agent: (_root, args, ctx) => loadOrNotFound(ctx.loaders.agent, idOf(args.id), 'Agent'),
    agentRuns: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      const filter = { agentId: filterId(args.filter?.agentId, 'filter.agentId'), status: args.filter?.status ?? null };
      return listConnection(await ctx.tx((tx) => store.runsPage(tx, filter, page), pageStatements(page)), page);
    },
    agentRun: (_root, args, ctx) => loadOrNotFound(ctx.loaders.run, idOf(args.id), 'AgentRun'),
    insights: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      const given = args.filter ?? {};
      const filter: store.InsightListFilter = {
        kind: given.kind ?? null,
        severity: given.severity ? severityOf(given.severity) : null,
        agentId: filterId(given.agentId, 'filter.agentId'),
        runId: filterId(given.runId, 'filter.runId'),
        subjectType: subjectTypeOf(given.subjectType),
        subjectId: given.subjectId ?? null,
        // Omitted: only those not dismissed; null: both.
        dismissed: given.dismissed === undefined ? false : given.dismissed,
      };
      return listConnection(await ctx.tx((tx) => store.insightsPage(tx, filter, page), pageStatements(page)), page);
    },
    insight: (_root, args, ctx) => loadOrNotFound(ctx.loaders.insight, idOf(args.id), 'Insight'),
    searchInsights: (_root, args, ctx) => searchInsights(ctx, args),
    similar: (_root, args, ctx) => similar(ctx, args),
    agentUsage: async (_root, _args, ctx) => {
      const usage = await ctx.tx((tx) => store.usageToday(tx), ONE_STATEMENT);
      return {
        day: usage.day,
        runs: Number(usage.runs),
        runQuota: ctx.deps.settings.AGENTS_DAILY_RUNS,
        tokens: Number(usage.tokens),
        tokenBudget: ctx.deps.settings.AGENTS_DAILY_TOKENS,
      };
    },
  },
  Mutation: {
    createAgent: agentPayload(mutations.createAgent),
    updateAgent: agentPayload(mutations.updateAgent),
    deleteAgent: deletedPayload(mutations.deleteAgent),
    dismissInsight: insightPayload(mutations.dismissInsight),
    restoreInsight: insightPayload(mutations.restoreInsight),
  },
  AgentKindInfo: {
    // As runAgent decides it (runs/kinds.ts): the writer needs a configured model.
    available: (definition, _args, ctx) => !definition.needsModel || modelConfigured(ctx.deps.settings),
    settingsSchema: (definition) => settingsSchemaOf(definition),
  },
  Agent: {
    __resolveReference: (reference, ctx) => (isUuid(reference.id) ? ctx.loaders.agent.load(idOf(reference.id)) : null),
    // Defaults of settings added to the kind since the agent was written are filled in too.
    settings: (agent) => {
      const parsed = mutations.settingsOf(agent.kind, agent.settings);
      return 'settings' in parsed ? parsed.settings : agent.settings;
    },
    nextRunAt: (agent) => (agent.enabled && agent.schedule ? agent.next_run_at : null),
    owner: accountField('owner_id'),
    createdAt: (agent) => agent.created_at,
    updatedAt: (agent) => agent.updated_at,
    runs: (agent, args, ctx) => ctx.loaders.latestRuns(sizeOf(args.first, 10, 100)).load(agent.id),
    lastRun: async (agent, _args, ctx) => (await ctx.loaders.latestRuns(1).load(agent.id))[0] ?? null,
  },
  AgentRun: {
    __resolveReference: (reference, ctx) => (isUuid(reference.id) ? ctx.loaders.run.load(idOf(reference.id)) : null),
    agent: (run, _args, ctx) => (run.agent_id ? ctx.loaders.agent.load(run.agent_id) : null),
    trigger: (run) => (run.trigger === 'schedule' ? 'SCHEDULE' : 'MANUAL'),
    startedBy: accountField('started_by'),
    queuedAt: (run) => run.queued_at,
    startedAt: (run) => run.started_at,
    finishedAt: (run) => run.finished_at,
    insights: (run, _args, ctx) => ctx.loaders.insightsOfRun.load(run.id),
    tokenUsage: (run: AgentRunModel) => {
      if (run.input_tokens == null && run.output_tokens == null) return null;
      const inputTokens = run.input_tokens ?? 0;
      const outputTokens = run.output_tokens ?? 0;
      return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
    },
    error: (run) => (run.error_code ? { code: run.error_code, message: run.error_message ?? '' } : null),
  },
  Insight: {
    __resolveReference: (reference, ctx) => (isUuid(reference.id) ? ctx.loaders.insight.load(idOf(reference.id)) : null),
    severity: (insight) => insight.severity.toUpperCase() as GraphQLSeverity,
    subject: (insight) => {
      if (!insight.subject_type || !insight.subject_id) return null;
      const id = insight.subject_id;
      switch (insight.subject_type) {
        case 'Lead':
          return { __typename: 'Lead', id };
        case 'Deal':
          return { __typename: 'Deal', id };
        case 'ContentPage':
          return { __typename: 'ContentPage', id };
        case 'Product':
          return { __typename: 'Product', id, channel: insight.subject_channel };
      }
    },
    agent: (insight, _args, ctx) => (insight.agent_id ? ctx.loaders.agent.load(insight.agent_id) : null),
    run: (insight, _args, ctx) => ctx.loaders.run.load(insight.run_id),
    createdAt: (insight) => insight.created_at,
    dismissedAt: (insight) => insight.dismissed_at,
    dismissedBy: accountField('dismissed_by'),
  },
  InsightSubject: {
    __resolveType: (subject) => subject.__typename!,
  },
  Lead: { insights: insightsAbout('Lead') },
  Deal: { insights: insightsAbout('Deal') },
  ContentPage: { insights: insightsAbout('ContentPage') },
  Product: { insights: insightsAbout('Product') },
};

type ResolverMap = Record<string, Record<string, unknown>>;

/** The subgraph's resolvers: its own, with the runs' (runs/resolvers.ts: runAgent, cancelAgentRun, AgentRun.events, ...) merged in per type. */
function merged(...maps: ResolverMap[]): Resolvers {
  const result: ResolverMap = {};
  for (const map of maps) {
    for (const [type, fields] of Object.entries(map)) result[type] = { ...result[type], ...fields };
  }
  return result as Resolvers;
}

export const resolvers: Resolvers = merged(ownResolvers as ResolverMap, runResolvers as ResolverMap);
