import type { FastifyReply, FastifyRequest } from 'fastify';
import { isUuid } from '../../subgraphs/kit/formats.ts';
import type { PublishedRunEvent, RunEventMessage } from '../../subgraphs/agents/runs/channel.ts';
import { detail, UNAVAILABLE } from './errors.ts';
import { single } from './query.ts';
import type { RestCall } from './types.ts';

/*
 * GET /api/brain/agents/runs/{id}/events: a run's events as Server-Sent Events
 * (`id: <seq>`, `event: status|progress|insight|log`, `data: <json>`), from the event after
 * `Last-Event-ID` (or `?last_event_id=`; none: from the first), live until the run ends.
 *
 * 1. Follow the run's Redis channel first (gateway/run-events.ts), buffering what arrives, so
 *    nothing committed from now on can be missed; drop any message of another tenant.
 * 2. Replay the stored events through GraphQL (`agentRun { status events(after:) }`, pages of
 *    500): row-level security decides whether the caller sees the run at all (404 if not, before
 *    any byte is sent), exactly as for every other read.
 * 3. Then the buffered and live events in order, each once (by seq). A gap in the seqs (a
 *    message lost, Redis reconnecting) is filled from the store; while the subscriber is down,
 *    the store is polled.
 * 4. The stream ends after the run's terminal STATUS event (or at once when the replay finds the
 *    run finished), when the client leaves, when the gateway shuts down, or when the caller's
 *    token expires (the client reconnects with a fresh one and its Last-Event-ID). Heartbeats:
 *    @fastify/sse's comments.
 */

export const RUN_EVENTS_OPERATION = `query RestAgentRunEvents($id: ID!, $after: Int!, $first: Int!) {
  agentRun(id: $id) { id status events(after: $after, first: $first) { seq at type status progress message data } }
}`;

export const RUN_NOT_FOUND = 'Run not found';
const PAGE = 500;
/** How often the store is read while the Redis subscriber is down. */
const POLL_MS = 2_000;
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

const lower = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : null);

/** An event as the stream's `data` carries it (enum values lower case, as the REST routes write them). */
export const eventBody = (event: PublishedRunEvent) => ({
  seq: event.seq,
  at: event.at,
  type: lower(event.type),
  status: lower(event.status),
  progress: event.progress ?? null,
  message: event.message ?? null,
  data: event.data ?? null,
});

/** The seq the client has (Last-Event-ID, else `?last_event_id=`); 0 when none or not a seq. */
function lastEventId(request: FastifyRequest, call: RestCall): number {
  const header = request.headers['last-event-id'];
  const raw = typeof header === 'string' && header.trim() ? header.trim() : single(call.query.last_event_id);
  const seq = raw === undefined ? 0 : Number(raw);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : 0;
}

export async function serveRunEvents(call: RestCall, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const hub = request.server.agentRunEvents;
  if (!hub || !reply.sse) throw detail(503, UNAVAILABLE);
  const runId = call.params.id!;
  if (!isUuid(runId)) throw detail(404, RUN_NOT_FOUND);
  const tenantId = call.principal.tenantId!;
  if (!hub.acquire(tenantId)) {
    throw detail(429, 'Too many open event streams for this tenant: close one, or poll the run instead.', { 'retry-after': '10' });
  }
  const log = request.log;
  const sse = reply.sse;
  let lastSeq = lastEventId(request, call);
  let ended = false;
  /** Live events that arrived before the replay ended; null afterwards. */
  let buffered: PublishedRunEvent[] | null = [];
  /** Every write after the first replay, one after another. */
  let chain = Promise.resolve();
  let leave: (() => void) | null = null;
  let untrack: (() => void) | null = null;
  const timers: NodeJS.Timeout[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  const finish = () => {
    if (ended) return;
    ended = true;
    leave?.();
    untrack?.();
    for (const timer of timers) clearTimeout(timer);
    hub.release(tenantId);
    sse.close(); // ends the response once it has started; before that, the error answers
    done();
  };

  const send = async (event: PublishedRunEvent) => {
    if (ended || event.seq <= lastSeq) return;
    lastSeq = event.seq;
    await sse.send({ id: String(event.seq), event: lower(event.type) ?? 'log', data: eventBody(event) });
    if (String(event.type).toUpperCase() === 'STATUS' && TERMINAL.has(String(event.status).toUpperCase())) finish();
  };

  /** The stored events after lastSeq, then the end of the stream if the run is finished. */
  const replay = async () => {
    while (!ended) {
      const data = await call.graphql<{ agentRun: { status: string; events: PublishedRunEvent[] } | null }>(RUN_EVENTS_OPERATION, {
        id: runId,
        after: lastSeq,
        first: PAGE,
      });
      if (!data.agentRun) throw detail(404, RUN_NOT_FOUND);
      for (const event of data.agentRun.events) await send(event);
      if (data.agentRun.events.length < PAGE) {
        if (TERMINAL.has(data.agentRun.status)) finish();
        return;
      }
    }
  };

  const failed = (error: unknown) => {
    if (!ended) log.warn({ requestId: request.id, run: runId, err: (error as Error).message }, 'run events: stream ended early');
    finish();
  };
  const later = (step: () => Promise<void>) => {
    chain = chain.then(step).catch(failed);
  };
  const live = (event: PublishedRunEvent) =>
    later(async () => {
      if (ended || event.seq <= lastSeq) return;
      if (event.seq > lastSeq + 1) await replay(); // something was missed: the store has it
      await send(event);
    });

  try {
    const listener = (message: RunEventMessage) => {
      if (message.tenantId !== tenantId || message.runId !== runId) return;
      if (buffered) buffered.push(message.event);
      else live(message.event);
    };
    leave = await hub.subscribe(runId, listener).catch((error: unknown) => {
      log.warn({ requestId: request.id, err: (error as Error).message }, 'run events: cannot subscribe (Redis): polling the store');
      return null;
    });
    sse.onClose(finish);
    untrack = hub.onShutdown(finish); // the gateway closing ends the stream (clients reconnect elsewhere)
    await replay();
    if (!ended) {
      sse.sendHeaders(); // an open stream with nothing to replay yet: headers now, then heartbeats
      const pending = buffered;
      buffered = null;
      for (const event of pending) live(event);
      const poll = setInterval(() => (!leave || !hub.live()) && later(replay), POLL_MS);
      poll.unref();
      timers.push(poll);
      // The stream shows what the token may see for as long as the token is valid.
      const expiry = setTimeout(finish, Math.min(2 ** 31 - 1, Math.max(0, call.principal.expiresAt - Date.now())));
      expiry.unref();
      timers.push(expiry);
    }
  } catch (error) {
    // Before the first byte, the error is the answer (404, 503, ...); after it, the stream ends.
    if (reply.raw.headersSent) failed(error);
    else {
      finish();
      throw error;
    }
  }
  await finished;
}
