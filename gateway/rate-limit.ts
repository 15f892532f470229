import type { Config } from '../subgraphs/kit/config.ts';
import type { Principal } from '../subgraphs/kit/principal.ts';
import { hitEach, type Counter } from '../subgraphs/kit/rate-limit.ts';
import { tenantKey, type RedisClient } from '../subgraphs/kit/redis.ts';

const WINDOW_SECONDS = 60;

export type RateLimitConfig = Pick<Config, 'REDIS_PREFIX' | 'RATE_LIMIT_PER_MINUTE_IP' | 'RATE_LIMIT_PER_MINUTE_TENANT'>;

/** Null when allowed, else the seconds to wait. */
export type RateLimiter = (ip: string, principal: Principal) => Promise<number | null>;

/**
 * Per-IP and per-tenant fixed one-minute windows in Redis (the kit's `hit`), both counted on every
 * request so one noisy tenant cannot hide behind many IPs nor one IP behind many tenants. The IP
 * key carries the IP as its hash tag, the tenant key the tenant (Redis Cluster slots). Redis down:
 * open (the kit's choice: availability over throttling).
 */
export function createRateLimiter(redis: RedisClient, config: RateLimitConfig): RateLimiter {
  const prefix = config.REDIS_PREFIX;
  return async (ip, principal) => {
    const counters: Counter[] = [{ key: `${prefix}{ip:${ip}}:gw-rate`, limit: config.RATE_LIMIT_PER_MINUTE_IP }];
    if (principal.tenantId) {
      counters.push({ key: tenantKey(prefix, principal.tenantId, 'gw-rate'), limit: config.RATE_LIMIT_PER_MINUTE_TENANT });
    }
    const results = await hitEach(redis, counters, WINDOW_SECONDS);
    const denied = results.filter((r) => !r.allowed);
    return denied.length ? Math.max(...denied.map((r) => r.retryAfterSeconds)) : null;
  };
}
