import type { RedisClient } from './redis.ts';

export interface RateLimitResult {
  allowed: boolean;
  count: number;
  retryAfterSeconds: number;
}

/**
 * One fixed-window hit as one command: INCR, and the window's expiry set when the key has none.
 * (The MULTI of INCR, EXPIRE NX and TTL it replaces was five commands per counter; the gateway
 * counts two per request.) Returns the count and the seconds left in the window.
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

type RedisWithHit = RedisClient & { rateLimitHit(key: string, windowSeconds: number): Promise<[number, number]> };

const scripted = new WeakSet<RedisClient>();
function withHitCommand(redis: RedisClient): RedisWithHit {
  if (!scripted.has(redis)) {
    // ioredis sends it by SHA (EVALSHA) and loads it again if Redis has lost it.
    redis.defineCommand('rateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    scripted.add(redis);
  }
  return redis as RedisWithHit;
}

/**
 * Fixed-window counter in Redis (one script call: see HIT_SCRIPT). When Redis is unreachable the
 * limit is open: availability wins over throttling, and the failure is logged by the client.
 */
export async function hit(
  redis: RedisClient,
  key: string,
  limit: number,
  windowSeconds: number,
): Promise<RateLimitResult> {
  try {
    const [count, ttl] = await withHitCommand(redis).rateLimitHit(key, windowSeconds);
    return { allowed: count <= limit, count, retryAfterSeconds: ttl > 0 ? ttl : windowSeconds };
  } catch {
    return { allowed: true, count: 0, retryAfterSeconds: 0 };
  }
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
