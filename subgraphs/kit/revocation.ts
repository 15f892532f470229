import { LRUCache } from 'lru-cache';
import type { Logger } from './logger.ts';
import { ANONYMOUS, type Principal, type TokenVerifier } from './principal.ts';
import { bySlot, tenantKey, type RedisClient } from './redis.ts';

/*
 * Revocation of access tokens before they expire (ARCHITECTURE.md, "Tenancy and auth").
 *
 * An access token is a signed JWT that proves itself for its whole lifetime (15 minutes). To end
 * it sooner, the auth subgraph writes a stamp in Redis, "tokens issued before T are void", for:
 * - a session (a refresh-token family; the token's `sid` claim): logout, a rotated refresh token
 *   presented again, a family revoked because its membership ended;
 * - an account in a tenant (`sub` + `tid`): the member removed, their role changed, their
 *   password changed (in every tenant of the account).
 * A token is refused when a stamp of its session or of its account in its tenant is later than
 * its `iat` (which carries milliseconds, so a token issued right after the stamp, by the refresh
 * that picks up a new role or the login with a new password, is not caught by it). Both keys
 * carry the tenant as hash tag (one MGET, one Redis Cluster slot) and expire once every token
 * they could void has expired (the access-token lifetime after T).
 *
 * Readers (the gateway, and every subgraph: tokens are never trusted for coming from the gateway)
 * keep each token's answer for FRESH_MS, so a revocation takes effect within FRESH_MS plus one
 * Redis round trip, about half a second. A token found revoked stays revoked in memory until it
 * expires. While Redis does not answer, a token with no answer of its own is let through (see
 * RevocationCache.read): revocation then falls back to what it was before, the token's expiry.
 */

/** How long a reader believes Redis's answer about one token. */
export const FRESH_MS = 500;
/** Tokens a reader remembers (an entry is some 200 bytes). */
const MAX_TOKENS = 50_000;
/** A stamp outlives the access-token lifetime by this much (clocks of auth processes differ a little). */
const STAMP_LEEWAY_MS = 60_000;
/** Stamps Redis did not take are tried again this often, until written or useless. */
const RETRY_MS = 1_000;
/** Stamps an auth process keeps for a retry while Redis is down. */
const MAX_PENDING = 100_000;

export const sessionStampKey = (prefix: string, tenantId: string, sessionId: string) =>
  tenantKey(prefix, tenantId, 'revoked', 'session', sessionId);
export const accountStampKey = (prefix: string, tenantId: string, accountId: string) =>
  tenantKey(prefix, tenantId, 'revoked', 'account', accountId);

/** What to revoke: one session, or one account's tokens in one tenant. */
export type Revocation = { tenantId: string; sessionId: string } | { tenantId: string; accountId: string };

export interface StampOptions {
  /** REDIS_PREFIX. */
  prefix: string;
  /** The access-token lifetime: a stamp is kept that long. */
  accessTokenTtlSeconds: number;
  log?: Pick<Logger, 'warn'>;
}

/**
 * Stamps never lower: of two revocations of one key, the later wins whatever order they arrive
 * in (a stamp retried after an outage must not undo a newer one). KEYS[1]: the stamp; ARGV: T
 * (ms epoch) and the milliseconds to keep it.
 */
const STAMP_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1`;

interface StampPipeline {
  revocationStamp(key: string, at: number, keepMs: number): StampPipeline;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** Per Redis client (per process): stamps waiting for Redis to answer again. */
const pendingStamps = new WeakMap<RedisClient, { stamps: Map<string, { at: number; until: number }>; timer?: NodeJS.Timeout }>();
const scripted = new WeakSet<RedisClient>();

async function writeStamps(redis: RedisClient, stamps: readonly { key: string; at: number; until: number }[]): Promise<boolean[]> {
  if (!scripted.has(redis)) {
    redis.defineCommand('revocationStamp', { numberOfKeys: 1, lua: STAMP_SCRIPT });
    scripted.add(redis);
  }
  const now = Date.now();
  const written = stamps.map(() => false);
  // One pipeline (on a Redis Cluster, one per tenant: a password change stamps every tenant of the account).
  await Promise.all(
    bySlot(redis, stamps, (stamp) => stamp.key).map(async (group) => {
      try {
        const pipeline = redis.pipeline() as unknown as StampPipeline;
        for (const { item } of group) pipeline.revocationStamp(item.key, item.at, Math.max(1, item.until - now));
        const replies = (await pipeline.exec()) ?? [];
        group.forEach(({ index }, i) => (written[index] = Boolean(replies[i]) && !replies[i]![0]));
      } catch {
        // Not written: kept for a retry (revokeAccessTokens).
      }
    }),
  );
  return written;
}

/**
 * Writes revocation stamps dated now, awaited (a logout's answer means its token is being
 * refused). A stamp Redis does not take (unreachable) is kept in this process and written as
 * soon as Redis answers again, for as long as it can still void a token; the revocation in
 * PostgreSQL (refresh tokens, memberships) never waits for it.
 */
export async function revokeAccessTokens(redis: RedisClient, options: StampOptions, revocations: readonly Revocation[], at = Date.now()) {
  if (!revocations.length) return;
  const until = at + options.accessTokenTtlSeconds * 1000 + STAMP_LEEWAY_MS;
  const stamps = revocations.map((r) => ({
    key: 'sessionId' in r ? sessionStampKey(options.prefix, r.tenantId, r.sessionId) : accountStampKey(options.prefix, r.tenantId, r.accountId),
    at,
    until,
  }));
  const written = await writeStamps(redis, stamps);
  const failed = stamps.filter((_, i) => !written[i]);
  if (!failed.length) return;
  options.log?.warn({ stamps: failed.length }, 'revocation stamps not written (Redis unavailable): retried until Redis answers');
  let pending = pendingStamps.get(redis);
  if (!pending) pendingStamps.set(redis, (pending = { stamps: new Map() }));
  for (const { key, at: stampAt, until: stampUntil } of failed) {
    const known = pending.stamps.get(key);
    if (known && known.at >= stampAt) continue;
    if (!known && pending.stamps.size >= MAX_PENDING) pending.stamps.delete(pending.stamps.keys().next().value!);
    pending.stamps.set(key, { at: stampAt, until: stampUntil });
  }
  pending.timer ??= setInterval(() => void retryStamps(redis), RETRY_MS).unref();
}

async function retryStamps(redis: RedisClient) {
  const pending = pendingStamps.get(redis);
  if (!pending) return;
  const now = Date.now();
  for (const [key, { until }] of pending.stamps) if (until <= now) pending.stamps.delete(key);
  const stamps = [...pending.stamps].map(([key, stamp]) => ({ key, ...stamp }));
  const written = stamps.length ? await writeStamps(redis, stamps) : [];
  stamps.forEach(({ key, at }, i) => {
    if (written[i] && pending.stamps.get(key)?.at === at) pending.stamps.delete(key);
  });
  if (!pending.stamps.size) {
    clearInterval(pending.timer);
    pending.timer = undefined;
  }
}

/** The stamps that can void this token: its session's (when it names one) and its account's in its tenant. */
export function stampKeys(prefix: string, principal: Principal): string[] {
  const { tenantId, accountId, sessionId } = principal;
  if (!tenantId || !accountId) return [];
  const account = accountStampKey(prefix, tenantId, accountId);
  return sessionId ? [sessionStampKey(prefix, tenantId, sessionId), account] : [account];
}

/** Whether stamps read from Redis void a token issued at `issuedAt` (ms epoch). */
export const voids = (stamps: readonly (string | null | undefined)[], issuedAt: number) =>
  stamps.some((stamp) => stamp != null && Number(stamp) > issuedAt);

interface Entry {
  revoked: boolean;
  /** When Redis last answered for this token (or failed to). */
  checkedAt: number;
  /** A read in flight, shared by the requests that need it. */
  reading: Promise<boolean> | null;
}

/** Reads stamp keys: their values in order, or null when Redis did not answer. */
export type StampReader = (keys: string[]) => Promise<(string | null)[] | null>;

/**
 * What a process knows of the tokens it has seen: revoked or not, as Redis said at most FRESH_MS
 * ago. `cached` answers from memory when it can; otherwise the caller reads through `read`,
 * with the reader of its choice (the gateway's rides on its rate-limit round trip).
 */
export class RevocationCache {
  private readonly entries = new LRUCache<string, Entry>({ max: MAX_TOKENS });
  private lastWarning = 0;

  constructor(
    private readonly prefix: string,
    private readonly options: { freshMs?: number; log?: Pick<Logger, 'warn'> } = {},
  ) {}

  /**
   * From memory: true (revoked), false (not, as Redis said less than FRESH_MS ago), the read in
   * flight for this token, or null: Redis must be read first (`read`). Only for a token's
   * principal (with `tokenId`).
   */
  cached(principal: Principal): boolean | Promise<boolean> | null {
    const entry = this.entries.get(principal.tokenId!);
    if (!entry) return null;
    if (entry.revoked) return true;
    if (Date.now() - entry.checkedAt < (this.options.freshMs ?? FRESH_MS)) return false;
    return entry.reading;
  }

  /** The keys `read` passes to its reader. */
  keysOf(principal: Principal): string[] {
    return stampKeys(this.prefix, principal);
  }

  /**
   * Reads the token's stamps with `reader` and remembers the answer. Redis not answering counts
   * as "not revoked" (fail open) and is believed for FRESH_MS like an answer, so a Redis outage
   * costs no request a wait or a failure: refusing every token instead would log every user out
   * for as long as Redis is down, while a token revoked in that time keeps working at most until
   * it expires, as before revocation existed (auth writes the stamps it could not once Redis
   * answers). Tokens already found revoked stay revoked.
   */
  read(principal: Principal, reader: StampReader): Promise<boolean> {
    const tokenId = principal.tokenId!;
    const known = this.entries.get(tokenId);
    const entry: Entry = known ?? { revoked: false, checkedAt: 0, reading: null };
    if (entry.revoked) return Promise.resolve(true);
    if (entry.reading) return entry.reading;
    const ttl = Math.max(1, principal.expiresAt - Date.now());
    const reading = (async () => {
      const stamps = await reader(this.keysOf(principal)).catch(() => null);
      if (stamps === null) this.warnUnreachable();
      entry.revoked = stamps !== null && voids(stamps, principal.issuedAt);
      entry.checkedAt = Date.now();
      entry.reading = null;
      return entry.revoked;
    })();
    entry.reading = reading;
    if (!known) this.entries.set(tokenId, entry, { ttl });
    return reading;
  }

  private warnUnreachable() {
    const now = Date.now();
    if (now - this.lastWarning < 30_000) return;
    this.lastWarning = now;
    this.options.log?.warn('revocation stamps unreadable (Redis unavailable): tokens are let through until they expire');
  }
}

/**
 * The stamp reader of a process: the reads asked for in one turn of the event loop go to Redis
 * together, one MGET per tenant (a tenant's keys share its hash tag, so each MGET stays in one
 * Redis Cluster slot). A process serving many callers reads for most of its requests (each
 * token's answer is fresh for FRESH_MS only): with a round trip of its own each, a read cost the
 * gateway 84 µs of CPU per request where the rest of its auth path costs 2-4 µs
 * (test/bench/auth-path.ts, 5,000 callers in turn); batched, concurrent requests share one.
 */
export function batchedStampReader(redis: RedisClient): StampReader {
  type Read = { keys: string[]; resolve: (values: (string | null)[] | null) => void };
  let batch: Map<string, Read[]> | null = null;
  const readTogether = async (reads: Read[]) => {
    let values: (string | null)[] | null = null;
    try {
      values = await redis.mget(...reads.flatMap((read) => read.keys));
    } catch {
      // Unanswered: every read of the batch is (see RevocationCache.read).
    }
    let at = 0;
    for (const read of reads) read.resolve(values ? values.slice(at, (at += read.keys.length)) : null);
  };
  const flush = () => {
    const reads = batch!;
    batch = null;
    for (const group of reads.values()) void readTogether(group);
  };
  return (keys) =>
    new Promise((resolve) => {
      if (!keys.length) return resolve([]);
      if (!batch) {
        batch = new Map();
        setImmediate(flush);
      }
      // The keys of one call are of one tenant (stampKeys): grouped by their hash tag.
      const tag = /\{[^}]*\}/.exec(keys[0]!)?.[0] ?? '';
      const group = batch.get(tag);
      if (group) group.push({ keys, resolve });
      else batch.set(tag, [{ keys, resolve }]);
    });
}

/**
 * A token verifier that also refuses revoked tokens (as anonymous, like an expired one): what
 * the subgraphs use. A token that is already in its cache and fresh costs no Redis round trip.
 */
export function checkingRevocation(verify: TokenVerifier, redis: RedisClient, prefix: string, log?: Pick<Logger, 'warn'>): TokenVerifier {
  const cache = new RevocationCache(prefix, { log });
  const reader = batchedStampReader(redis);
  return async (authorization) => {
    const principal = await verify(authorization);
    if (!principal.tokenId) return principal;
    const revoked = cache.cached(principal) ?? cache.read(principal, reader);
    return (await revoked) ? ANONYMOUS : principal;
  };
}
