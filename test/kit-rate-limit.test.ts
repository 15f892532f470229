import { afterAll, describe, expect, it } from 'vitest';
import { hit, hitEach } from '../subgraphs/kit/rate-limit.ts';
import { createRedis } from '../subgraphs/kit/redis.ts';
import { createTestRedis } from './support/services.ts';

// The fixed-window counter every rate limit uses (gateway, login, lead forms), against real Redis
// when reachable (else the in-memory stand-in), and with Redis down.
const { redis, prefix, close } = await createTestRedis();
afterAll(close);

describe('rate-limit hit', () => {
  it('counts within one window and refuses past the limit, with the seconds left', async () => {
    const key = `${prefix}a`;
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await hit(redis, key, 3, 60));
    expect(results.map((r) => [r.count, r.allowed])).toEqual([[1, true], [2, true], [3, true], [4, false]]);
    expect(results[3]!.retryAfterSeconds).toBeGreaterThan(55);
    expect(results[3]!.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('sets the window once: later hits do not extend it', async () => {
    const key = `${prefix}b`;
    await hit(redis, key, 10, 60);
    await redis.expire(key, 5);
    const later = await hit(redis, key, 10, 60);
    expect(later.count).toBe(2);
    expect(later.retryAfterSeconds).toBeLessThanOrEqual(5);
  });

  it('gives a counter without expiry a window', async () => {
    const key = `${prefix}c`;
    await redis.set(key, '7');
    const result = await hit(redis, key, 10, 30);
    expect(result.count).toBe(8);
    expect(await redis.ttl(key)).toBeGreaterThan(25);
  });

  it('counts several counters in one call, each against its own limit', async () => {
    const [a, b] = [`${prefix}e1`, `${prefix}e2`];
    await redis.set(b, '5');
    const results = await hitEach(redis, [{ key: a, limit: 1 }, { key: b, limit: 5 }], 60);
    expect(results.map((r) => [r.count, r.allowed])).toEqual([[1, true], [6, false]]);
    expect(results[1]!.retryAfterSeconds).toBeGreaterThan(55);
    expect(await redis.ttl(a)).toBeGreaterThan(55);
  });

  it('is open while Redis is unreachable', async () => {
    const down = createRedis({ REDIS_URL: 'redis://127.0.0.1:1' });
    down.on('error', () => {});
    try {
      expect(await hit(down, `${prefix}d`, 0, 60)).toEqual({ allowed: true, count: 0, retryAfterSeconds: 0 });
      expect(await hitEach(down, [{ key: `${prefix}d`, limit: 0 }, { key: `${prefix}e`, limit: 0 }], 60)).toEqual([
        { allowed: true, count: 0, retryAfterSeconds: 0 },
        { allowed: true, count: 0, retryAfterSeconds: 0 },
      ]);
    } finally {
      down.disconnect();
    }
  });
});
