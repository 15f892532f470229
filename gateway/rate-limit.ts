import type { GatewayConfig as Config } from './config.ts';
import type { Principal } from '../subgraphs/kit/principal.ts';
import { addEach, type Counter, type WindowCount } from '../subgraphs/kit/rate-limit.ts';
import { tenantKey, type RedisClient } from '../subgraphs/kit/redis.ts';

const WINDOW_SECONDS = 60;
/** A counter is counted in Redis on every request once it is known to be at this share of its limit. */
const LOCAL_UNTIL = 1 / 2;
/** The most hits of one counter a process takes between two syncs, as a share of the limit. */
const LOCAL_MOST = 1 / 8;
/** Counters a process remembers; past this, new ones are counted in Redis on every request. */
const MAX_COUNTERS = 20_000;

export type RateLimitConfig = Pick<
  Config,
  'REDIS_PREFIX' | 'RATE_LIMIT_PER_MINUTE_IP' | 'RATE_LIMIT_PER_MINUTE_TENANT' | 'GATEWAY_RATE_LIMIT_SYNC_MS'
>;

export interface RateLimiter {
  /** Null when allowed, else the seconds to wait. */
  check(ip: string, principal: Principal): Promise<number | null>;
  /** Stops the sync timer and adds the hits not yet synced. */
  close(): Promise<void>;
}

/** What this process knows of one counter's current window. */
interface LocalCount {
  /** The count Redis last returned. */
  known: number;
  /** Hits taken since, not yet added to Redis. */
  pending: number;
  /** When the window ends (ms epoch), as Redis last said. */
  endsAt: number;
}

/**
 * Per-IP and per-tenant fixed one-minute windows in Redis (the kit's counters), both counted on
 * every request so one noisy tenant cannot hide behind many IPs nor one IP behind many tenants.
 * The IP key carries the IP as its hash tag, the tenant key the tenant (Redis Cluster slots).
 * Redis down: each process counts in memory against the same limits (the kit's `addEach`), so a
 * limit holds per process rather than not at all.
 *
 * Far from its limit, a counter is not asked on every request: a round trip to Redis per request
 * (a write, a wake-up of Redis, a reply) cost a cheap query 8-20% of its throughput (scenario B
 * `products` cold: 1,638 -> 1,790 requests/s with this, 1,852 with no limiter at all). Each
 * process counts such hits locally and adds them to Redis in one pipeline every
 * GATEWAY_RATE_LIMIT_SYNC_MS (as Kong's `sync_rate` does). A request is counted in Redis before
 * it is answered, as with a sync interval of 0, when its counter is new to this process or its
 * window has ended, when the counter is known to be at LOCAL_UNTIL of its limit, or when this
 * process already holds LOCAL_MOST of the limit unsynced: so the decision at the limit is made
 * on Redis's count. What that count can miss is the hits other processes took in their last sync
 * interval, at most LOCAL_MOST of the limit each; a burst reaching the limit within one interval
 * can pass it by that much, once.
 */
export function createRateLimiter(redis: RedisClient, config: RateLimitConfig): RateLimiter {
  const prefix = config.REDIS_PREFIX;
  const syncMs = config.GATEWAY_RATE_LIMIT_SYNC_MS;
  const local = new Map<string, LocalCount>();
  let timer: NodeJS.Timeout | undefined;

  const countersOf = (ip: string, principal: Principal): Counter[] => {
    const counters: Counter[] = [{ key: `${prefix}{ip:${ip}}:gw-rate`, limit: config.RATE_LIMIT_PER_MINUTE_IP }];
    if (principal.tenantId) {
      counters.push({ key: tenantKey(prefix, principal.tenantId, 'gw-rate'), limit: config.RATE_LIMIT_PER_MINUTE_TENANT });
    }
    return counters;
  };

  const takesLocally = ({ key, limit }: Counter, now: number): boolean => {
    const counted = local.get(key);
    return (
      counted !== undefined &&
      now < counted.endsAt &&
      counted.known + counted.pending + 1 < limit * LOCAL_UNTIL &&
      counted.pending + 1 <= limit * LOCAL_MOST
    );
  };

  /** Redis's answer to an addition: what this process knows from now on. */
  const learn = (key: string, counted: WindowCount, now: number) => {
    const endsAt = now + counted.secondsLeft * 1000;
    const known = local.get(key);
    if (known) {
      // Answers to concurrent additions arrive in any order; within a window counts only grow.
      known.known = now < known.endsAt ? Math.max(known.known, counted.count) : counted.count;
      known.endsAt = endsAt;
    } else if (local.size < MAX_COUNTERS) {
      local.set(key, { known: counted.count, pending: 0, endsAt });
    }
  };

  /**
   * Adds hits to Redis and, where hits are counted locally, learns the counts it answers.
   */
  const add = async (additions: { key: string; hits: number }[]) => {
    const counts = await addEach(redis, additions, WINDOW_SECONDS);
    const answered = Date.now();
    if (syncMs > 0) {
      additions.forEach(({ key }, i) => learn(key, counts[i]!, answered));
    }
    return { counts };
  };

  /** Adds every counter's unsynced hits to Redis; forgets counters whose window has ended. */
  const sync = async () => {
    const now = Date.now();
    const additions: { key: string; hits: number }[] = [];
    for (const [key, counted] of local) {
      if (counted.pending > 0) {
        additions.push({ key, hits: counted.pending });
        counted.pending = 0;
      } else if (now >= counted.endsAt) {
        local.delete(key);
      }
    }
    if (additions.length) await add(additions);
  };

  /**
   * Counted in Redis now, with this process's unsynced hits of the same counters before it: the
   * count Redis returns is this request's place in the window.
   */
  const countInRedis = async (counters: Counter[]) => {
    const additions = counters.map(({ key }) => {
      const counted = local.get(key);
      const hits = 1 + (counted?.pending ?? 0);
      if (counted) counted.pending = 0;
      return { key, hits };
    });
    const { counts } = await add(additions);
    let retryAfter: number | null = null;
    counters.forEach(({ limit }, i) => {
      const counted = counts[i]!;
      if (counted.count > limit) retryAfter = Math.max(retryAfter ?? 0, counted.secondsLeft);
    });
    return retryAfter;
  };

  return {
    async check(ip, principal) {
      const counters = countersOf(ip, principal);
      const now = Date.now();
      if (syncMs > 0 && counters.every((counter) => takesLocally(counter, now))) {
        for (const { key } of counters) local.get(key)!.pending++;
        timer ??= setInterval(() => void sync(), syncMs).unref();
        return null;
      }
      return countInRedis(counters);
    },
    async close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await sync();
    },
  };
}
