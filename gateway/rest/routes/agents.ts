import { isUuid } from '../../../subgraphs/kit/formats.ts';
import { RUN_EVENTS_OPERATION, RUN_NOT_FOUND, serveRunEvents } from '../agent-run-stream.ts';
import { lowerEnum, snakeCase, upperEnum } from '../case.ts';
import { badInput, detail } from '../errors.ts';
import { walkOperation, walkTo } from '../pagination.ts';
import { single } from '../query.ts';
import { named, type QueryParam, type RestCall, type RestRoute } from '../types.ts';

/*
 * `/api/brain/agents/*`: what the CrewAI service answered (a FastAPI app), served by the agents
 * subgraph. FastAPI's shapes: snake_case JSON, lists as fastapi-pagination's
 * `{"items", "total", "page", "size", "pages"}` (`?page=` from 1, `?size=` 1 to 100, default 50;
 * a page past the end has no items), errors `{"detail": "..."}`, bad input 422. Enum values are
 * lower case (`lead_scorer`, `running`). A run's live progress is a Server-Sent Events stream
 * (agent-run-stream.ts).
 */

const TAG = 'agents';
const DEFAULT_SIZE = 50;
const MAX_SIZE = 100;
const AGENT_NOT_FOUND = 'Agent not found';

const KINDS = ['lead_scorer', 'pipeline_analyst', 'content_auditor', 'sales_summary', 'writer'];
const SUBJECT_TYPES: Record<string, string> = { lead: 'Lead', deal: 'Deal', content_page: 'ContentPage', product: 'Product' };
const nullable = (schema: Record<string, unknown>) => ({ ...schema, type: [schema.type, 'null'] });
const uuid = { type: 'string', format: 'uuid' };
const dateTime = { type: 'string', format: 'date-time' };

// --- Shapes ----------------------------------------------------------------------------------------

const INSIGHT = named('AgentInsight', {
  type: 'object',
  properties: {
    id: uuid,
    kind: { type: 'string', description: 'What found it: `lead_score`, `stuck_deal`, `thin_page`, ...' },
    severity: { enum: ['info', 'warning', 'critical'] },
    title: { type: 'string' },
    body: { type: 'string', description: 'Markdown' },
    subject: {
      type: ['object', 'null'],
      description: 'What it is about (a product: in `channel`)',
      properties: { type: { enum: Object.keys(SUBJECT_TYPES) }, id: { type: 'string' }, channel: { type: ['string', 'null'] } },
      required: ['type', 'id', 'channel'],
    },
    evidence: { type: 'object', additionalProperties: true, description: 'The numbers behind it' },
    agent_id: nullable(uuid),
    run_id: nullable(uuid),
    created_at: dateTime,
    dismissed_at: nullable(dateTime),
    dismissed_by: nullable({ ...uuid, description: 'The account that dismissed it' }),
  },
  required: ['id', 'kind', 'severity', 'title', 'body', 'subject', 'evidence', 'agent_id', 'run_id', 'created_at', 'dismissed_at', 'dismissed_by'],
});

const RUN_SUMMARY = {
  type: ['object', 'null'],
  properties: { id: uuid, status: { enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] }, queued_at: dateTime, finished_at: nullable(dateTime) },
  required: ['id', 'status', 'queued_at', 'finished_at'],
};

const AGENT = named('Agent', {
  type: 'object',
  properties: {
    id: uuid,
    kind: { enum: KINDS },
    name: { type: 'string' },
    settings: { type: 'object', additionalProperties: true, description: "The kind's settings, defaults filled in" },
    schedule: { type: ['string', 'null'], description: 'Five-field cron (UTC); null: on demand only' },
    next_run_at: nullable(dateTime),
    enabled: { type: 'boolean' },
    owner_id: nullable({ ...uuid, description: 'The member whose rights scheduled runs act with' }),
    created_at: dateTime,
    updated_at: dateTime,
    last_run: RUN_SUMMARY,
  },
  required: ['id', 'kind', 'name', 'settings', 'schedule', 'next_run_at', 'enabled', 'owner_id', 'created_at', 'updated_at', 'last_run'],
});

const RUN = named('AgentRun', {
  type: 'object',
  properties: {
    id: uuid,
    agent_id: nullable(uuid),
    status: { enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] },
    trigger: { enum: ['manual', 'schedule'] },
    started_by: nullable({ ...uuid, description: 'The member the run acts as' }),
    attempts: { type: 'integer' },
    progress: { type: 'integer', minimum: 0, maximum: 100 },
    step: { type: ['string', 'null'] },
    queued_at: dateTime,
    started_at: nullable(dateTime),
    finished_at: nullable(dateTime),
    token_usage: {
      type: ['object', 'null'],
      properties: { input_tokens: { type: 'integer' }, output_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } },
      required: ['input_tokens', 'output_tokens', 'total_tokens'],
    },
    error: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] },
    events_url: { type: 'string', format: 'uri', description: 'Its live progress (Server-Sent Events)' },
    insights_url: { type: 'string', format: 'uri', description: 'Its insights' },
  },
  required: ['id', 'agent_id', 'status', 'trigger', 'started_by', 'attempts', 'progress', 'step', 'queued_at', 'started_at', 'finished_at', 'token_usage', 'error', 'events_url', 'insights_url'],
});

const page = (name: string, item: Record<string, unknown>) =>
  named(name, {
    type: 'object',
    properties: {
      items: { type: 'array', items: item },
      total: { type: 'integer' },
      page: { type: 'integer', minimum: 1 },
      size: { type: 'integer', minimum: 1 },
      pages: { type: 'integer' },
    },
    required: ['items', 'total', 'page', 'size', 'pages'],
  });

const INSIGHT_FIELDS = `id kind severity title body evidence createdAt dismissedAt
  subject { __typename ... on Lead { id } ... on Deal { id } ... on ContentPage { id } ... on Product { id channel } }
  agent { id } run { id } dismissedBy { id }`;
const AGENT_FIELDS = 'id kind name settings schedule nextRunAt enabled owner { id } createdAt updatedAt lastRun { id status queuedAt finishedAt }';
const RUN_FIELDS = `id status trigger attempts progress step queuedAt startedAt finishedAt
  agent { id } startedBy { id } tokenUsage { inputTokens outputTokens totalTokens } error { code message }`;
const PAYLOAD_ERRORS = 'errors { field message code }';

const insight = (node: any) => ({
  id: node.id,
  kind: node.kind,
  severity: lowerEnum(node.severity),
  title: node.title,
  body: node.body,
  subject: node.subject?.id
    ? { type: snakeCase(node.subject.__typename), id: node.subject.id, channel: node.subject.channel ?? null }
    : null,
  evidence: node.evidence ?? {},
  agent_id: node.agent?.id ?? null,
  run_id: node.run?.id ?? null,
  created_at: node.createdAt,
  dismissed_at: node.dismissedAt ?? null,
  dismissed_by: node.dismissedBy?.id ?? null,
});

const agent = (node: any) => ({
  id: node.id,
  kind: lowerEnum(node.kind),
  name: node.name,
  settings: node.settings ?? {},
  schedule: node.schedule ?? null,
  next_run_at: node.nextRunAt ?? null,
  enabled: node.enabled,
  owner_id: node.owner?.id ?? null,
  created_at: node.createdAt,
  updated_at: node.updatedAt,
  last_run: node.lastRun
    ? { id: node.lastRun.id, status: lowerEnum(node.lastRun.status), queued_at: node.lastRun.queuedAt, finished_at: node.lastRun.finishedAt ?? null }
    : null,
});

const run = (node: any, call: RestCall) => ({
  id: node.id,
  agent_id: node.agent?.id ?? null,
  status: lowerEnum(node.status),
  trigger: lowerEnum(node.trigger),
  started_by: node.startedBy?.id ?? null,
  attempts: node.attempts,
  progress: node.progress,
  step: node.step ?? null,
  queued_at: node.queuedAt,
  started_at: node.startedAt ?? null,
  finished_at: node.finishedAt ?? null,
  token_usage: node.tokenUsage
    ? { input_tokens: node.tokenUsage.inputTokens, output_tokens: node.tokenUsage.outputTokens, total_tokens: node.tokenUsage.totalTokens }
    : null,
  error: node.error ? { code: node.error.code, message: node.error.message } : null,
  events_url: call.url(`/agents/runs/${node.id}/events`),
  insights_url: call.url(`/agents/insights?run_id=${node.id}&dismissed=all`),
});

// --- fastapi-pagination over a Relay connection ----------------------------------------------------

const PAGE_PARAMS: Record<string, QueryParam> = {
  page: { schema: { type: 'integer', minimum: 1 }, description: 'Page number, from 1 (default 1).' },
  size: { schema: { type: 'integer', minimum: 1, maximum: MAX_SIZE }, description: `Page size (default ${DEFAULT_SIZE}, at most ${MAX_SIZE}).` },
};

interface Window {
  page: number;
  size: number;
  /** The page starts at or past the end of the list. */
  past: boolean;
  totalCount: number | null;
}

/** Each call's page window, from `variables` to `shape`. */
const windows = new WeakMap<RestCall, Window>();

/**
 * `?page=&size=` -> `first`/`after` over the route's connection at `root`: page 1 directly, a
 * later page after a cursor walk (pagination.ts `walkTo`: the same list, `first: 100` steps).
 */
async function pageVariables(call: RestCall, walk: string, root: string, variables: Record<string, unknown>) {
  const pageNumber = Number(single(call.query.page) ?? 1);
  const size = Number(single(call.query.size) ?? DEFAULT_SIZE);
  const walked = await walkTo((pageNumber - 1) * size, async (first, after) => {
    const connection = (await call.graphql(walk, { ...variables, first, after }))[root];
    if (!connection) throw detail(404, 'Not Found');
    return { endCursor: connection.pageInfo.endCursor ?? null, hasNextPage: connection.pageInfo.hasNextPage, totalCount: connection.totalCount ?? null };
  });
  windows.set(call, { page: pageNumber, size, past: walked.past, totalCount: walked.totalCount });
  return { ...variables, first: walked.past ? 0 : size, after: walked.past ? null : walked.after };
}

function pageOf(connection: any, call: RestCall, item: (node: any) => unknown) {
  const window = windows.get(call)!;
  const total = connection.totalCount ?? window.totalCount ?? 0;
  return {
    items: window.past ? [] : connection.edges.map((edge: any) => item(edge.node)),
    total,
    page: window.page,
    size: window.size,
    pages: Math.ceil(total / window.size),
  };
}

// --- Inputs ----------------------------------------------------------------------------------------

const pathId = (call: RestCall, notFound: string) => {
  const id = call.params.id!;
  if (!isUuid(id)) throw detail(404, notFound);
  return id;
};

/** Seconds until the next UTC midnight, when the daily run quota starts again. */
const untilTomorrow = () => {
  const now = new Date();
  return Math.max(1, Math.ceil((Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000));
};

/**
 * A run mutation's payload -> the run, or its refusal as FastAPI would answer it: 404 for the
 * path's object, 403, 409 for a disabled agent or a kind that needs a model, 429 (with
 * Retry-After: the next UTC day) for the daily quota, 422 for bad input.
 */
function runPayload(payload: { agentRun: any; errors: { field: string | null; message: string; code: string }[] } | null, call: RestCall, notFound: string) {
  const errors = payload?.errors ?? [];
  if (!payload || errors.some((e) => e.code === 'NOT_FOUND' && (!e.field || e.field === 'id'))) throw detail(404, notFound);
  const first = errors[0];
  if (first) {
    if (first.code === 'FORBIDDEN') throw detail(403, first.message);
    if (first.code === 'QUOTA_EXCEEDED') throw detail(429, first.message, { 'retry-after': String(untilTomorrow()) });
    if (first.code === 'DISABLED' || first.code === 'MODEL_REQUIRED') throw detail(409, first.message);
    throw badInput('fastapi', errors.map((e) => ({ field: e.field ? snakeCase(e.field.split('.').at(-1)!) : null, message: e.message })));
  }
  if (!payload.agentRun) throw detail(404, notFound);
  return run(payload.agentRun, call);
}

// --- The routes ------------------------------------------------------------------------------------

const INSIGHTS_OPERATION = `query RestAgentInsights($first: Int, $after: String, $filter: InsightListFilter) {
  insights(first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${INSIGHT_FIELDS} } } }
}`;
const INSIGHTS_WALK = walkOperation(INSIGHTS_OPERATION, 'insights');

const AGENTS_OPERATION = `query RestAgents($first: Int, $after: String, $filter: AgentListFilter) {
  agents(first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${AGENT_FIELDS} } } }
}`;
const AGENTS_WALK = walkOperation(AGENTS_OPERATION, 'agents');

const errors = (notFound: string) => ({ NOT_FOUND: { status: 404, detail: notFound } });

export const agentsRoutes: RestRoute[] = [
  {
    method: 'GET',
    path: '/agents/insights',
    id: 'agentsInsights',
    tag: TAG,
    dialect: 'fastapi',
    auth: 'required',
    summary: 'Insights of your tenant, newest first',
    description: 'Not dismissed ones unless `dismissed` says otherwise. Every member reads them.',
    operation: INSIGHTS_OPERATION,
    query: {
      kind: { schema: { type: 'string', maxLength: 100 }, description: 'What found them, e.g. `lead_score`, `stuck_deal`.' },
      severity: { schema: { enum: ['info', 'warning', 'critical'] }, description: 'Only this severity.' },
      subject_type: { schema: { enum: Object.keys(SUBJECT_TYPES) }, description: 'Only insights about this kind of entity (with `subject_id`: about that one).' },
      subject_id: { schema: { type: 'string', maxLength: 200 }, description: 'Only insights about this entity (needs `subject_type`).' },
      agent_id: { schema: uuid, description: 'Only those of this agent.' },
      run_id: { schema: uuid, description: 'Only those of this run.' },
      dismissed: { schema: { enum: ['false', 'true', 'all'] }, description: '`false` (default): not dismissed; `true`: dismissed ones; `all`: both.' },
      ...PAGE_PARAMS,
    },
    variables: (call) => {
      const q = (name: string) => single(call.query[name]);
      if (q('subject_id') && !q('subject_type')) throw badInput('fastapi', [{ field: 'subject_type', message: 'Required with subject_id', type: 'missing' }], 'query');
      const dismissed = q('dismissed') ?? 'false';
      const filter = {
        kind: q('kind') ?? null,
        severity: upperEnum(q('severity') ?? null),
        subjectType: q('subject_type') ? SUBJECT_TYPES[q('subject_type')!] : null,
        subjectId: q('subject_id') ?? null,
        agentId: q('agent_id') ?? null,
        runId: q('run_id') ?? null,
        dismissed: dismissed === 'all' ? null : dismissed === 'true',
      };
      return pageVariables(call, INSIGHTS_WALK, 'insights', { filter });
    },
    shape: (data, call) => pageOf(data.insights, call, insight),
    response: page('AgentInsightPage', INSIGHT),
  },
  {
    method: 'GET',
    path: '/agents/agents',
    id: 'agentsList',
    tag: TAG,
    dialect: 'fastapi',
    auth: 'required',
    summary: 'Agents of your tenant, newest first',
    operation: AGENTS_OPERATION,
    query: {
      kind: { schema: { enum: KINDS }, description: 'Only agents of this kind.' },
      enabled: { schema: { enum: ['true', 'false'] }, description: 'Only enabled (true) or disabled (false) agents.' },
      ...PAGE_PARAMS,
    },
    variables: (call) => {
      const enabled = single(call.query.enabled);
      const filter = { kind: upperEnum(single(call.query.kind) ?? null), enabled: enabled === undefined ? null : enabled === 'true' };
      return pageVariables(call, AGENTS_WALK, 'agents', { filter });
    },
    shape: (data, call) => pageOf(data.agents, call, agent),
    response: page('AgentPage', AGENT),
  },
  {
    method: 'POST',
    path: '/agents/agents/{id}/run',
    id: 'agentsRun',
    tag: TAG,
    dialect: 'fastapi',
    auth: 'required',
    summary: 'Run an agent now, with your rights',
    description:
      'Queues a run (202); follow it at `events_url` (Server-Sent Events) or `GET /agents/runs/{id}`. The body is optional: ' +
      "the writer's `brief` and `draft` (`page`: a draft page in the CMS, `email`: the insight's body). " +
      'A disabled agent or a kind that needs a language model where none is configured: 409; the daily run quota used up: 429.',
    operation: `mutation RestRunAgent($id: ID!, $input: AgentRunInput) { runAgent(id: $id, input: $input) { agentRun { ${RUN_FIELDS} } ${PAYLOAD_ERRORS} } }`,
    body: {
      optional: true,
      schema: {
        type: 'object',
        properties: {
          brief: { type: 'string', minLength: 1, maxLength: 4000, description: "The writer's brief" },
          draft: { enum: ['page', 'email'], description: "The writer's output" },
        },
        additionalProperties: false,
      },
    },
    variables: (call) => {
      const body = (call.body ?? {}) as { brief?: string; draft?: string };
      const input = body.brief === undefined && body.draft === undefined ? null : { brief: body.brief ?? null, draft: upperEnum(body.draft ?? null) };
      return { id: pathId(call, AGENT_NOT_FOUND), input };
    },
    shape: (data, call) => runPayload(data.runAgent, call, AGENT_NOT_FOUND),
    status: 202,
    response: RUN,
    errors: errors(AGENT_NOT_FOUND),
  },
  {
    method: 'GET',
    path: '/agents/runs/{id}',
    id: 'agentsRunGet',
    tag: TAG,
    dialect: 'fastapi',
    auth: 'required',
    summary: 'A run: status, progress, timings, token usage, error',
    operation: `query RestAgentRun($id: ID!) { agentRun(id: $id) { ${RUN_FIELDS} } }`,
    root: 'agentRun',
    variables: (call) => ({ id: pathId(call, RUN_NOT_FOUND) }),
    shape: (value, call) => run(value, call),
    response: RUN,
    errors: errors(RUN_NOT_FOUND),
  },
  {
    method: 'POST',
    path: '/agents/runs/{id}/cancel',
    id: 'agentsRunCancel',
    tag: TAG,
    dialect: 'fastapi',
    auth: 'required',
    summary: 'Cancel a run (who started it, admins and owners)',
    description: 'A queued run never starts; a running one stops at its next step. Cancelling a finished run changes nothing.',
    operation: `mutation RestCancelAgentRun($id: ID!) { cancelAgentRun(id: $id) { agentRun { ${RUN_FIELDS} } ${PAYLOAD_ERRORS} } }`,
    variables: (call) => ({ id: pathId(call, RUN_NOT_FOUND) }),
    shape: (data, call) => runPayload(data.cancelAgentRun, call, RUN_NOT_FOUND),
    response: RUN,
    errors: errors(RUN_NOT_FOUND),
  },
  {
    method: 'GET',
    path: '/agents/runs/{id}/events',
    id: 'agentsRunEvents',
    tag: TAG,
    dialect: 'fastapi',
    auth: 'required',
    summary: "A run's progress, live (Server-Sent Events)",
    description:
      'Every event of the run in order, `id: <seq>`, `event: status|progress|insight|log`, `data: {"seq", "at", "type", "status", "progress", "message", "data"}`: ' +
      'the stored ones after `Last-Event-ID` (or `last_event_id`; none: from the first), then live ones as they happen, until the run ends ' +
      '(the stream closes after its final `status` event). Comment lines keep it open while nothing happens. ' +
      'Reconnect with the last `id` seen to miss nothing. At most AGENTS_SSE_MAX_STREAMS_PER_TENANT open streams per tenant (429 beyond).',
    operation: RUN_EVENTS_OPERATION,
    query: { last_event_id: { schema: { type: 'integer', minimum: 0 }, description: 'Like the Last-Event-ID header (which wins): start after this seq.' } },
    contentType: 'text/event-stream',
    response: { type: 'string', description: 'Server-Sent Events' },
    serve: serveRunEvents,
    errors: errors(RUN_NOT_FOUND),
  },
];
