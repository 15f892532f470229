import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { hit, hitEach, peek, reset } from '../subgraphs/kit/rate-limit.ts';
import { createTestRedis, unreachableRedis } from './support/services.ts';

// The fixed-window counter every rate limit uses (gateway, login, lead forms), against real Redis
// when reachable (else the in-memory stand-in), and with Redis down (counted in the process).
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

  it('counts in this process while Redis is unreachable, against the same limits', async () => {
    const down = unreachableRedis();
    const other = unreachableRedis();
    try {
      const key = `${prefix}d`;
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await hit(down, key, 2, 60));
      expect(results.map((r) => [r.count, r.allowed])).toEqual([[1, true], [2, true], [3, false]]);
      expect(results[2]!.retryAfterSeconds).toBeGreaterThan(55);
      expect(results[2]!.retryAfterSeconds).toBeLessThanOrEqual(60);
      expect(await peek(down, key)).toBe(3);
      // Each counter on its own; another process (client) has its own counts.
      expect((await hitEach(down, [{ key, limit: 5 }, { key: `${prefix}e`, limit: 0 }], 60)).map((r) => [r.count, r.allowed])).toEqual([
        [4, true],
        [1, false],
      ]);
      expect((await hit(other, key, 2, 60)).count).toBe(1);
      // A reset (a successful login) clears the local count too.
      await reset(down, key);
      expect(await peek(down, key)).toBe(0);
      expect((await hit(down, key, 2, 60)).allowed).toBe(true);
    } finally {
      down.disconnect();
      other.disconnect();
    }
  });

  it('starts a new local window once the last one has ended', async () => {
    const down = unreachableRedis();
    try {
      const key = `${prefix}f`;
      expect((await hit(down, key, 1, 1)).allowed).toBe(true);
      expect((await hit(down, key, 1, 1)).allowed).toBe(false);
      await sleep(1_050);
      expect(await hit(down, key, 1, 1)).toMatchObject({ count: 1, allowed: true });
    } finally {
      down.disconnect();
    }
  });
});
