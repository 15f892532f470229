import sseModule, { type fastifySSE } from '@fastify/sse';
import type { FastifyInstance } from 'fastify';
import { runEventsChannel, type PublishedRunEvent, type RunEventMessage } from '../subgraphs/agents/runs/channel.ts';
import type { Logger } from '../subgraphs/kit/logger.ts';
import type { RedisClient } from '../subgraphs/kit/redis.ts';
import type { GatewayConfig } from './config.ts';

/*
 * Fan-out of agent run events to the gateway's Server-Sent Events streams
 * (gateway/rest/agent-run-stream.ts). The agents subgraph stores every run event and then
 * publishes it on its run's channel (subgraphs/agents/runs/channel.ts); any gateway process may hold a
 * stream of that run. Each process keeps ONE subscriber connection (Redis's pub/sub needs a
 * connection of its own), subscribed to the channels of the runs it streams, each channel once
 * however many clients follow it, and unsubscribed when the last one leaves. Also the per-tenant
 * cap on open streams (per process: a tenant's streams spread over processes are capped in each).
 */

// The package is CommonJS: its module.exports is the plugin wrapped by fastify-plugin (so its
// onRoute hook sees the shim's routes), which its types call `default`.
const fastifySse = sseModule as unknown as typeof fastifySSE;

export type RunEventListener = (message: RunEventMessage) => void;

export interface RunEventHub {
  readonly heartbeatMs: number;
  /** Whether messages are arriving (the subscriber connection is up); streams poll the stored events while not. */
  live(): boolean;
  /** Follows a run's channel; resolves once subscribed to the unsubscribe function. Rejects when Redis cannot subscribe. */
  subscribe(runId: string, listener: RunEventListener): Promise<() => void>;
  /** Takes one of the tenant's stream slots; false when it holds AGENTS_SSE_MAX_STREAMS_PER_TENANT already. */
  acquire(tenantId: string): boolean;
  release(tenantId: string): void;
  /** Ends the stream when the gateway shuts down (an open stream would hold its close); returns the unregister function. */
  onShutdown(end: () => void): () => void;
  /** Ends every open stream (the app's preClose). */
  shutdown(): void;
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The agent run event fan-out (gateway/run-events.ts). */
    agentRunEvents?: RunEventHub;
  }
}


function parseMessage(text: string): RunEventMessage | null {
  try {
    const message = JSON.parse(text) as Partial<RunEventMessage>;
    const event = message.event as Partial<PublishedRunEvent> | undefined;
    if (typeof message.tenantId !== 'string' || typeof message.runId !== 'string' || !event || !Number.isInteger(event.seq) || typeof event.type !== 'string') {
      return null;
    }
    return message as RunEventMessage;
  } catch {
    return null;
  }
}

export function createRunEventHub(options: {
  redis: RedisClient;
  prefix: string;
  heartbeatMs: number;
  maxStreamsPerTenant: number;
  log: Logger;
}): RunEventHub {
  const { prefix, log } = options;
  const listeners = new Map<string, Set<RunEventListener>>();
  /** Channels subscribed (or being subscribed): the SUBSCRIBE in flight, awaited by later followers. */
  const subscribed = new Map<string, Promise<unknown>>();
  const open = new Map<string, number>();
  const streams = new Set<() => void>();
  let subscriber: RedisClient | null = null;

  // A connection of its own, made like the process's (duplicate: same server and options; for the
  // in-memory Redis, another client of the same ioredis-mock instance, whose pub/sub is shared; a
  // Cluster client's duplicate takes its startup nodes first). Commands queue while it connects,
  // and ioredis subscribes again after a reconnect.
  const connection = () => {
    if (subscriber) return subscriber;
    const queueing = { enableOfflineQueue: true, lazyConnect: false };
    const redis = options.redis as RedisClient & { isCluster?: boolean; duplicate(...args: unknown[]): RedisClient };
    subscriber = redis.isCluster ? redis.duplicate(undefined, queueing) : redis.duplicate(queueing);
    subscriber.on('error', (error: Error) => log.warn({ err: error.message }, 'run events: redis subscriber'));
    subscriber.on('message', (channel: string, text: string) => {
      const set = listeners.get(channel);
      if (!set?.size) return;
      const message = parseMessage(text);
      if (!message) {
        log.warn({ channel }, 'run events: malformed message ignored');
        return;
      }
      for (const listener of set) listener(message);
    });
    return subscriber;
  };

  return {
    heartbeatMs: options.heartbeatMs,
    // (ioredis-mock has no status: always up.)
    live: () => !subscriber || subscriber.status === undefined || subscriber.status === 'ready',
    async subscribe(runId, listener) {
      const channel = runEventsChannel(prefix, runId);
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      const leave = () => {
        const current = listeners.get(channel);
        if (!current?.delete(listener) || current.size) return;
        listeners.delete(channel);
        subscribed.delete(channel);
        void subscriber?.unsubscribe(channel).catch(() => undefined);
      };
      let pending = subscribed.get(channel);
      if (!pending) {
        pending = connection().subscribe(channel);
        subscribed.set(channel, pending);
        // A failed SUBSCRIBE is tried again by the next follower.
        pending.catch(() => subscribed.get(channel) === pending && subscribed.delete(channel));
      }
      try {
        await pending;
      } catch (error) {
        leave();
        throw error;
      }
      return leave;
    },
    acquire(tenantId) {
      const count = open.get(tenantId) ?? 0;
      if (count >= options.maxStreamsPerTenant) return false;
      open.set(tenantId, count + 1);
      return true;
    },
    release(tenantId) {
      const count = (open.get(tenantId) ?? 1) - 1;
      if (count > 0) open.set(tenantId, count);
      else open.delete(tenantId);
    },
    onShutdown(end) {
      streams.add(end);
      return () => void streams.delete(end);
    },
    shutdown() {
      for (const end of [...streams]) end();
    },
    async close() {
      listeners.clear();
      subscribed.clear();
      const connection = subscriber;
      subscriber = null;
      connection?.disconnect();
    },
  };
}

/**
 * Live progress at the gateway: @fastify/sse (heartbeats every AGENTS_SSE_HEARTBEAT_MS on routes
 * that stream) and the hub, as `app.agentRunEvents`, closed with the app. Before the REST shim,
 * whose events route streams (@fastify/sse wraps the routes registered after it).
 */
export async function registerRunEvents(
  app: FastifyInstance,
  options: { redis: RedisClient; config: Pick<GatewayConfig, 'REDIS_PREFIX' | 'AGENTS_SSE_HEARTBEAT_MS' | 'AGENTS_SSE_MAX_STREAMS_PER_TENANT'>; log: Logger },
): Promise<void> {
  const hub = createRunEventHub({
    redis: options.redis,
    prefix: options.config.REDIS_PREFIX,
    heartbeatMs: options.config.AGENTS_SSE_HEARTBEAT_MS,
    maxStreamsPerTenant: options.config.AGENTS_SSE_MAX_STREAMS_PER_TENANT,
    log: options.log,
  });
  await app.register(fastifySse, { heartbeatInterval: options.config.AGENTS_SSE_HEARTBEAT_MS });
  app.decorate('agentRunEvents', hub);
  // Open streams end first: Fastify's close waits for requests in flight, and a stream is one.
  app.addHook('preClose', async () => hub.shutdown());
  app.addHook('onClose', async () => hub.close());
}
