import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createRateLimiter, type RateLimitConfig } from '../gateway/rate-limit.ts';
import { ANONYMOUS, type Principal } from '../subgraphs/kit/principal.ts';
import { createTestRedis, unreachableRedis } from './support/services.ts';

// The gateway's per-IP and per-tenant limits, against real Redis when reachable (else the
// in-memory stand-in): hits far from the limit are counted locally and synced; near it, every
// hit is counted in Redis first, so the limit holds across gateway processes.
const { redis, prefix, close } = await createTestRedis();
afterAll(close);

const settings = (overrides: Partial<RateLimitConfig>): RateLimitConfig => ({
  REDIS_PREFIX: prefix,
  RATE_LIMIT_PER_MINUTE_IP: 1000,
  RATE_LIMIT_PER_MINUTE_TENANT: 1000,
  GATEWAY_RATE_LIMIT_SYNC_MS: 20,
  ...overrides,
});
const ipCount = async (ip: string) => Number((await redis.get(`${prefix}{ip:${ip}}:gw-rate`)) ?? 0);
const tenant = (): Principal => ({ ...ANONYMOUS, tenantId: randomUUID(), accountId: randomUUID() });

describe('gateway rate limits', () => {
  it('far from the limit, asks Redis for the first hit only and adds the others within a sync interval', async () => {
    const slow = createRateLimiter(redis, settings({ GATEWAY_RATE_LIMIT_SYNC_MS: 10_000 }));
    for (let i = 0; i < 100; i++) expect(await slow.check('local', ANONYMOUS)).toBeNull();
    expect(await ipCount('local')).toBe(1);
    await slow.close(); // adds the hits not yet synced
    expect(await ipCount('local')).toBe(100);

    const limiter = createRateLimiter(redis, settings({ GATEWAY_RATE_LIMIT_SYNC_MS: 20 }));
    for (let i = 0; i < 100; i++) expect(await limiter.check('synced', ANONYMOUS)).toBeNull();
    await sleep(200);
    expect(await ipCount('synced')).toBe(100); // none lost, without a close
    await limiter.close();
  });

  it('near the limit, counts every hit in Redis first: the limit holds exactly across gateway processes', async () => {
    const config = settings({ RATE_LIMIT_PER_MINUTE_IP: 40 });
    const [first, second] = [createRateLimiter(redis, config), createRateLimiter(redis, config)];
    const ip = 'shared-ip';
    let allowed = 0;
    for (let i = 0; i < 30; i++) if ((await (i % 2 ? first : second).check(ip, ANONYMOUS)) === null) allowed++;
    await sleep(100); // both have synced: past half the limit from here on
    const refusals: (number | null)[] = [];
    for (let i = 0; i < 30; i++) {
      const retryAfter = await (i % 2 ? first : second).check(ip, ANONYMOUS);
      if (retryAfter === null) allowed++;
      else refusals.push(retryAfter);
    }
    expect(allowed).toBe(40);
    expect(refusals).toHaveLength(20);
    for (const retryAfter of refusals) expect(retryAfter).toBeGreaterThan(50); // the seconds left in the window
    await Promise.all([first.close(), second.close()]);
    expect(await ipCount(ip)).toBe(60);
  });

  it('a tenant over its limit is refused whatever IPs it comes from; other tenants are not', async () => {
    const limiter = createRateLimiter(redis, settings({ RATE_LIMIT_PER_MINUTE_TENANT: 4 }));
    const [noisy, quiet] = [tenant(), tenant()];
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await limiter.check(`192.0.2.${i}`, noisy));
    expect(answers.map((a) => a === null)).toEqual([true, true, true, true, false, false]);
    expect(await limiter.check('192.0.2.9', quiet)).toBeNull();
    await limiter.close();
  });

  it('with GATEWAY_RATE_LIMIT_SYNC_MS=0 counts every request in Redis before answering it', async () => {
    const limiter = createRateLimiter(redis, settings({ GATEWAY_RATE_LIMIT_SYNC_MS: 0 }));
    const ip = 'sync-every-request';
    for (let i = 0; i < 5; i++) await limiter.check(ip, ANONYMOUS);
    expect(await ipCount(ip)).toBe(5);
    await limiter.close();
  });

  it('while Redis is unreachable, counts in the process and still refuses past the limit', async () => {
    const down = unreachableRedis();
    const limiter = createRateLimiter(down, settings({ RATE_LIMIT_PER_MINUTE_IP: 3 }));
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await limiter.check('unreachable', tenant()));
      expect(answers.slice(0, 3)).toEqual([null, null, null]);
      expect(answers[3]).toBeGreaterThan(55);
      expect(answers[4]).toBeGreaterThan(55);
      // Another IP has its own window.
      expect(await limiter.check('unreachable-2', tenant())).toBeNull();
    } finally {
      await limiter.close();
      down.disconnect();
    }
  });
});
