import type { Logger } from '../subgraphs/kit/logger.ts';
import { ANONYMOUS, type Principal, type TokenVerifier } from '../subgraphs/kit/principal.ts';
import type { RedisClient } from '../subgraphs/kit/redis.ts';
import { batchedStampReader, RevocationCache, type StampReader } from '../subgraphs/kit/revocation.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface Caller {
  /** Who calls: anonymous without a valid token, and for a revoked one. */
  principal: Principal;
  /** The request carried a token that was valid but has been revoked. */
  revoked: boolean;
  /** Null when allowed, else the seconds to wait (rate limits). */
  retryAfter: number | null;
}

export type Authenticate = (authorization: string | undefined, ip: string) => Promise<Caller>;

/**
 * Who calls, and whether they may now: the access token verified (against the auth subgraph's
 * keys), checked against revocation, and the rate limits counted. A token whose revocation state
 * this process learned less than FRESH_MS ago (kit/revocation.ts) costs no Redis round trip
 * beyond what the rate limiter needs (usually none: it counts far from the limits locally and
 * syncs); otherwise its stamps are read, together with those of the other requests of the same
 * event-loop turn (one MGET per tenant), and concurrent requests with the same token share that
 * read.
 *
 * A revoked token makes the request anonymous, as an expired token does: fields that need a
 * member answer `UNAUTHENTICATED`, public ones still answer, and login works for a client that
 * still sends its old token. It counts as anonymous for the rate limits too (per IP only), once
 * known: a revoked token cannot spend its tenant's budget.
 */
export function createAuthenticate(options: {
  verifyToken: TokenVerifier;
  rateLimiter: RateLimiter;
  redisPrefix: string;
  /** Where revocation stamps are read: `redis`, batched (batchedStampReader), unless `readStamps` is given. */
  redis?: RedisClient;
  readStamps?: StampReader;
  log?: Pick<Logger, 'warn'>;
}): Authenticate {
  const { verifyToken, rateLimiter } = options;
  const revocations = new RevocationCache(options.redisPrefix, { log: options.log });
  const readStamps = options.readStamps ?? batchedStampReader(options.redis!);
  return async (authorization, ip) => {
    const principal = await verifyToken(authorization);
    if (!principal.tokenId) return { principal, revoked: false, retryAfter: await rateLimiter.check(ip, principal) };
    const cached = revocations.cached(principal);
    if (cached === true) return { principal: ANONYMOUS, revoked: true, retryAfter: await rateLimiter.check(ip, ANONYMOUS) };
    if (cached === false) return { principal, revoked: false, retryAfter: await rateLimiter.check(ip, principal) };
    // Not known now: read (or join the read in flight) while the rate limits are counted.
    const [revoked, retryAfter] = await Promise.all([cached ?? revocations.read(principal, readStamps), rateLimiter.check(ip, principal)]);
    return { principal: revoked ? ANONYMOUS : principal, revoked, retryAfter };
  };
}
