import { CacheGenerations, sha256 } from '../../kit/cache.ts';
import { tenantKey, type RedisClient } from '../../kit/redis.ts';
import type { ChartResult } from './types.ts';

/*
 * Chart data cached in Redis, per tenant and per what was computed (the definition, the extra
 * filters, the resolved time range), under the current cache generations of the subgraph that
 * owns the facts (crm, cms) and of bi. A write in the owner bumps its generation after it
 * commits (kit invalidateOnWrite; bi bumps its own when order facts arrive), so the next read
 * of that tenant's charts misses and computes from live facts: no stale chart after a write,
 * whatever the TTL. A Redis failure reads as a miss and skips the write (the cache is bypassed).
 */

export interface ChartCacheOptions {
  redis: RedisClient;
  prefix: string;
  /** Seconds an entry lives (CACHE_TTL_SECONDS); 0 turns the cache off. */
  ttlSeconds: number;
}

/** Bumped when the shape of a cached entry or of its key changes: old entries then go unread. */
const FORMAT = 1;

/** The key of a computation, or null when it cannot be cached (Redis unreachable). */
export async function chartCacheKey(
  options: ChartCacheOptions,
  tenantId: string,
  owner: string,
  computation: unknown,
): Promise<string | null> {
  const subgraphs = owner === 'bi' ? ['bi'] : [owner, 'bi'];
  const generations = await Promise.all(subgraphs.map((name) => new CacheGenerations(options.redis, options.prefix, name).current(tenantId)));
  if (generations.some((generation) => generation === null)) return null;
  const key = sha256(JSON.stringify({ format: FORMAT, generations: Object.fromEntries(subgraphs.map((s, i) => [s, generations[i]])), computation }));
  return tenantKey(options.prefix, tenantId, 'bi', 'chart', key);
}

export async function readCachedChart(options: ChartCacheOptions, key: string): Promise<ChartResult | null> {
  let text: string | null;
  try {
    text = await options.redis.get(key);
  } catch {
    return null;
  }
  if (!text) return null;
  try {
    const entry = JSON.parse(text) as Omit<ChartResult, 'from' | 'to' | 'computedAt'> & { from: string | null; to: string | null; computedAt: string };
    return {
      ...entry,
      from: entry.from ? new Date(entry.from) : null,
      to: entry.to ? new Date(entry.to) : null,
      computedAt: new Date(entry.computedAt),
    };
  } catch {
    return null;
  }
}

export async function writeCachedChart(options: ChartCacheOptions, key: string, result: ChartResult): Promise<void> {
  try {
    await options.redis.set(key, JSON.stringify(result), 'EX', options.ttlSeconds);
  } catch {
    /* cache write skipped */
  }
}
