import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import type { RunEventMessage } from '../subgraphs/agents/runs/channel.ts';
import { runEventsChannel, withRunEvents } from '../subgraphs/agents/runs/events.ts';
import * as runs from '../subgraphs/agents/runs/store.ts';
import type { SubgraphDeps } from '../subgraphs/kit/deps.ts';
import { createLogger } from '../subgraphs/kit/logger.ts';
import { createRedis } from '../subgraphs/kit/redis.ts';
import { createRunEventHub } from '../gateway/run-events.ts';
import { bearer, gql } from './support/graphql.ts';
import { rest } from './support/rest.ts';
import { openSse, type SseStream } from './support/sse.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

/*
 * A run's live events at the gateway (GET /api/brain/agents/runs/{id}/events, Server-Sent
 * Events) over HTTP, on real PostgreSQL and Redis. Most tests drive a run that no worker takes
 * (a row without a job): the test writes its events the way the executor does (stored, then
 * published after the commit, runs/events.ts), so what is stored, what is published and when
 * are the test's to choose. The last test follows a real run to its end.
 */

const ACME = DEMO_TENANTS.find((t) => t.slug === 'acme')!.id;
const OWNER = DEMO_ACCOUNTS.find((a) => a.email === 'owner@acme.example')!;
const HEARTBEAT_MS = 150;

let stack: RunningSupergraph;
let deps: SubgraphDeps;
let owner: string;
let globex: string;
let agentId: string;

const eventsUrl = (runId: string, base = stack.base) => `${base}/api/brain/agents/runs/${runId}/events`;
const asOwner = <T>(fn: Parameters<SubgraphDeps['db']['withTenant']>[1]) => deps.db.withTenant({ tenantId: ACME, accountId: OWNER.id }, fn) as Promise<T>;

/** A QUEUED run of the acme owner that no worker will take (no job). */
const queuedRun = () =>
  asOwner<runs.RunRow>((tx) => runs.insertRun(tx, { agent_id: agentId, kind: 'PIPELINE_ANALYST', trigger: 'manual', started_by: OWNER.id, input: {} }));

/** Stores an event and publishes it, as the executor does. */
const emit = (runId: string, event: runs.RunEventInput) =>
  withRunEvents(deps, ACME, (fn) => deps.db.withTenant({ tenantId: ACME, accountId: OWNER.id }, fn), (tx, batch) => batch.append(tx, runId, event));
/** Stores an event without publishing it (a publish lost to Redis). */
const storeOnly = (runId: string, event: runs.RunEventInput) => asOwner((tx) => runs.appendEvent(tx, runId, event));
/** The run's final status, stored and published like the executor's. */
const finish = (runId: string) =>
  withRunEvents(deps, ACME, (fn) => deps.db.withTenant({ tenantId: ACME, accountId: OWNER.id }, fn), async (tx, batch) => {
    await runs.endAttempt(tx, runId, null, { status: 'SUCCEEDED', progress: 100 });
    await batch.append(tx, runId, { type: 'STATUS', status: 'SUCCEEDED' });
  });

const seqs = (events: { id: string | null }[]) => events.map((e) => Number(e.id));

beforeAll(async () => {
  stack = await startSupergraph({ AGENTS_SSE_HEARTBEAT_MS: String(HEARTBEAT_MS) });
  deps = stack.backends.deps('agents');
  [owner, globex] = await Promise.all([stack.token('owner@acme.example'), stack.token('owner@globex.example')]);
  const agents = await gql(stack.graphql, '{ agents(first: 10, filter: { kind: PIPELINE_ANALYST }) { edges { node { id } } } }', {}, bearer(owner));
  agentId = agents.data!.agents.edges[0].node.id;
}, 120_000); // the whole supergraph
afterAll(() => stack?.close());

describe('GET /api/brain/agents/runs/{id}/events', () => {
  it('streams stored then live events, each once and in order, fills a gap from the store, drops another tenant’s messages, and sends heartbeats', async () => {
    const run = await queuedRun();
    await emit(run.id, { type: 'STATUS', status: 'QUEUED' });
    const stream = await openSse(eventsUrl(run.id), { token: owner });
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const first = await stream.next();
      expect(first).toMatchObject({ id: '1', event: 'status', data: { seq: 1, type: 'status', status: 'queued', progress: null, message: null } });
      // Nothing happens for a while: heartbeats keep the stream open.
      expect(await stream.untilComment()).toBe(true);
      expect(stream.comments[0]).toBe('heartbeat');

      await emit(run.id, { type: 'PROGRESS', progress: 10, message: 'Reading deals' });
      expect(await stream.next()).toMatchObject({ id: '2', event: 'progress', data: { progress: 10, message: 'Reading deals' } });

      // A message on the run's channel claiming another tenant is never passed on.
      await deps.redis.publish(
        runEventsChannel(stack.backends.config.REDIS_PREFIX, run.id),
        JSON.stringify({ tenantId: DEMO_TENANTS[1].id, runId: run.id, event: { seq: 3, at: new Date().toISOString(), type: 'LOG', message: 'not yours' } }),
      );
      // Event 3 is stored but its publish is lost; 4 arrives live: 3 comes from the store first.
      await storeOnly(run.id, { type: 'LOG', message: 'stored only' });
      await emit(run.id, { type: 'INSIGHT', data: { insightId: '00000000-0000-4000-8000-000000000001' } });
      expect(await stream.next()).toMatchObject({ id: '3', event: 'log', data: { message: 'stored only' } });
      expect(await stream.next()).toMatchObject({ id: '4', event: 'insight', data: { data: { insightId: '00000000-0000-4000-8000-000000000001' } } });
    } finally {
      stream.close();
    }

    // Reconnect after 4: what happened meanwhile, then live until the end.
    await emit(run.id, { type: 'PROGRESS', progress: 90, message: 'Writing insights' });
    const again = await openSse(eventsUrl(run.id), { token: owner, lastEventId: 4 });
    expect(await again.next()).toMatchObject({ id: '5', data: { progress: 90 } });
    await finish(run.id);
    const rest = await again.rest(); // ends after the final status event
    expect(rest).toEqual([expect.objectContaining({ id: '6', event: 'status', data: expect.objectContaining({ status: 'succeeded' }) })]);

    // A finished run: the whole history at once, then the end.
    const all = await (await openSse(eventsUrl(run.id), { token: owner })).rest();
    expect(seqs(all)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(all.map((e) => e.data.message)).not.toContain('not yours');
    const after = await (await openSse(`${eventsUrl(run.id)}?last_event_id=4`, { token: owner })).rest();
    expect(seqs(after)).toEqual([5, 6]);
  });

  it('is 404 for a run of another tenant (globex never receives acme’s events) and 401 without a token', async () => {
    const run = await queuedRun();
    await emit(run.id, { type: 'STATUS', status: 'QUEUED' });
    const theirs = await openSse(eventsUrl(run.id), { token: globex });
    expect(theirs.status).toBe(404);
    expect(theirs.json).toEqual({ detail: 'Run not found' });
    expect((await openSse(eventsUrl('00000000-0000-4000-8000-000000000000'), { token: owner })).status).toBe(404);
    expect((await openSse(eventsUrl('not-a-run'), { token: owner })).status).toBe(404);
    const anonymous = await openSse(eventsUrl(run.id));
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toEqual({ detail: 'Unauthorized' });
  });

  it('shares one Redis subscription per run among its streams, and lets go of it when they close', async () => {
    const run = await queuedRun();
    await emit(run.id, { type: 'STATUS', status: 'QUEUED' });
    const channel = runEventsChannel(stack.backends.config.REDIS_PREFIX, run.id);
    const subscribers = async () => Number(((await deps.redis.pubsub('NUMSUB', channel)) as [string, number])[1]);
    const streams: SseStream[] = [];
    for (let i = 0; i < 3; i++) {
      const stream = await openSse(eventsUrl(run.id), { token: owner });
      expect((await stream.next())?.id).toBe('1');
      streams.push(stream);
    }
    expect(await subscribers()).toBe(1);
    await emit(run.id, { type: 'LOG', message: 'to all' });
    for (const stream of streams) expect(await stream.next()).toMatchObject({ id: '2', data: { message: 'to all' } });
    for (const stream of streams) stream.close();
    // The server sees the clients leave when their sockets close.
    for (let tries = 0; (await subscribers()) !== 0 && tries < 200; tries++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await subscribers()).toBe(0);
  });

  it('caps the open streams of a tenant (429), frees a slot when a client leaves, and ends open streams when the gateway closes', async () => {
    const capped = await stack.startGateway({ config: { AGENTS_SSE_MAX_STREAMS_PER_TENANT: 1 } });
    let closed = false;
    try {
      const run = await queuedRun();
      await emit(run.id, { type: 'STATUS', status: 'QUEUED' });
      const first = await openSse(eventsUrl(run.id, capped.base), { token: owner });
      expect(first.status).toBe(200);
      const second = await openSse(eventsUrl(run.id, capped.base), { token: owner });
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBeTruthy();
      expect(second.json.detail).toMatch(/Too many open event streams/);
      // Another tenant has slots of its own (and gets its 404).
      expect((await openSse(eventsUrl(run.id, capped.base), { token: globex })).status).toBe(404);
      first.close();
      let third = await openSse(eventsUrl(run.id, capped.base), { token: owner });
      for (let tries = 0; third.status === 429 && tries < 200; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        third = await openSse(eventsUrl(run.id, capped.base), { token: owner });
      }
      expect(third.status).toBe(200);
      expect((await third.next())?.id).toBe('1');
      // A gateway shutting down ends its open streams (it would otherwise wait for them).
      closed = true;
      await capped.gateway.close();
      expect(await third.rest()).toEqual([]);
    } finally {
      if (!closed) await capped.gateway.close();
    }
  });

  it('follows a real run from the REST route to its end: every stored event, in order, across a reconnect', async () => {
    const started = await rest(`${stack.base}/api/brain/agents/agents/${agentId}/run`, { method: 'POST', token: owner });
    expect(started.status).toBe(202);
    const first = await openSse(started.body.events_url, { token: owner });
    expect(first.status).toBe(200);
    const head = await first.next();
    expect(head?.id).toBe('1');
    first.close();
    const tail = await (await openSse(started.body.events_url, { token: owner, lastEventId: head!.id! })).rest();
    const received = [head!, ...tail];
    const last = received.at(-1)!;
    expect(last.event).toBe('status');
    expect(last.data.status).toBe('succeeded'); // the run acted through the gateway with its member's token

    const stored = await gql(stack.graphql, 'query($id: ID!) { agentRun(id: $id) { status events(first: 500) { seq type } } }', { id: started.body.id }, bearer(owner));
    const events = stored.data!.agentRun.events as { seq: number; type: string }[];
    expect(seqs(received)).toEqual(events.map((e) => e.seq));
    expect(received.map((e) => e.event)).toEqual(events.map((e) => e.type.toLowerCase()));
    expect(seqs(received)).toEqual(received.map((_e, i) => i + 1));
  });
});

describe('the fan-out on the in-memory Redis (embedded mode: ioredis-mock)', () => {
  it('delivers a run’s messages to each follower through one duplicated connection, and stops after the last leaves', async () => {
    const redis = createRedis({}); // no REDIS_URL: the process's in-memory Redis
    const hub = createRunEventHub({ redis, prefix: 'embedded:', heartbeatMs: 1000, maxStreamsPerTenant: 1, log: createLogger(stack.backends.config, 'test') });
    try {
      const a: RunEventMessage[] = [];
      const b: RunEventMessage[] = [];
      const leaveA = await hub.subscribe('run-1', (m) => a.push(m));
      const leaveB = await hub.subscribe('run-1', (m) => b.push(m));
      const message = (seq: number) => JSON.stringify({ tenantId: ACME, runId: 'run-1', event: { seq, at: new Date().toISOString(), type: 'LOG' } });
      const delivered = async (list: RunEventMessage[], count: number) => {
        for (let tries = 0; list.length < count && tries < 200; tries++) await new Promise((resolve) => setTimeout(resolve, 5));
      };
      await redis.publish(runEventsChannel('embedded:', 'run-1'), message(1));
      await redis.publish(runEventsChannel('embedded:', 'run-1'), 'not json');
      await delivered(b, 1);
      expect(a.map((m) => m.event.seq)).toEqual([1]);
      expect(b.map((m) => m.event.seq)).toEqual([1]);
      leaveA();
      await redis.publish(runEventsChannel('embedded:', 'run-1'), message(2));
      await delivered(b, 2);
      expect(a.map((m) => m.event.seq)).toEqual([1]);
      expect(b.map((m) => m.event.seq)).toEqual([1, 2]);
      leaveB();
      // The process's own connection still answers commands (the subscriber is another one).
      expect(await redis.set('embedded:k', 'v')).toBe('OK');
      expect(hub.acquire(ACME)).toBe(true);
      expect(hub.acquire(ACME)).toBe(false);
      hub.release(ACME);
      expect(hub.acquire(ACME)).toBe(true);
    } finally {
      await hub.close();
    }
  });
});
