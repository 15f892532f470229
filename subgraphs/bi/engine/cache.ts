import { sha256 } from '../../kit/cache.ts';
import { tenantKey, type RedisClient } from '../../kit/redis.ts';
import type { ChartResult } from './types.ts';

/*
 * Chart data cached in Redis, per tenant and per what was computed (the definition, the extra
 * filters, the resolved time range), valid under the cache generations of the subgraph that
 * owns the facts (crm, cms) and of bi. A write in the owner bumps its generation after it
 * commits (kit invalidateOnWrite; bi bumps its own when order facts arrive), so the next read
 * of that tenant's charts misses and computes from live facts: no stale chart after a write,
 * whatever the TTL. A Redis failure reads as a miss and skips the write (the cache is bypassed).
 *
 * One round trip per read: the entry's key does not hold the generations; the entry stores the
 * generations it was computed under, and the read fetches the entry and the current generations
 * in one MGET (the keys share the tenant's hash tag, so this holds on Redis Cluster too). An
 * entry whose generations are not the current ones is a miss. The generations written with an
 * entry are those read before it was computed, so a write that lands during the computation
 * leaves the entry already stale.
 */

export interface ChartCacheOptions {
  redis: RedisClient;
  prefix: string;
  /** Seconds an entry lives (CACHE_TTL_SECONDS); 0 turns the cache off. */
  ttlSeconds: number;
}

/** Bumped when the shape of a cached entry or of its key changes: old entries then go unread. */
const FORMAT = 2;

/** Where a computation's entry lives, and the generations it must carry to be fresh. */
export interface ChartCacheSlot {
  key: string;
  generations: string[];
}

type Entry = Omit<ChartResult, 'from' | 'to' | 'computedAt'> & { generations: string[]; from: string | null; to: string | null; computedAt: string };

/**
 * The cached result of a computation when it is fresh, and the slot to write a fresh one to;
 * `slot` is null when nothing can be cached (Redis unreachable).
 */
export async function readCachedChart(
  options: ChartCacheOptions,
  tenantId: string,
  owner: string,
  computation: unknown,
): Promise<{ cached: ChartResult | null; slot: ChartCacheSlot | null }> {
  const subgraphs = owner === 'bi' ? ['bi'] : [owner, 'bi'];
  const key = tenantKey(options.prefix, tenantId, 'bi', 'chart', sha256(JSON.stringify({ format: FORMAT, computation })));
  let values: (string | null)[];
  try {
    values = await options.redis.mget(key, ...subgraphs.map((name) => tenantKey(options.prefix, tenantId, 'gen', name)));
  } catch {
    return { cached: null, slot: null };
  }
  const [text, ...current] = values;
  // A generation never bumped reads as '0' (kit/cache.ts CacheGenerations).
  const generations = current.map((generation) => generation ?? '0');
  const slot = { key, generations };
  if (!text) return { cached: null, slot };
  try {
    const entry = JSON.parse(text) as Entry;
    if (entry.generations?.length !== generations.length || entry.generations.some((g, i) => g !== generations[i])) return { cached: null, slot };
    const { generations: _stored, ...result } = entry;
    return {
      cached: {
        ...result,
        from: entry.from ? new Date(entry.from) : null,
        to: entry.to ? new Date(entry.to) : null,
        computedAt: new Date(entry.computedAt),
      },
      slot,
    };
  } catch {
    return { cached: null, slot };
  }
}

export async function writeCachedChart(options: ChartCacheOptions, slot: ChartCacheSlot, result: ChartResult): Promise<void> {
  try {
    await options.redis.set(slot.key, JSON.stringify({ ...result, generations: slot.generations }), 'EX', options.ttlSeconds);
  } catch {
    /* cache write skipped */
  }
}
