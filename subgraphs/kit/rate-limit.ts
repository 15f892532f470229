import type { RedisClient } from './redis.ts';

export interface RateLimitResult {
  allowed: boolean;
  count: number;
  retryAfterSeconds: number;
}

/**
 * Fixed-window counter in Redis (INCR + EXPIRE in one MULTI). When Redis is unreachable the
 * limit is open: availability wins over throttling, and the failure is logged by the client.
 */
export async function hit(
  redis: RedisClient,
  key: string,
  limit: number,
  windowSeconds: number,
): Promise<RateLimitResult> {
  try {
    const result = await redis.multi().incr(key).expire(key, windowSeconds, 'NX').ttl(key).exec();
    const count = Number(result?.[0]?.[1] ?? 0);
    const ttl = Number(result?.[2]?.[1] ?? windowSeconds);
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
