import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AgentModel, AnalystContext, InsightDraft } from '../subgraphs/agents/analysts/types.ts';
import { createGatewayClient } from '../subgraphs/agents/gateway-client.ts';
import { gatewayAccessSettings } from '../subgraphs/agents/gateway-settings.ts';
import { addNarrative, configuredModel, providerEmbedder, writerAgent } from '../subgraphs/agents/llm/index.ts';
import { llmSettings } from '../subgraphs/agents/llm/settings.ts';
import { bounded, READ_TOOL_NAMES, readTools, TOOL_RESULT_MAX_CHARS } from '../subgraphs/agents/llm/tools.ts';
import { RunError } from '../subgraphs/agents/run-error.ts';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { parseEnv } from '../subgraphs/kit/config.ts';
import { EMBEDDING_DIMENSIONS, FAKE_API_KEY, PROVIDER_SECRET, startFakeOpenAI, type FakeOpenAI } from './support/fake-openai.ts';
import { bearer, gql, login } from './support/graphql.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// The language model of the agents subgraph (agents/llm) against a local fake OpenAI-compatible
// server, over the real supergraph: the model bound to a run as the executor binds it (the
// member's gateway client, the tenant's transaction), then through real runs.

type Who = 'owner' | 'editor' | 'viewer' | 'globex';
const EMAILS: Record<Who, string> = { owner: 'owner@acme.example', editor: 'editor@acme.example', viewer: 'viewer@acme.example', globex: 'owner@globex.example' };
const [ACME, GLOBEX] = DEMO_TENANTS;
const tenantOf = (who: Who) => (who === 'globex' ? GLOBEX : ACME);
const CHAT_MODEL = 'fake-chat-1';
const EMBEDDING_MODEL = 'fake-embed-1';

let fake: FakeOpenAI;
let stack: RunningSupergraph;
const tokens = {} as Record<Who, string>;
let llmEnv: Record<string, string>;

// A reply a test scripted but never used (a call refused or cancelled before it was sent) must
// not answer the next test's call.
beforeEach(() => fake?.clear());

beforeAll(async () => {
  fake = await startFakeOpenAI();
  llmEnv = { LLM_BASE_URL: fake.url, LLM_API_KEY: FAKE_API_KEY, LLM_MODEL: CHAT_MODEL, EMBEDDING_MODEL };
  stack = await startSupergraph(llmEnv);
  for (const who of Object.keys(EMAILS) as Who[]) tokens[who] = await login(stack.graphql, EMAILS[who]);
});
afterAll(async () => {
  await stack?.close();
  await fake?.close();
});

/** The member's GraphQL at the gateway (checked: no errors). */
async function call<T = any>(who: Who, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await gql<T>(stack.graphql, query, variables, bearer(tokens[who]));
  expect(result.errors).toBeUndefined();
  return result.data as T;
}

const tokensToday = async (tenantId: string): Promise<number> =>
  stack.backends.db.withTenant({ tenantId, accountId: null }, async (tx) => {
    const { rows } = await tx.query(`SELECT tokens FROM agents.daily_usage WHERE tenant_id = $1 AND day = (now() AT TIME ZONE 'UTC')::date`, [tenantId]);
    return Number(rows[0]?.tokens ?? 0);
  });

/** The llm deps of these settings (the test's env plus `overrides`). */
function llmDeps(overrides: Record<string, string> = {}) {
  return { settings: parseEnv(llmSettings, { ...llmEnv, ...overrides }), log: stack.backends.deps('agents').log };
}

interface Bound {
  ctx: AnalystContext;
  model: AgentModel;
  progress: { percent: number; step: string }[];
  logs: { message: string; data?: Record<string, unknown> }[];
  abort: AbortController;
}

/** A run's context as the executor builds it: the member's gateway client and tenant transaction, and the model bound to it. */
function bind(who: Who, options: { llm?: Record<string, string>; input?: AnalystContext['input']; model?: boolean } = {}): Bound {
  const tenantId = tenantOf(who).id;
  const accountId = DEMO_ACCOUNTS.find((a) => a.email === EMAILS[who])!.id;
  const abort = new AbortController();
  const access = {
    config: stack.backends.config,
    env: stack.backends.env,
    settings: gatewayAccessSettings.parse({ AGENTS_GATEWAY_URL: stack.graphql }),
    log: stack.backends.deps('agents').log,
  };
  const gateway = createGatewayClient(access as never, { token: async () => tokens[who] }, abort.signal);
  const tx: AnalystContext['tx'] = (fn, txOptions) => stack.backends.db.withTenant({ tenantId, accountId }, fn, txOptions);
  const progress: Bound['progress'] = [];
  const logs: Bound['logs'] = [];
  const report = async (percent: number, step: string) => void progress.push({ percent, step });
  const runId = randomUUID();
  const model = configuredModel(llmDeps(options.llm), { tenantId, accountId, runId, gateway, tx, signal: abort.signal, progress: report })!;
  expect(model).not.toBeNull();
  const ctx: AnalystContext = {
    tenantId,
    accountId,
    runId,
    settings: {},
    input: options.input ?? {},
    gateway,
    tx,
    signal: abort.signal,
    progress: report,
    log: async (message, data) => void logs.push({ message, data }),
    model: options.model === false ? null : model,
    now: new Date(),
  };
  return { ctx, model, progress, logs, abort };
}

/** The RunError `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<RunError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RunError);
  return error as RunError;
}

/** No internals in a message a member sees: not the provider's words, the key, the endpoint. */
function expectNoInternals(message: string) {
  expect(message).not.toContain(PROVIDER_SECRET);
  expect(message).not.toContain(FAKE_API_KEY);
  expect(message).not.toContain('127.0.0.1');
  expect(message).not.toContain('exploded');
}

describe('configuredModel', () => {
  it('is null without LLM_BASE_URL; LLM_MODEL is required with it', async () => {
    const { parseSettings } = await import('../subgraphs/kit/deps.ts');
    const { agentsSettings } = await import('../subgraphs/agents/settings.ts');
    const none = { settings: parseEnv(llmSettings, {}), log: stack.backends.deps('agents').log };
    expect(none.settings).toMatchObject({ LLM_TIMEOUT_MS: 60_000, AGENTS_DAILY_TOKENS: 200_000, LLM_MAX_STEPS: 5 });
    const run = bind('viewer');
    expect(configuredModel(none, { ...run.ctx, progress: run.ctx.progress })).toBeNull();
    expect(providerEmbedder(none)).toBeNull();
    expect(() => parseSettings({ settings: agentsSettings }, { LLM_BASE_URL: fake.url })).toThrow(/LLM_MODEL: required when LLM_BASE_URL is set/);
  });

  it('streams the answer, reports its text as progress, and counts its tokens for the run and the tenant', async () => {
    const run = bind('viewer');
    const before = await tokensToday(ACME.id);
    const text = 'The pipeline holds **12 open deals** worth 48,000 USD; two have waited past their stage norm.';
    fake.script({ text, chunks: 8, usage: { input: 321, output: 45 } });
    const answer = await run.model.generate({ system: 'Be brief.', prompt: 'Summarise the pipeline.', progress: 42 });
    expect(answer).toEqual({ text, usage: { inputTokens: 321, outputTokens: 45 } });
    expect(run.model.usage()).toEqual({ inputTokens: 321, outputTokens: 45 });
    expect(await tokensToday(ACME.id)).toBe(before + 366);

    const request = fake.chats().at(-1)!;
    expect(request.body).toMatchObject({ model: CHAT_MODEL, stream: true, stream_options: { include_usage: true } });
    expect(request.body.tools).toBeUndefined();
    expect(request.authorization).toBe(`Bearer ${FAKE_API_KEY}`);
    // The first streamed text is reported at once, later text at most about once a second.
    expect(run.progress.length).toBeGreaterThanOrEqual(1);
    expect(run.progress[0]!.percent).toBe(42);
    expect(run.progress[0]!.step).toMatch(/^Writing: …The pipeline/);
  });

  it("calls only read tools, through the gateway as the run's member: nothing written, nothing of another tenant read", async () => {
    const run = bind('viewer');
    const { leads } = await call('owner', '{ leads(first: 5) { edges { node { id name score } } } }');
    const acmeLead = leads.edges[0].node;
    const globexLead = (await call('globex', '{ leads(first: 1) { edges { node { id name } } } }')).leads.edges[0].node;
    const before = fake.chats().length;
    fake.script(
      {
        toolCalls: [
          { name: 'read_leads', arguments: { first: 5 } },
          { name: 'read_leads', arguments: { id: globexLead.id } },
          { name: 'update_lead', arguments: { id: acmeLead.id, score: 99 } },
        ],
        usage: { input: 200, output: 30 },
      },
      { text: 'Five leads; none scored above 90.', usage: { input: 600, output: 12 } },
    );
    const answer = await run.model.generate({ prompt: 'How are my leads?', tools: true });
    expect(answer).toEqual({ text: 'Five leads; none scored above 90.', usage: { inputTokens: 800, outputTokens: 42 } });

    const [first, second] = fake.chats().slice(before);
    expect(fake.chats().length - before).toBe(2);
    // The model is offered the read tools and nothing else.
    expect(first!.body.tools.map((t: any) => t.function.name).sort()).toEqual([...READ_TOOL_NAMES].sort());
    // The tools' answers, as the model got them back.
    const results = second!.body.messages.filter((m: any) => m.role === 'tool');
    expect(results).toHaveLength(3);
    const [list, byId, write] = results.map((m: any) => m.content as string);
    // What the viewer sees at the gateway, exactly.
    const viewerLeads = (await call('viewer', '{ leads(first: 5) { edges { node { id } } } }')).leads.edges.map((e: any) => e.node.id);
    expect(JSON.parse(list!).leads.edges.map((e: any) => e.node.id)).toEqual(viewerLeads);
    // Another tenant's lead by its id: not found for acme's member.
    expect(JSON.parse(byId!)).toEqual({ found: false });
    expect(results.map((m: any) => m.content).join('\n')).not.toContain(globexLead.id);
    // A write tool does not exist: the call is an error the model is told about, and nothing changed.
    expect(write).toMatch(/update_lead/);
    expect((await call('owner', 'query($id: ID!) { lead(id: $id) { score } }', { id: acmeLead.id })).lead.score).toBe(acmeLead.score);
  });

  it('a provider error is MODEL_ERROR without internals; refused credentials are not retried', async () => {
    const run = bind('viewer');
    const before = fake.chats().length;
    fake.script({ status: 500 }, { status: 500 });
    const error = await failure(run.model.generate({ prompt: 'Hello' }));
    expect(error.code).toBe('MODEL_ERROR');
    expect(error.retryable).toBe(true);
    expectNoInternals(error.message);
    // One quick retry inside the call; the run's own retries do the rest.
    expect(fake.chats().length - before).toBe(2);

    fake.script({ status: 401 });
    const refused = await failure(run.model.generate({ prompt: 'Hello' }));
    expect(refused).toMatchObject({ code: 'MODEL_ERROR', retryable: false });
    expect(refused.message).toMatch(/LLM_API_KEY/);
    expectNoInternals(refused.message);
    expect(fake.chats().length - before).toBe(3);
  });

  it('a slow model is TIMEOUT after LLM_TIMEOUT_MS; a cancelled run is CANCELLED', async () => {
    const slow = bind('viewer', { llm: { LLM_TIMEOUT_MS: '1000' } });
    fake.script({ delayMs: 20_000 });
    const timedOut = await failure(slow.model.generate({ prompt: 'Hello' }));
    expect(timedOut).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(timedOut.message).toMatch(/1 s/);

    const cancelled = bind('viewer');
    fake.script({ delayMs: 20_000 });
    // Cancelled while the model is answering: once the request has reached it.
    const sent = fake.chats().length;
    const call = failure(cancelled.model.generate({ prompt: 'Hello' }));
    while (fake.chats().length === sent) await new Promise((resolve) => setTimeout(resolve, 20));
    cancelled.abort.abort();
    expect(await call).toMatchObject({ code: 'CANCELLED', retryable: false });

    // The executor's progress refuses once the attempt is no longer the run's: the call stops with its error.
    const stale = bind('viewer');
    stale.ctx.progress = async () => {
      throw new RunError('CANCELLED', 'The run was cancelled.', false);
    };
    const model = configuredModel(llmDeps(), { ...stale.ctx })!;
    fake.script({ text: 'A long answer, streamed in pieces.', chunks: 6 });
    expect(await failure(model.generate({ prompt: 'Hello', progress: 50 }))).toMatchObject({ code: 'CANCELLED' });
  });

  it("the tenant's daily budget: a tool loop stops when it is used up (BUDGET_EXCEEDED), and no later call is made", async () => {
    const spent = await tokensToday(GLOBEX.id);
    const run = bind('globex', { llm: { AGENTS_DAILY_TOKENS: String(spent + 100) } });
    const before = fake.chats().length;
    fake.script({ toolCalls: [{ name: 'read_pipeline', arguments: {} }], usage: { input: 90, output: 30 } }, { text: 'never asked for' });
    const error = await failure(run.model.generate({ prompt: 'Pipeline?', tools: true }));
    expect(error).toMatchObject({ code: 'BUDGET_EXCEEDED', retryable: false });
    expect(error.message).toMatch(/daily/);
    expect(fake.chats().length - before).toBe(1);
    expect(run.model.usage()).toEqual({ inputTokens: 90, outputTokens: 30 });
    expect(await tokensToday(GLOBEX.id)).toBe(spent + 120);

    // Used up: refused before any request, nothing more spent.
    expect(await failure(run.model.generate({ prompt: 'Again?' }))).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(fake.chats().length - before).toBe(1);
    expect(await tokensToday(GLOBEX.id)).toBe(spent + 120);
    fake.clear(); // the reply never asked for
  });
});

describe('tool answers', () => {
  it("each read tool's operations are valid at the gateway and read the member's tenant", async () => {
    const tools = readTools(bind('viewer').ctx.gateway);
    const exec = (name: string, input: Record<string, unknown>) => tools[name]!.execute!(input, { toolCallId: 'test', messages: [] }) as Promise<any>;
    const leads = await exec('read_leads', { first: 2, status: ['NEW', 'QUALIFIED'] });
    expect(leads.leads.edges).toHaveLength(2);
    expect((await exec('read_leads', { id: leads.leads.edges[0].node.id })).lead.activities).toBeDefined();
    const pipeline = await exec('read_pipeline', { stageKinds: ['OPEN'], first: 3 });
    expect(pipeline.pipeline.stages.length).toBeGreaterThan(0);
    expect(pipeline.deals.edges.every((e: any) => e.node.stage.kind === 'OPEN')).toBe(true);
    expect((await exec('read_pipeline', { id: pipeline.deals.edges[0].node.id })).found).toBe(true);
    const pages = await exec('read_pages', { first: 2 });
    expect(pages.contentPages.edges.length).toBeGreaterThan(0);
    expect((await exec('read_pages', { id: pages.contentPages.edges[0].node.id })).contentPage.body).toBeInstanceOf(Array);
    const products = await exec('read_products', { first: 3 });
    expect(products.products.edges.length).toBeGreaterThan(0);
    expect(products.products.edges.every((e: any) => e.node.channel === ACME.saleorChannel)).toBe(true);
  });

  it('are cut to a size bound: long strings clipped, lists halved until the answer fits, marked truncated', () => {
    const leads = { totalCount: 900, edges: Array.from({ length: 100 }, (_, i) => ({ node: { id: `lead-${i}`, notes: 'n'.repeat(2_000) } })) };
    const answer = bounded({ leads }) as any;
    expect(JSON.stringify(answer).length).toBeLessThanOrEqual(TOOL_RESULT_MAX_CHARS);
    expect(answer.truncated).toBe(true);
    expect(answer.leads.totalCount).toBe(900);
    expect(answer.leads.edges.length).toBeGreaterThan(5);
    expect(answer.leads.edges[0].node).toEqual({ id: 'lead-0', notes: `${'n'.repeat(500)}…` });
    expect(bounded({ small: [1, 2, 3] })).toEqual({ small: [1, 2, 3] });
  });
});

describe('narrative', () => {
  const findings: InsightDraft[] = [
    { kind: 'stuck_deal', severity: 'warning', title: 'Deal "Website rebuild" stuck in Proposal', body: '41 days; the norm is 12.', evidence: { days: 41, norm: 12 } },
    { kind: 'overdue_activity', severity: 'critical', title: '3 overdue activities', body: 'Oldest due 9 days ago.', evidence: { count: 3 } },
  ];

  it("adds one narrative insight summarising the analyst's insights", async () => {
    const run = bind('viewer');
    fake.script({ text: '## Overview\n\nTwo issues need attention: **3 overdue activities** and a deal stuck 41 days.', usage: { input: 150, output: 25 } });
    const { insights } = await addNarrative(run.ctx, 'PIPELINE_ANALYST', { insights: findings });
    expect(insights.slice(0, 2)).toEqual(findings);
    expect(insights).toHaveLength(3);
    expect(insights[2]).toMatchObject({ kind: 'narrative', severity: 'info', title: 'Summary of the pipeline analysis', body: expect.stringContaining('3 overdue activities') });
    expect(insights[2]!.evidence).toMatchObject({ insights: 2, bySeverity: { warning: 1, critical: 1 }, model: CHAT_MODEL });
    // The model saw the findings, most severe first.
    const prompt = fake.chats().at(-1)!.body.messages.at(-1).content as string;
    expect(prompt.indexOf('3 overdue activities')).toBeLessThan(prompt.indexOf('Website rebuild'));
  });

  it("keeps the analyst's insights when the budget is used up or the model fails, and says so in the run's log", async () => {
    const broke = bind('viewer', { llm: { AGENTS_DAILY_TOKENS: '0' } });
    const before = fake.chats().length;
    expect(await addNarrative(broke.ctx, 'PIPELINE_ANALYST', { insights: findings })).toEqual({ insights: findings });
    expect(fake.chats().length).toBe(before);
    expect(broke.logs).toEqual([{ message: expect.stringMatching(/budget/), data: { code: 'BUDGET_EXCEEDED' } }]);

    const failing = bind('viewer');
    fake.script({ status: 400 });
    expect(await addNarrative(failing.ctx, 'CONTENT_AUDITOR', { insights: findings })).toEqual({ insights: findings });
    expect(failing.logs[0]!.data).toEqual({ code: 'MODEL_ERROR' });
    expectNoInternals(failing.logs[0]!.message);

    // Nothing to summarise, or no model: no call at all.
    const idle = bind('viewer', { model: false });
    expect(await addNarrative(idle.ctx, 'SALES_SUMMARY', { insights: findings })).toEqual({ insights: findings });
    expect(await addNarrative(bind('viewer').ctx, 'SALES_SUMMARY', { insights: [] })).toEqual({ insights: [] });
    expect(fake.chats().length).toBe(before + 1);
  });
});

describe('writer', () => {
  const PAGE = '# Spring Sale on Garden Tools\n\nOur best **garden tools** are 20% off <this> spring.\n\n## Why now\n\n- Sharp blades\n- Durable handles\n';

  it('drafts a page: a DRAFT content page in the CMS, the insight about it', async () => {
    const run = bind('editor', { input: { brief: 'A page announcing our spring sale on garden tools.', draft: 'PAGE' } });
    fake.script({ text: PAGE, usage: { input: 400, output: 80 } });
    const { insights } = await writerAgent.run({ ...run.ctx, settings: writerAgent.settings.parse({}) });
    expect(insights).toHaveLength(1);
    const insight = insights[0]!;
    expect(insight).toMatchObject({ kind: 'draft_page', severity: 'info', title: 'Draft page: Spring Sale on Garden Tools', subject: { type: 'ContentPage' } });
    expect(insight.evidence).toMatchObject({ draft: 'PAGE', inputTokens: 400, outputTokens: 80 });

    // Every member sees the draft in the CMS; the public site does not.
    const { contentPage } = await call('viewer', 'query($id: ID!) { contentPage(id: $id) { status title seoDescription urlPath body { __typename ... on HeadingBlock { text level } ... on ParagraphBlock { html } } } }', {
      id: insight.subject!.id,
    });
    expect(contentPage).toMatchObject({ status: 'DRAFT', title: 'Spring Sale on Garden Tools', seoDescription: 'Our best garden tools are 20% off <this> spring.' });
    expect(contentPage.urlPath).toBe(`/spring-sale-on-garden-tools-${run.ctx.runId.slice(0, 8)}`);
    expect(contentPage.body).toEqual([
      { __typename: 'ParagraphBlock', html: '<p>Our best <strong>garden tools</strong> are 20% off &lt;this&gt; spring.</p>' },
      { __typename: 'HeadingBlock', text: 'Why now', level: 2 },
      { __typename: 'ParagraphBlock', html: '<ul><li>Sharp blades</li><li>Durable handles</li></ul>' },
    ]);
    // The model could look things up: it was offered the read tools.
    expect(fake.chats().at(-1)!.body.tools.map((t: any) => t.function.name).sort()).toEqual([...READ_TOOL_NAMES].sort());
  });

  it("drafts an email: the insight's body is the email", async () => {
    const run = bind('viewer', { input: { brief: 'Thank a customer for their order.', draft: 'EMAIL' } });
    const email = 'Subject: Thank you for your order\n\nHi Sam,\n\nThank you for ordering with us.\n\nBest,\nAcme';
    fake.script({ text: email });
    const { insights } = await writerAgent.run(run.ctx);
    expect(insights).toEqual([
      expect.objectContaining({ kind: 'draft_email', severity: 'info', title: 'Draft email: Thank you for your order', body: email }),
    ]);
  });

  it("a viewer's page draft is FORBIDDEN before any token is spent; no model is MODEL_REQUIRED; a brief is required", async () => {
    const before = fake.chats().length;
    const viewer = bind('viewer', { input: { brief: 'A page.', draft: 'PAGE' } });
    expect(await failure(writerAgent.run(viewer.ctx))).toMatchObject({ code: 'FORBIDDEN', retryable: false });

    const none = bind('editor', { input: { brief: 'A page.' }, model: false });
    const required = await failure(writerAgent.run(none.ctx));
    expect(required).toMatchObject({ code: 'MODEL_REQUIRED', retryable: false });
    expect(required.message).toMatch(/language model.*LLM_BASE_URL/);

    for (const brief of [undefined, '   ', 'x'.repeat(4_001)]) {
      expect(await failure(writerAgent.run(bind('editor', { input: { brief } }).ctx))).toMatchObject({ code: 'INVALID_SETTINGS', retryable: false });
    }
    expect(fake.chats().length).toBe(before);
  });
});

describe('providerEmbedder', () => {
  it("embeds with EMBEDDING_MODEL at the provider, with the model's real dimension", async () => {
    const embedder = (await providerEmbedder(llmDeps()))!;
    expect(embedder).toMatchObject({ model: EMBEDDING_MODEL, dimensions: EMBEDDING_DIMENSIONS });
    const before = fake.requests.filter((r) => r.path === '/v1/embeddings').length;
    const [a, empty, b] = await embedder.embed(['spring sale on garden tools', '  ', 'garden tools spring sale']);
    expect([a!.length, empty!.length, b!.length]).toEqual([EMBEDDING_DIMENSIONS, EMBEDDING_DIMENSIONS, EMBEDDING_DIMENSIONS]);
    expect(empty!.every((x) => x === 0)).toBe(true);
    const calls = fake.requests.filter((r) => r.path === '/v1/embeddings').slice(before);
    // Blank texts are not sent (providers refuse them).
    expect(calls.map((r) => r.body)).toEqual([expect.objectContaining({ model: EMBEDDING_MODEL, input: ['spring sale on garden tools', 'garden tools spring sale'] })]);
    expect(embedder.embed).toBeTypeOf('function');
    // A second call for the same settings reuses the probe.
    expect(await providerEmbedder(llmDeps())).toBe(embedder);
  });
});

describe('through real runs (the run executor, the gateway, the job system)', () => {
  const CREATE = `mutation($input: AgentInput!) { createAgent(input: $input) { agent { id } errors { field code message } } }`;
  const RUN = `mutation($id: ID!, $input: AgentRunInput) { runAgent(id: $id, input: $input) { agentRun { id } errors { field code message } } }`;
  const RUN_STATE = `query($id: ID!) { agentRun(id: $id) {
    status attempts tokenUsage { inputTokens outputTokens totalTokens } error { code message }
    insights { id kind severity title subject { __typename ... on ContentPage { id title status } } }
  } }`;

  async function agent(who: Who, kind: string, name: string): Promise<string> {
    const { createAgent } = await call(who, CREATE, { input: { kind, name } });
    expect(createAgent.errors).toEqual([]);
    return createAgent.agent.id;
  }

  /** Queues a run of the agent and waits for it to finish (at most ~30 s). */
  async function runToEnd(who: Who, agentId: string, input?: Record<string, unknown>) {
    const { runAgent } = await call(who, RUN, { id: agentId, input });
    expect(runAgent.errors).toEqual([]);
    const id = runAgent.agentRun.id;
    for (let i = 0; i < 150; i++) {
      const { agentRun } = await call(who, RUN_STATE, { id });
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(agentRun.status)) return { id, ...agentRun };
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`run ${id} did not finish`);
  }

  const stored = (tenantId: string, runId: string) =>
    stack.backends.db.withTenant({ tenantId, accountId: null }, async (tx) =>
      (await tx.query(`SELECT kind, embedding_model, embedding_dimensions FROM agents.insights WHERE run_id = $1 ORDER BY created_at, id`, [runId])).rows,
    );

  it("a writer run drafts the page, stores its token usage, and its insight's embedding is the provider's", async () => {
    const id = await agent('editor', 'WRITER', 'LLM test writer');
    fake.script({ text: '# Autumn Workshop\n\nJoin our autumn workshop on pruning.\n', usage: { input: 500, output: 100 } });
    const run = await runToEnd('editor', id, { brief: 'A page for our autumn pruning workshop.', draft: 'PAGE' });
    expect(run).toMatchObject({ status: 'SUCCEEDED', attempts: 1, error: null, tokenUsage: { inputTokens: 500, outputTokens: 100, totalTokens: 600 } });
    expect(run.insights).toEqual([
      expect.objectContaining({ kind: 'draft_page', title: 'Draft page: Autumn Workshop', subject: expect.objectContaining({ __typename: 'ContentPage', title: 'Autumn Workshop', status: 'DRAFT' }) }),
    ]);
    expect(await stored(ACME.id, run.id)).toEqual([{ kind: 'draft_page', embedding_model: EMBEDDING_MODEL, embedding_dimensions: EMBEDDING_DIMENSIONS }]);
  });

  it('an analyst run with a model gets a narrative of its insights', async () => {
    const id = await agent('editor', 'PIPELINE_ANALYST', 'LLM test pipeline');
    fake.script({ text: 'The pipeline needs attention: **overdue activities** first.', usage: { input: 700, output: 40 } });
    const run = await runToEnd('viewer', id);
    expect(run).toMatchObject({ status: 'SUCCEEDED', tokenUsage: { inputTokens: 700, outputTokens: 40, totalTokens: 740 } });
    const kinds = run.insights.map((i: any) => i.kind);
    expect(kinds.at(-1)).toBe('narrative');
    expect(kinds.filter((k: string) => k === 'narrative')).toHaveLength(1);
    expect(kinds.length).toBeGreaterThan(1);
  });

  it("a run over the tenant's daily budget fails BUDGET_EXCEEDED at once, with no model call", async () => {
    const id = await agent('globex', 'WRITER', 'LLM test writer');
    const budget = 200_000; // AGENTS_DAILY_TOKENS' default, which this stack uses
    const setTokens = (tokens: number) =>
      stack.backends.db.withTenant({ tenantId: GLOBEX.id, accountId: null }, (tx) =>
        tx.query(
          `INSERT INTO agents.daily_usage (tenant_id, day, runs, tokens) VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 0, $2)
           ON CONFLICT (tenant_id, day) DO UPDATE SET tokens = EXCLUDED.tokens`,
          [GLOBEX.id, tokens],
        ),
      );
    const spent = await tokensToday(GLOBEX.id);
    await setTokens(budget);
    const before = fake.chats().length;
    try {
      const run = await runToEnd('globex', id, { brief: 'Thank our customers.', draft: 'EMAIL' });
      expect(run).toMatchObject({ status: 'FAILED', attempts: 1, error: { code: 'BUDGET_EXCEEDED' }, insights: [] });
      expect(run.error.message).toMatch(/200,000 tokens/);
      expect(fake.chats().length).toBe(before);
      expect(await tokensToday(GLOBEX.id)).toBe(budget);
    } finally {
      await setTokens(spent);
    }
  });
});
