import { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';

export type RedisClient = Redis;

let inMemory: Redis | undefined;

/**
 * Redis for the response cache (and the tenants' cache generations) and the rate limits
 * (gateway, login throttling, lead forms). With no REDIS_URL, one in-memory instance
 * (ioredis-mock, same API) is shared by everything in this process.
 * Commands fail fast while Redis is down (no offline queue), and no caller turns a failure into a
 * failed request: the cache reads it as a miss, and rate limits count in this process against the
 * same limits (rate-limit.ts).
 */
export function createRedis(config: Pick<Config, 'REDIS_URL'>, log?: Logger): Redis {
  if (!config.REDIS_URL) {
    inMemory ??= new (RedisMock as unknown as typeof Redis)();
    return inMemory;
  }
  const redis = new Redis(config.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
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

/** Key with the tenant as a hash tag, so one tenant's keys share a Redis Cluster slot. */
export const tenantKey = (prefix: string, tenantId: string | null, ...parts: string[]) =>
  `${prefix}{${tenantId ?? 'anon'}}:${parts.join(':')}`;
