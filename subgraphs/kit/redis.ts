import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import RedisMock from 'ioredis-mock';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';

/**
 * A Redis client: one server (ioredis `Redis`), a Redis Cluster (ioredis `Cluster`, typed as
 * `Redis`: it has the same commands, pipelines, scripts and pub/sub), or the in-memory stand-in.
 */
export type RedisClient = Redis;

let inMemory: Redis | undefined;

export type RedisSettings = Pick<Config, 'REDIS_URL'> & Partial<Pick<Config, 'REDIS_CLUSTER_NODES'>>;

/** Whether the settings name a Redis (a server or a cluster); otherwise the in-memory one is used. */
export const redisConfigured = (config: RedisSettings) => Boolean(config.REDIS_URL || config.REDIS_CLUSTER_NODES?.length);

/** Whether the settings name a Redis Cluster: REDIS_CLUSTER_NODES, or a `redis+cluster://` URL. */
export const clusterConfigured = (config: RedisSettings) =>
  Boolean(config.REDIS_CLUSTER_NODES?.length || /^rediss?\+cluster:/.test(config.REDIS_URL ?? ''));

/** Whether this client is a Redis Cluster client. */
export const isCluster = (redis: RedisClient) => (redis as { isCluster?: boolean }).isCluster === true;

/**
 * Redis for the response cache (and the tenants' cache generations), the rate limits (gateway,
 * login throttling, lead forms) and the revocation stamps. With no REDIS_URL (nor
 * REDIS_CLUSTER_NODES), one in-memory instance (ioredis-mock, same API) is shared by everything in
 * this process. With REDIS_CLUSTER_NODES or a `redis+cluster://` URL, a Redis Cluster client: the
 * keys that one command uses together carry the same hash tag (`tenantKey`), and what sends
 * several keys in one pipeline groups them by slot first (`bySlot`).
 * Commands fail fast while Redis is down (no offline queue), and no caller turns a failure into a
 * failed request: the cache reads it as a miss, and rate limits count in this process against the
 * same limits (rate-limit.ts).
 */
export function createRedis(config: RedisSettings, log?: Logger): Redis {
  if (!redisConfigured(config)) {
    inMemory ??= new (RedisMock as unknown as typeof Redis)();
    return inMemory;
  }
  const redis = clusterConfigured(config)
    ? createCluster(config)
    : new Redis(config.REDIS_URL!, {
        ...CONNECTION,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
        lazyConnect: false,
        // No auto-pipelining (ioredis's default): it saved CPU in a closed-loop benchmark of one
        // subgraph (warm crm 0.28 -> 0.24 ms/req), but scenario D's tails with it (p99 1.0 and
        // 3.1 s) were worse than without (0.2 and 0.9 s) in the runs we have: not proven either way.
      });
  let lastLog = 0;
  redis.on('error', (error: Error) => {
    const now = Date.now();
    if (now - lastLog > 30_000) {
      lastLog = now;
      log?.warn({ err: error.message }, 'redis unavailable: cache bypassed, rate limits counted in this process');
    }
  });
  return redis;
}

/** Timeouts of every connection, to a server or to each node of a cluster. */
const CONNECTION: RedisOptions = { connectTimeout: 2_000, commandTimeout: 1_000 };

/**
 * A Redis Cluster client. The start nodes are REDIS_CLUSTER_NODES, else the `redis+cluster://`
 * URL's host; the URL's user, password and TLS (`rediss+cluster://`) apply to every node. As with
 * one server: no offline queue (a command while the cluster is unreachable fails at once), and the
 * cluster is looked for again every few seconds at most.
 */
function createCluster(config: RedisSettings): Redis {
  const url = config.REDIS_URL ? new URL(config.REDIS_URL) : null;
  const nodes = (config.REDIS_CLUSTER_NODES?.length ? config.REDIS_CLUSTER_NODES : [url!.host]).map((node) => {
    const at = node.lastIndexOf(':');
    return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
  });
  const redisOptions: RedisOptions = {
    ...CONNECTION,
    maxRetriesPerRequest: 1,
    ...(url?.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url?.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url?.protocol.startsWith('rediss') ? { tls: {} } : {}),
  };
  const cluster = new Cluster(nodes, {
    redisOptions,
    enableOfflineQueue: false,
    clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
    slotsRefreshTimeout: 2_000,
    lazyConnect: false,
  });
  // `duplicate(options)` as on a single-server client (a pub/sub connection of its own, say):
  // Cluster's own takes start nodes first. Cluster-level options stay at the top, the rest applies
  // to every node's connection.
  const duplicate = cluster.duplicate.bind(cluster);
  Object.defineProperty(cluster, 'duplicate', {
    value: (first?: unknown, second?: ClusterOptions) => {
      if (first === undefined || Array.isArray(first)) return duplicate(first as [], second);
      const { enableOfflineQueue, lazyConnect, ...perNode } = first as RedisOptions;
      return duplicate([], {
        ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
        ...(lazyConnect === undefined ? {} : { lazyConnect }),
        redisOptions: { ...redisOptions, ...perNode },
      });
    },
  });
  return cluster as unknown as Redis;
}

/** Key with the tenant as a hash tag, so one tenant's keys share a Redis Cluster slot. */
export const tenantKey = (prefix: string, tenantId: string | null, ...parts: string[]) =>
  `${prefix}{${tenantId ?? 'anon'}}:${parts.join(':')}`;

/** A key's hash tag as Redis Cluster reads it: the first `{...}` that is not empty, else the whole key. */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

/**
 * Items to send in one pipeline, split so that every group's keys share a slot: on a Redis
 * Cluster one group per hash tag (a pipeline whose keys live on different nodes fails whole), on
 * one server (or in memory) a single group. Each item keeps its index in `items`.
 */
export function bySlot<T>(redis: RedisClient, items: readonly T[], keyOf: (item: T) => string): { item: T; index: number }[][] {
  const indexed = items.map((item, index) => ({ item, index }));
  if (!isCluster(redis)) return indexed.length ? [indexed] : [];
  const groups = new Map<string, { item: T; index: number }[]>();
  for (const entry of indexed) {
    const tag = hashTag(keyOf(entry.item));
    const group = groups.get(tag);
    if (group) group.push(entry);
    else groups.set(tag, [entry]);
  }
  return [...groups.values()];
}
