/**
 * `npx tsx test/bench/auth-path.ts`: what checking revocation adds to the gateway's per-request auth path
 * (issue 15, item 4), measured in process against real Redis, apart from everything else a
 * request costs (scenario B measures the whole stack, but on this shared 2-CPU host its noise is
 * larger than a cost of this size).
 *
 *   npx tsx test/bench/auth-path.ts [--rounds 5] [--calls 20000] [--concurrency 50]
 *
 * Two paths, interleaved round by round (order alternating), CPU time per call of this process:
 * - before: the token verified, then the rate limits counted (what the gateway did before
 *   revocation: `verifyToken` + `rateLimiter.check`);
 * - now: `createAuthenticate` (gateway/auth.ts): the same, plus the token's revocation stamps,
 *   read with the rate-limit round trip when this process's answer for the token is older than
 *   FRESH_MS, else from memory.
 * Each in two traffic shapes: 50 callers, each calling often (the common case: a token's answer
 * is fresh most of the time), and 5,000 callers in turn (each token's answer has gone stale by
 * its next call: every call reads its stamps). Environment: BENCH_REDIS_URL (default
 * redis://127.0.0.1:6379).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createLocalJWKSet } from 'jose';
import { createAuthenticate } from '../../gateway/auth.ts';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { createRateLimiter } from '../../gateway/rate-limit.ts';
import { createTokenVerifier } from '../../subgraphs/kit/principal.ts';
import { createRedis } from '../../subgraphs/kit/redis.ts';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    calls: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '50' },
  },
});
const rounds = Number(flags.rounds);
const calls = Number(flags.calls);
const concurrency = Number(flags.concurrency);

const prefix = `bench-auth-${process.pid}:`;
const config = parseGatewayConfig({
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: prefix,
  // Far from the limits: both paths count locally and sync, as in production.
  RATE_LIMIT_PER_MINUTE_IP: '100000000',
  RATE_LIMIT_PER_MINUTE_TENANT: '100000000',
});
const redis = createRedis(config);

const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
const publicJwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'EdDSA' };
const keys = createLocalJWKSet({ keys: [publicJwk] });
const verifyToken = createTokenVerifier({ issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE, keys });

async function tokens(count: number): Promise<string[]> {
  const tenant = randomUUID();
  return Promise.all(
    Array.from({ length: count }, async () =>
      `Bearer ${await new SignJWT({ tid: tenant, roles: ['viewer'], sid: randomUUID() })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'bench' })
        .setIssuer(config.AUTH_ISSUER)
        .setAudience(config.AUTH_AUDIENCE)
        .setSubject(randomUUID())
        .setIssuedAt()
        .setExpirationTime('10m')
        .setJti(randomUUID())
        .sign(privateKey)}`,
    ),
  );
}

type Path = (authorization: string, ip: string) => Promise<unknown>;
const rateLimiter = createRateLimiter(redis, config);
const before: Path = async (authorization, ip) => rateLimiter.check(ip, await verifyToken(authorization));
const authenticate = createAuthenticate({ verifyToken, rateLimiter, redis, redisPrefix: prefix });
const now: Path = (authorization, ip) => authenticate(authorization, ip);

/** CPU µs per call of `path` over `calls` calls, `concurrency` at a time, cycling through `callers`. */
async function measure(path: Path, callers: string[]): Promise<number> {
  let next = 0;
  const started = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        const i = next++;
        await path(callers[i % callers.length]!, `10.0.${(i % callers.length) >> 8}.${i % 256}`);
      }
    }),
  );
  const used = process.cpuUsage(started);
  return (used.user + used.system) / calls;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const shapes = { '50 callers': await tokens(50), '5,000 callers in turn': await tokens(5_000) };
// Every token verified once first: the verifier's cache is warm in both paths alike.
for (const callers of Object.values(shapes)) for (const t of callers) await verifyToken(t);

process.stdout.write(`auth path, CPU µs per call (median of ${rounds} rounds of ${calls} calls, ${concurrency} at a time)\n\n`);
process.stdout.write('| callers | before (verify + rate limit) | now (+ revocation) | difference |\n|---|---|---|---|\n');
for (const [shape, callers] of Object.entries(shapes)) {
  await measure(before, callers); // warm-up of both paths
  await measure(now, callers);
  const results = { before: [] as number[], now: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? (['now', 'before'] as const) : (['before', 'now'] as const);
    for (const name of order) results[name].push(await measure(name === 'now' ? now : before, callers));
  }
  const [b, n] = [median(results.before), median(results.now)];
  process.stdout.write(`| ${shape} | ${b.toFixed(1)} | ${n.toFixed(1)} | ${(n - b >= 0 ? '+' : '') + (n - b).toFixed(1)} µs (${((n / b - 1) * 100).toFixed(0)}%) |\n`);
}

const stale = await redis.keys(`${prefix}*`);
if (stale.length) await redis.del(...stale);
redis.disconnect();
process.exit(0);
