import { bySlot, type RedisClient } from './redis.ts';

export interface RateLimitResult {
  allowed: boolean;
  count: number;
  retryAfterSeconds: number;
}

/**
 * Hits added to a fixed window as one command: INCRBY, and the window's expiry set when the key
 * has none. (The MULTI of INCR, EXPIRE NX and TTL it replaces was five commands per counter.)
 * Returns the count and the seconds left in the window.
 */
const HIT_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

/** A pipeline with the script command (ioredis adds defined commands to pipelines too). */
interface HitPipeline {
  rateLimitHit(key: string, windowSeconds: number, hits: number): HitPipeline;
  exec(): Promise<[Error | null, unknown][] | null>;
}

const scripted = new WeakSet<RedisClient>();
function hitPipeline(redis: RedisClient): HitPipeline {
  if (!scripted.has(redis)) {
    // ioredis sends it by SHA (EVALSHA) and loads it again if Redis has lost it.
    redis.defineCommand('rateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    scripted.add(redis);
  }
  return redis.pipeline() as unknown as HitPipeline;
}

export interface Counter {
  key: string;
  limit: number;
}

/** A counter's window after an addition: its count and the seconds it has left. */
export interface WindowCount {
  count: number;
  secondsLeft: number;
}

/** Counters a process keeps while Redis is unreachable; past this, the oldest window is dropped. */
const MAX_LOCAL_COUNTERS = 50_000;

/**
 * Fixed windows counted in this process, for while Redis does not answer. A limit then holds per
 * process (a deployment of N processes lets through at most N times it) instead of not at all:
 * login throttling must not open up because Redis went away. When Redis answers again its own
 * counts take over; the hits counted here are not added to them.
 */
class LocalWindows {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  add(key: string, hits: number, windowSeconds: number): WindowCount {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || now >= window.endsAt) {
      if (window) this.windows.delete(key);
      else if (this.windows.size >= MAX_LOCAL_COUNTERS) this.evict(now);
      window = { count: 0, endsAt: now + windowSeconds * 1000 };
      this.windows.set(key, window);
    }
    window.count += hits;
    return { count: window.count, secondsLeft: Math.max(1, Math.ceil((window.endsAt - now) / 1000)) };
  }

  count(key: string): number {
    const window = this.windows.get(key);
    return window && Date.now() < window.endsAt ? window.count : 0;
  }

  delete(key: string): void {
    this.windows.delete(key);
  }

  /**
   * Makes room: drops windows from the oldest started (a window is re-inserted when it restarts,
   * so Map order is start order) while they have ended, and at least one.
   */
  private evict(now: number): void {
    for (const [key, window] of this.windows) {
      if (this.windows.size < MAX_LOCAL_COUNTERS && now < window.endsAt) break;
      this.windows.delete(key);
    }
  }
}

/** One set of local windows per Redis client (per process in production). */
const localWindows = new WeakMap<RedisClient, LocalWindows>();
function localOf(redis: RedisClient): LocalWindows {
  let local = localWindows.get(redis);
  if (!local) localWindows.set(redis, (local = new LocalWindows()));
  return local;
}

/**
 * Adds hits to fixed-window counters in Redis, one script call each (see HIT_SCRIPT), all in one
 * write and one reply (a pipeline): each separate write to Redis costs a wake-up of the other
 * process. A counter Redis did not count (unreachable, or an error reply) is counted in this
 * process instead (LocalWindows); the client logs the failure.
 */
export async function addEach(
  redis: RedisClient,
  additions: readonly { key: string; hits: number }[],
  windowSeconds: number,
): Promise<WindowCount[]> {
  const replies: ([Error | null, unknown] | undefined)[] = [];
  // One pipeline (on a Redis Cluster, one per hash tag: an IP's counter and a tenant's live apart).
  await Promise.all(
    bySlot(redis, additions, (addition) => addition.key).map(async (group) => {
      try {
        const pipeline = hitPipeline(redis);
        for (const { item } of group) pipeline.rateLimitHit(item.key, windowSeconds, item.hits);
        const answered = (await pipeline.exec()) ?? [];
        group.forEach(({ index }, i) => (replies[index] = answered[i]));
      } catch {
        // Unreachable: these counters are counted locally below.
      }
    }),
  );
  return additions.map(({ key, hits }, i) => {
    const [error, reply] = replies[i] ?? [new Error('no reply'), null];
    if (error) return localOf(redis).add(key, hits, windowSeconds);
    const [count, ttl] = reply as [number, number];
    return { count, secondsLeft: ttl > 0 ? ttl : windowSeconds };
  });
}

/** One hit on each counter (see `addEach`), each against its own limit. */
export async function hitEach(redis: RedisClient, counters: readonly Counter[], windowSeconds: number): Promise<RateLimitResult[]> {
  const counts = await addEach(redis, counters.map(({ key }) => ({ key, hits: 1 })), windowSeconds);
  return counters.map(({ limit }, i) => {
    const counted = counts[i]!;
    return { allowed: counted.count <= limit, count: counted.count, retryAfterSeconds: counted.secondsLeft };
  });
}

/** One fixed-window counter (see `hitEach`). */
export async function hit(redis: RedisClient, key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
  return (await hitEach(redis, [{ key, limit }], windowSeconds))[0]!;
}

/** Reads a counter without counting (the local count while Redis is unreachable). */
export async function peek(redis: RedisClient, key: string): Promise<number> {
  try {
    return Number((await redis.get(key)) ?? 0);
  } catch {
    return localOf(redis).count(key);
  }
}

export async function reset(redis: RedisClient, key: string): Promise<void> {
  localOf(redis).delete(key);
  await redis.del(key).catch(() => undefined);
}
