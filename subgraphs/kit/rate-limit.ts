import type { RedisClient } from './redis.ts';

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

const OPEN: RateLimitResult = Object.freeze({ allowed: true, count: 0, retryAfterSeconds: 0 });

/**
 * Adds hits to fixed-window counters in Redis, one script call each (see HIT_SCRIPT), all in one
 * write and one reply (a pipeline): each separate write to Redis costs a wake-up of the other
 * process. Null for a counter Redis did not count (unreachable, or an error reply).
 */
export async function addEach(
  redis: RedisClient,
  additions: readonly { key: string; hits: number }[],
  windowSeconds: number,
): Promise<(WindowCount | null)[]> {
  try {
    const pipeline = hitPipeline(redis);
    for (const { key, hits } of additions) pipeline.rateLimitHit(key, windowSeconds, hits);
    const replies = (await pipeline.exec()) ?? [];
    return additions.map((_addition, i) => {
      const [error, reply] = replies[i] ?? [new Error('no reply'), null];
      if (error) return null;
      const [count, ttl] = reply as [number, number];
      return { count, secondsLeft: ttl > 0 ? ttl : windowSeconds };
    });
  } catch {
    return additions.map(() => null);
  }
}

/**
 * One hit on each counter (see `addEach`), each against its own limit. When Redis is unreachable
 * the limits are open: availability wins over throttling, and the failure is logged by the client.
 */
export async function hitEach(redis: RedisClient, counters: readonly Counter[], windowSeconds: number): Promise<RateLimitResult[]> {
  const counts = await addEach(redis, counters.map(({ key }) => ({ key, hits: 1 })), windowSeconds);
  return counters.map(({ limit }, i) => {
    const counted = counts[i];
    return counted ? { allowed: counted.count <= limit, count: counted.count, retryAfterSeconds: counted.secondsLeft } : OPEN;
  });
}

/** One fixed-window counter (see `hitEach`). */
export async function hit(redis: RedisClient, key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
  return (await hitEach(redis, [{ key, limit }], windowSeconds))[0]!;
}

/** Reads a counter without counting. */
export async function peek(redis: RedisClient, key: string): Promise<number> {
  try {
    return Number((await redis.get(key)) ?? 0);
  } catch {
    return 0;
  }
}

export async function reset(redis: RedisClient, key: string): Promise<void> {
  await redis.del(key).catch(() => undefined);
}
