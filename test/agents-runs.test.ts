import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createGateway, type Gateway } from '../gateway/server.ts';
import type { AnalystContext, AnalystResult } from '../subgraphs/agents/analysts/types.ts';
import { RunError } from '../subgraphs/agents/run-error.ts';
import { replaceKindForTests } from '../subgraphs/agents/runs/kinds.ts';
import { sendTick } from '../subgraphs/agents/runs/schedule.ts';
import { workRunQueues } from '../subgraphs/agents/runs/worker.ts';
import { agentsSettings, type AgentsSettings } from '../subgraphs/agents/settings.ts';
import { APP_ROLE } from '../subgraphs/kit/db/roles.ts';
import type { SubgraphDeps } from '../subgraphs/kit/deps.ts';
import { cancelJob, JobSystem } from '../subgraphs/kit/jobs/index.ts';
import { scheduleQueue } from '../subgraphs/agents/runs/queue.ts';
import { createLogger } from '../subgraphs/kit/logger.ts';
import { loadSubgraphs } from '../subgraphs/kit/registry.ts';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { bearer, gql } from './support/graphql.ts';
import { freePorts } from './support/ports.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

// Durable agent runs (subgraphs/agents/runs/) through the gateway over HTTP, on real PostgreSQL
// and Redis: a run's life and events, a crash mid-run, cancellation, retries with backoff,
// per-tenant concurrency, schedules across a restart, the daily quota and tenant isolation.
// The agents subgraph's worker runs on job systems of the test's own (the same code as
// startRunWorker, with pg-boss's maintenance every second), so a test can crash one and start
// another. A test kind stands in for SALES_SUMMARY (replaceKindForTests): what it does is set
// by each test.

const ACME = DEMO_TENANTS.find((t) => t.slug === 'acme')!.id;
const ACME_OWNER = DEMO_ACCOUNTS.find((a) => a.tenant === 'acme' && a.role === 'owner')!.id;
const DAILY_RUNS = 14;
const ENV = {
  AGENTS_RUN_TIMEOUT_SECONDS: '4',
  AGENTS_RUN_RETRY_DELAY_SECONDS: '1',
  AGENTS_RUN_ATTEMPTS: '3',
  AGENTS_DAILY_RUNS: String(DAILY_RUNS),
};

let stack: RunningSubgraphs;
let gateway: Gateway;
let url: string;
let deps: SubgraphDeps<AgentsSettings>;
let jobs: JobSystem;
const systems: JobSystem[] = [];

/** A job system as an agents process has one, with maintenance every second (a crashed run's expiry is found soon). */
async function startWorker(): Promise<JobSystem> {
  const system = new JobSystem({
    database: deps.db,
    ...(deps.config.DATABASE_URL ? { url: deps.config.DATABASE_URL } : { role: APP_ROLE }),
    log: createLogger(deps.config, 'agents-jobs'),
    maintenanceIntervalSeconds: 1,
    cancelCheckMs: 200,
  });
  systems.push(system);
  await workRunQueues(system, deps);
  return system;
}

/** What the test kind does in a run: set per test. */
let behaviour: (ctx: AnalystContext) => Promise<AnalystResult> = async () => ({ insights: [] });

const insight = (title: string): AnalystResult['insights'][number] => ({ kind: 'test_finding', severity: 'info', title, body: `**${title}**`, evidence: { n: 1 } });

const waitForAbort = (signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });

/**
 * auth and agents as `npm start` runs them (the test kind reads nothing elsewhere), except that
 * the agents' worker is the test's (one started here); the gateway serves the whole supergraph,
 * the other subgraphs unreachable. On PostgreSQL, or embedded PGlite.
 */
async function startStack(embedded: boolean) {
  const all = await loadSubgraphs();
  const definitions = all.filter((d) => d.name === 'auth' || d.name === 'agents').map((d) => (d.name === 'agents' ? { ...d, background: undefined } : d));
  const [gatewayPort, unreachable] = await freePorts(2);
  stack = await startSubgraphs(definitions, { AGENTS_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}/graphql`, ...ENV }, { embedded });
  const { backends } = stack;
  const subgraphUrls = Object.fromEntries(all.map((d) => [d.name, stack.urls[d.name] ?? `http://127.0.0.1:${unreachable}/graphql`]));
  gateway = await createGateway({ config: backends.config, subgraphUrls, redis: backends.deps('gateway').redis, verifyToken: backends.verifyToken });
  url = `${await gateway.listen(gatewayPort, '127.0.0.1')}/graphql`;
  deps = { ...backends.deps('agents'), settings: agentsSettings.parse(backends.env) };
  jobs = await startWorker();
}

async function stopStack() {
  for (const system of systems.splice(0)) await system.stop({ timeoutMs: 1_000 });
  await gateway?.close();
  await stack?.close();
}

beforeAll(() =>
  replaceKindForTests('SALES_SUMMARY', {
    kind: 'SALES_SUMMARY',
    description: 'test kind',
    needsModel: false,
    settings: z.record(z.string(), z.unknown()),
    run: (ctx) => behaviour(ctx),
  }),
);
afterAll(() => replaceKindForTests('SALES_SUMMARY', null));

const as = async (email: string) => bearer(await stack.token(email));

async function call(email: string, query: string, variables: Record<string, unknown> = {}) {
  const result = await gql(url, query, variables, await as(email));
  return result;
}

const AGENTS = `{ agents(first: 20) { edges { node { id kind name enabled schedule nextRunAt } } } }`;
const RUN = `mutation($id: ID!) { runAgent(id: $id) { agentRun { id status trigger attempts } errors { field code message } } }`;
const CANCEL = `mutation($id: ID!) { cancelAgentRun(id: $id) { agentRun { id status error { code message } } errors { field code message } } }`;
const STATE = `query($id: ID!) { agentRun(id: $id) {
  id status trigger attempts progress step startedBy { id } startedAt finishedAt
  error { code message } tokenUsage { totalTokens }
  insights { id title }
  events(first: 50) { seq type status progress message data }
} }`;

async function agentOf(email: string, kind: string): Promise<string> {
  const result = await call(email, AGENTS);
  const agent = result.data!.agents.edges.map((e: any) => e.node).find((a: any) => a.kind === kind);
  if (!agent) throw new Error(`no ${kind} agent: ${JSON.stringify(result)}`);
  return agent.id;
}

async function runAgent(email: string, agentId: string): Promise<string> {
  const result = await call(email, RUN, { id: agentId });
  expect(result.errors).toBeUndefined();
  expect(result.data!.runAgent.errors).toEqual([]);
  expect(result.data!.runAgent.agentRun).toMatchObject({ status: 'QUEUED', trigger: 'MANUAL', attempts: 0 });
  return result.data!.runAgent.agentRun.id;
}

async function state(runId: string, email = 'editor@acme.example') {
  const result = await call(email, STATE, { id: runId });
  expect(result.errors).toBeUndefined();
  return result.data!.agentRun;
}

async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const until = (runId: string, statuses: string[]) =>
  waitFor(`run ${runId} to be ${statuses.join('/')}`, async () => {
    const run = await state(runId);
    return statuses.includes(run.status) ? run : null;
  });

const statusesOf = (run: { events: { type: string; status: string | null }[] }) => run.events.filter((e) => e.type === 'STATUS').map((e) => e.status);

/** A promise with its resolve, for a test kind to wait on. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('agent runs on PostgreSQL', () => {
  let salesAgent: string;
  beforeAll(async () => {
    await startStack(false);
    salesAgent = await agentOf('editor@acme.example', 'SALES_SUMMARY');
  }, 60_000);
  afterAll(stopStack);

  it('a run goes QUEUED -> RUNNING -> SUCCEEDED with its events in order, its insights written and embedded', async () => {
    behaviour = async (ctx) => {
      await ctx.progress(30, 'Reading');
      await ctx.log('Half way', { rows: 2 });
      await ctx.progress(80, 'Writing');
      return { insights: [insight('First finding'), insight('Second finding')] };
    };
    const runId = await runAgent('editor@acme.example', salesAgent);
    const run = await until(runId, ['SUCCEEDED', 'FAILED']);
    expect(run).toMatchObject({ status: 'SUCCEEDED', trigger: 'MANUAL', attempts: 1, progress: 100, error: null, tokenUsage: null });
    expect(run.startedBy.id).toBe(DEMO_ACCOUNTS.find((a) => a.email === 'editor@acme.example')!.id);
    expect(run.insights.map((i: any) => i.title)).toEqual(['First finding', 'Second finding']);
    expect(run.events.map((e: any) => e.seq)).toEqual(run.events.map((_: unknown, i: number) => i + 1));
    expect(run.events.map((e: any) => [e.type, e.status ?? e.progress ?? e.message])).toEqual([
      ['STATUS', 'QUEUED'],
      ['STATUS', 'RUNNING'],
      ['PROGRESS', 30],
      ['LOG', 'Half way'],
      ['PROGRESS', 80],
      ['INSIGHT', 'First finding'],
      ['INSIGHT', 'Second finding'],
      ['STATUS', 'SUCCEEDED'],
    ]);
    expect(run.events[5].data.insightId).toBe(run.insights[0].id);
    // `after` pages the same events.
    const after = await call('viewer@acme.example', `query($id: ID!) { agentRun(id: $id) { events(after: 6, first: 1) { seq type } } }`, { id: runId });
    expect(after.data!.agentRun.events).toEqual([{ seq: 7, type: 'INSIGHT' }]);
    // Stored with the local embedder's vectors.
    const embedded = await stack.backends.db.withTenant({ tenantId: ACME, accountId: null }, (tx) =>
      tx.query(`SELECT embedding_model, embedding_dimensions FROM agents.insights WHERE run_id = $1`, [runId]),
    );
    expect(embedded.rows).toEqual([
      { embedding_model: 'local-hash-v1', embedding_dimensions: 384 },
      { embedding_model: 'local-hash-v1', embedding_dimensions: 384 },
    ]);
  });

  it('publishes each event on Redis after it is stored, in order', async () => {
    const subscriber = stack.backends.deps('agents').redis.duplicate();
    const messages: any[] = [];
    try {
      if (subscriber.status !== 'ready') await new Promise((resolve) => subscriber.once('ready', resolve));
      behaviour = async (ctx) => {
        await ctx.progress(50, 'Half');
        return { insights: [insight('Published')] };
      };
      // The run's id is known once queued: subscribe to every run's channel by pattern.
      await subscriber.psubscribe(`${deps.config.REDIS_PREFIX}agents:run-events:*`);
      subscriber.on('pmessage', (_pattern: string, _channel: string, message: string) => messages.push(JSON.parse(message)));
      const runId = await runAgent('editor@acme.example', salesAgent);
      await until(runId, ['SUCCEEDED']);
      await waitFor('the last event published', async () => messages.some((m) => m.runId === runId && m.event.status === 'SUCCEEDED'));
      const mine = messages.filter((m) => m.runId === runId);
      expect(mine.every((m) => m.tenantId === ACME)).toBe(true);
      expect(mine.map((m) => m.event.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(mine.map((m) => m.event.type)).toEqual(['STATUS', 'STATUS', 'PROGRESS', 'INSIGHT', 'STATUS']);
      expect(Object.keys(mine[2].event).sort()).toEqual(['at', 'data', 'message', 'progress', 'seq', 'status', 'type']);
    } finally {
      subscriber.disconnect();
    }
  });

  it('a run interrupted by its process dying is retried by another process after its expiry, and completes once', async () => {
    const held = gate();
    const attempts: number[] = [];
    behaviour = async (ctx) => {
      attempts.push(attempts.length + 1);
      await ctx.progress(10, 'Started');
      // The first attempt hangs until its process dies; the retry goes through.
      if (attempts.length === 1) await Promise.race([held.opened, waitForAbort(ctx.signal)]);
      return { insights: [insight('Survived')] };
    };
    const runId = await runAgent('editor@acme.example', salesAgent);
    await waitFor('the first attempt to run', async () => (await state(runId)).progress === 10);
    // The process dies: nothing it does from now on is recorded; its job stays active until it expires.
    await jobs.stop({ abandon: true });
    expect((await state(runId)).status).toBe('RUNNING');
    jobs = await startWorker();
    const run = await until(runId, ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.attempts).toBe(2);
    expect(attempts).toEqual([1, 2]);
    expect(run.insights.map((i: any) => i.title)).toEqual(['Survived']);
    expect(statusesOf(run)).toEqual(['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(run.events.some((e: any) => e.type === 'LOG' && /Attempt 1 stopped without finishing/.test(e.message))).toBe(true);
    held.open();
  }, 60_000);

  it('a cancelled run stops at its next step: CANCELLED, nothing written; only its starter or an admin may cancel', async () => {
    let stopped: unknown = null;
    behaviour = async (ctx) => {
      try {
        for (let step = 1; step <= 200; step++) {
          await ctx.progress(step / 2, `Step ${step}`);
          await sleep(50, undefined, { signal: ctx.signal });
        }
        return { insights: [insight('Should never be written')] };
      } catch (error) {
        stopped = error;
        throw error;
      }
    };
    const runId = await runAgent('editor@acme.example', salesAgent);
    await waitFor('the run to make progress', async () => (await state(runId)).progress > 0);
    const viewer = await call('viewer@acme.example', CANCEL, { id: runId });
    expect(viewer.data!.cancelAgentRun).toEqual({ agentRun: null, errors: [expect.objectContaining({ field: 'id', code: 'FORBIDDEN' })] });
    const cancelled = await call('editor@acme.example', CANCEL, { id: runId });
    expect(cancelled.data!.cancelAgentRun).toEqual({
      agentRun: { id: runId, status: 'CANCELLED', error: { code: 'CANCELLED', message: 'The run was cancelled.' } },
      errors: [],
    });
    await waitFor('the kind to stop', async () => stopped !== null);
    const run = await state(runId);
    expect(run.status).toBe('CANCELLED');
    expect(run.insights).toEqual([]);
    expect(run.events.filter((e: any) => e.type === 'INSIGHT')).toEqual([]);
    expect(run.events.at(-1)).toMatchObject({ type: 'STATUS', status: 'CANCELLED' });
    // Cancelling a finished run changes nothing.
    const again = await call('owner@acme.example', CANCEL, { id: runId });
    expect(again.data!.cancelAgentRun).toMatchObject({ agentRun: { status: 'CANCELLED' }, errors: [] });
  });

  it('a failing run is retried with backoff, then FAILED with the last error', async () => {
    const started: number[] = [];
    const failedAt: number[] = [];
    behaviour = async () => {
      started.push(Date.now());
      await sleep(10);
      failedAt.push(Date.now());
      throw new RunError('UPSTREAM_ERROR', 'The CRM could not be reached.');
    };
    const runId = await runAgent('editor@acme.example', salesAgent);
    const run = await until(runId, ['FAILED', 'SUCCEEDED']);
    expect(run).toMatchObject({ status: 'FAILED', attempts: 3, error: { code: 'UPSTREAM_ERROR', message: 'The CRM could not be reached.' } });
    expect(started).toHaveLength(3);
    // pg-boss's backoff: the n-th retry waits at least retryDelay * 2^(n-1) (1 s, then 2 s).
    expect(started[1]! - failedAt[0]!).toBeGreaterThanOrEqual(1_000);
    expect(started[2]! - failedAt[1]!).toBeGreaterThanOrEqual(2_000);
    expect(statusesOf(run)).toEqual(['QUEUED', 'RUNNING', 'QUEUED', 'RUNNING', 'QUEUED', 'RUNNING', 'FAILED']);
    expect(run.events.filter((e: any) => e.type === 'LOG').map((e: any) => e.message)).toEqual([
      'Attempt 1 failed: The CRM could not be reached. Trying again.',
      'Attempt 2 failed: The CRM could not be reached. Trying again.',
    ]);
    expect(run.insights).toEqual([]);
  }, 60_000);

  it('an error that is not retryable fails the run at once; an unexpected one is retried and shown without internals', async () => {
    let calls = 0;
    behaviour = async () => {
      calls++;
      if (calls === 1) throw new Error('connect ECONNREFUSED 10.1.2.3:5432 SELECT secret FROM crm.leads');
      throw new RunError('FORBIDDEN', 'The member may not update leads.', false);
    };
    const runId = await runAgent('editor@acme.example', salesAgent);
    const run = await until(runId, ['FAILED', 'SUCCEEDED']);
    expect(run).toMatchObject({ status: 'FAILED', attempts: 2, error: { code: 'FORBIDDEN', message: 'The member may not update leads.' } });
    expect(calls).toBe(2);
    expect(run.events.find((e: any) => e.type === 'LOG').message).toBe('Attempt 1 failed: The run failed unexpectedly. Trying again.');
    expect(JSON.stringify(run)).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|secret/);
  });

  it('runs of one tenant wait for a free slot (AGENTS_TENANT_CONCURRENCY 1) while another tenant runs beside them', async () => {
    let inAcme = 0;
    let maxInAcme = 0;
    let acmeRuns = 0;
    const globexRan = gate();
    const secondWaits = gate();
    behaviour = async (ctx) => {
      if (ctx.tenantId !== ACME) {
        globexRan.open();
        return { insights: [] };
      }
      maxInAcme = Math.max(maxInAcme, ++inAcme);
      try {
        // The first acme run holds its slot until globex's has run: in the process's other slot
        // (AGENTS_RUN_CONCURRENCY 2), so the tenant limit is not a process-wide one; and until the
        // second acme run has been seen waiting for it (else a fast host could finish the first
        // before the second's job is even fetched, and nothing would have waited).
        if (++acmeRuns === 1) await Promise.race([Promise.all([globexRan.opened, secondWaits.opened]), waitForAbort(ctx.signal)]);
        for (let step = 1; step <= 3; step++) await ctx.progress(step * 30, `Step ${step}`);
        return { insights: [] };
      } finally {
        inAcme--;
      }
    };
    const globexAgent = await agentOf('owner@globex.example', 'SALES_SUMMARY');
    const first = await runAgent('editor@acme.example', salesAgent);
    await waitFor('the first run to start', async () => (await state(first)).status === 'RUNNING');
    const globex = await runAgent('owner@globex.example', globexAgent);
    const second = await runAgent('editor@acme.example', salesAgent);
    await waitFor('the second run to wait for its slot', async () =>
      (await state(second)).events.some((e: any) => e.type === 'LOG' && /Waiting for the tenant's other runs/.test(e.message)),
    );
    secondWaits.open();
    const runs = [await until(first, ['SUCCEEDED', 'FAILED']), await until(second, ['SUCCEEDED', 'FAILED'])];
    expect(runs.map((r) => [r.status, r.attempts])).toEqual([
      ['SUCCEEDED', 1],
      ['SUCCEEDED', 1],
    ]);
    expect(maxInAcme).toBe(1);
    expect(runs[1].events.some((e: any) => e.type === 'LOG' && /Waiting for the tenant's other runs/.test(e.message))).toBe(true);
    expect(new Date(runs[1].startedAt).getTime()).toBeGreaterThanOrEqual(new Date(runs[0].finishedAt).getTime());
    expect((await state(globex, 'owner@globex.example')).status).toBe('SUCCEEDED');
  }, 60_000);

  it('a schedule creates a SCHEDULE run as the agent owner, sends its next tick, and survives a restart', async () => {
    behaviour = async () => ({ insights: [insight('Scheduled finding')] });
    const SCHEDULED = `mutation($id: ID!, $input: AgentUpdateInput!) { updateAgent(id: $id, input: $input) { agent { id schedule enabled nextRunAt } errors { field code } } }`;
    const updated = await call('editor@acme.example', SCHEDULED, { id: salesAgent, input: { schedule: '0 * * * *' } });
    expect(updated.data!.updateAgent.errors).toEqual([]);
    const next = new Date(updated.data!.updateAgent.agent.nextRunAt);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getUTCMinutes()).toBe(0);
    const runsOfAgent = async () =>
      (await call('editor@acme.example', `query($id: ID!) { agentRuns(first: 100, filter: { agentId: $id }) { edges { node { id trigger status startedBy { id } } } } }`, { id: salesAgent }))
        .data!.agentRuns.edges.map((e: any) => e.node);
    const asAcme = <T>(fn: Parameters<typeof deps.db.withTenant<T>>[1]) => deps.db.withTenant({ tenantId: ACME, accountId: null }, fn);
    const agentRow = () => asAcme(async (tx) => (await tx.query(`SELECT schedule_job_id, next_run_at FROM agents.agents WHERE id = $1`, [salesAgent])).rows[0]);

    // Fire the tick now (a test's shortcut for waiting for the hour): its job replaced by one due now.
    const before = await agentRow();
    await asAcme(async (tx) => {
      await cancelJob(tx, scheduleQueue, before.schedule_job_id);
      await sendTick(tx, salesAgent, new Date());
    });
    const scheduled = await waitFor('a scheduled run', async () => (await runsOfAgent()).find((r: any) => r.trigger === 'SCHEDULE'));
    expect(scheduled.startedBy.id).toBe(ACME_OWNER);
    expect((await until(scheduled.id, ['SUCCEEDED', 'FAILED'])).status).toBe('SUCCEEDED');
    const after = await waitFor('the next tick', async () => {
      const row = await agentRow();
      return row.next_run_at.getTime() > Date.now() ? row : null;
    });
    expect(after.schedule_job_id).not.toBe(before.schedule_job_id);

    // The process dies; the tick's job is lost and its time passed while nothing ran. The next
    // process gives the agent its tick at start, and the missed occurrence runs at once.
    await jobs.stop({ abandon: true });
    await stack.backends.deps('agents').asOwner((tx) =>
      tx.query(`UPDATE agents.agents SET schedule_job_id = NULL, next_run_at = now() - interval '1 minute' WHERE id = $1`, [salesAgent]),
    );
    jobs = await startWorker();
    const second = await waitFor('a second scheduled run', async () => {
      const runs = (await runsOfAgent()).filter((r: any) => r.trigger === 'SCHEDULE');
      return runs.length === 2 ? runs[0] : null;
    });
    expect((await until(second.id, ['SUCCEEDED', 'FAILED'])).status).toBe('SUCCEEDED');

    // Disabled: no tick pending.
    const disabled = await call('editor@acme.example', SCHEDULED, { id: salesAgent, input: { enabled: false } });
    expect(disabled.data!.updateAgent.agent).toMatchObject({ enabled: false, nextRunAt: null });
    expect((await agentRow()).schedule_job_id).toBeNull();
    const enabled = await call('editor@acme.example', SCHEDULED, { id: salesAgent, input: { enabled: true, clearSchedule: true } });
    expect(enabled.data!.updateAgent.agent).toMatchObject({ enabled: true, schedule: null, nextRunAt: null });
  }, 60_000);

  it('globex never sees acme’s runs or their events', async () => {
    behaviour = async () => ({ insights: [insight('Acme only')] });
    const runId = await runAgent('editor@acme.example', salesAgent);
    await until(runId, ['SUCCEEDED']);
    const one = await call('owner@globex.example', STATE, { id: runId });
    expect(one.data!.agentRun).toBeNull();
    expect(one.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    const list = await call('owner@globex.example', `{ agentRuns(first: 100) { edges { node { id } } } }`);
    expect(list.data!.agentRuns.edges.map((e: any) => e.node.id)).not.toContain(runId);
    const cancel = await call('owner@globex.example', CANCEL, { id: runId });
    expect(cancel.data!.cancelAgentRun.errors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    // Its events do not exist for globex's transactions either.
    const events = await deps.db.withTenant({ tenantId: DEMO_TENANTS.find((t) => t.slug === 'globex')!.id, accountId: null }, (tx) =>
      tx.query(`SELECT count(*)::int AS n FROM agents.run_events WHERE run_id = $1`, [runId]),
    );
    expect(events.rows[0].n).toBe(0);
  });

  it('the daily run quota holds: QUOTA_EXCEEDED, nothing queued', async () => {
    // Runs queued past the ones above are cancelled at once: only the count matters here.
    behaviour = async (ctx) => {
      await waitForAbort(ctx.signal);
      return { insights: [] };
    };
    const usage = async () => (await call('editor@acme.example', `{ agentUsage { runs runQuota } }`)).data!.agentUsage;
    expect((await usage()).runQuota).toBe(DAILY_RUNS);
    while ((await usage()).runs < DAILY_RUNS) {
      const runId = await runAgent('editor@acme.example', salesAgent);
      await call('editor@acme.example', CANCEL, { id: runId });
    }
    const count = async () => (await call('editor@acme.example', `{ agentRuns { totalCount } }`)).data!.agentRuns.totalCount;
    const runsBefore = await count();
    const refused = await call('editor@acme.example', RUN, { id: salesAgent });
    expect(refused.data!.runAgent.agentRun).toBeNull();
    expect(refused.data!.runAgent.errors).toEqual([expect.objectContaining({ code: 'QUOTA_EXCEEDED' })]);
    expect(await count()).toBe(runsBefore);
    expect((await usage()).runs).toBe(DAILY_RUNS);
  });
});

describe('agent runs on embedded PGlite', () => {
  beforeAll(() => startStack(true), 60_000);
  afterAll(stopStack);

  it('a run succeeds with its events in order; a run waiting for its slot starts when it frees; a cancelled one stops', async () => {
    const salesAgent = await agentOf('editor@acme.example', 'SALES_SUMMARY');
    const released = gate();
    let runs = 0;
    behaviour = async (ctx) => {
      await ctx.progress(50, 'Half');
      // The first run holds its slot until the others are queued (and one cancelled).
      if (++runs === 1) await Promise.race([released.opened, waitForAbort(ctx.signal)]);
      return { insights: [insight('Embedded finding')] };
    };
    const first = await runAgent('editor@acme.example', salesAgent);
    await waitFor('the first run to make progress', async () => (await state(first)).progress === 50);
    const second = await runAgent('editor@acme.example', salesAgent);
    const third = await runAgent('editor@acme.example', salesAgent);
    const cancelled = await call('editor@acme.example', CANCEL, { id: third });
    expect(cancelled.data!.cancelAgentRun.agentRun.status).toBe('CANCELLED');
    await waitFor('the second run to wait for the slot', async () => (await state(second)).step === "Waiting for the tenant's other runs to finish");
    released.open();
    const run = await until(first, ['SUCCEEDED', 'FAILED']);
    expect(run.events.map((e: any) => [e.seq, e.type, e.status ?? e.progress ?? e.message])).toEqual([
      [1, 'STATUS', 'QUEUED'],
      [2, 'STATUS', 'RUNNING'],
      [3, 'PROGRESS', 50],
      [4, 'INSIGHT', 'Embedded finding'],
      [5, 'STATUS', 'SUCCEEDED'],
    ]);
    expect(run.insights.map((i: any) => i.title)).toEqual(['Embedded finding']);
    const next = await until(second, ['SUCCEEDED', 'FAILED']);
    expect(next.status).toBe('SUCCEEDED');
    expect(next.events.some((e: any) => e.type === 'LOG' && /Waiting for the tenant's other runs/.test(e.message))).toBe(true);
    expect(runs).toBe(2);
    const gone = await state(third);
    expect(gone).toMatchObject({ status: 'CANCELLED', attempts: 0, insights: [] });
  }, 60_000);
});
