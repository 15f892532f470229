import { createHash } from 'node:crypto';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { ApolloServerPlugin } from '@apollo/server';
import responseCachePlugin from '@apollo/server-plugin-response-cache';
import type { RedisClient } from './redis.ts';
import { tenantKey } from './redis.ts';
import type { Context } from './context.ts';
import type { GraphQLResolveInfo } from 'graphql';
import type { CacheHint } from '@apollo/cache-control-types';

/** Apollo's KeyValueCache over Redis; a Redis failure reads as a miss and a skipped write. */
export class RedisKeyValueCache implements KeyValueCache<string> {
  constructor(private readonly redis: RedisClient) {}
  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(key)) ?? undefined;
    } catch {
      return undefined;
    }
  }
  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    try {
      const ttl = options?.ttl;
      if (ttl && ttl > 0) await this.redis.set(key, value, 'EX', Math.ceil(ttl));
    } catch {
      /* cache write skipped */
    }
  }
  async delete(key: string): Promise<boolean | void> {
    await this.redis.del(key).catch(() => undefined);
  }
}

/**
 * The tenant's cache generation for one subgraph is part of every cache key, so bumping it after
 * a write makes every cached answer of that tenant in that subgraph unreachable at once.
 */
export class CacheGenerations {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly subgraph: string,
  ) {}
  private key(tenantId: string | null) {
    return tenantKey(this.prefix, tenantId, 'gen', this.subgraph);
  }
  /** null when Redis is unreachable: the caller then bypasses the cache. */
  async current(tenantId: string | null): Promise<string | null> {
    try {
      return (await this.redis.get(this.key(tenantId))) ?? '0';
    } catch {
      return null;
    }
  }
  async bump(tenantId: string | null): Promise<void> {
    await this.redis.incr(this.key(tenantId)).catch(() => undefined);
  }
}

/** A cache key's digest of its parts (base64url SHA-256). */
export const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/**
 * Whole-response cache of a subgraph (queries only; errors are never cached). The key holds the
 * subgraph, tenant, sorted roles, the tenant's generation, the operation and its variables;
 * responses marked PRIVATE (per-account data) are also keyed by the account. A hit skips
 * shield and RLS, which is why the tenant and roles are in the key.
 */
export function responseCache(options: {
  redis: RedisClient;
  prefix: string;
  subgraph: string;
  generations: CacheGenerations;
}): ApolloServerPlugin<Context> {
  return responseCachePlugin<Context>({
    cache: new RedisKeyValueCache(options.redis),
    sessionId: async ({ contextValue }) =>
      contextValue.principal.accountId ? `${contextValue.principal.accountId}` : null,
    extraCacheKeyData: async ({ contextValue }) => {
      const generation = await options.generations.current(contextValue.principal.tenantId);
      contextValue.cacheGeneration = generation;
      const { principal, authorization } = contextValue;
      return {
        tenant: principal.tenantId,
        roles: [...principal.roles].sort(),
        generation,
        // A credential that is not one of our JWTs (the Saleor stand-in's App token) is part of
        // the key too, so a caller without it can never be served what it unlocked.
        credential: !principal.accountId && authorization ? sha256(authorization) : null,
      };
    },
    // Generation unknown means Redis is down: neither read nor write.
    shouldReadFromCache: async ({ contextValue }) => contextValue.cacheGeneration !== null,
    shouldWriteToCache: async ({ contextValue }) => contextValue.cacheGeneration !== null,
    generateCacheKey: ({ contextValue }, keyData) =>
      tenantKey(
        options.prefix,
        (contextValue as Context).principal.tenantId,
        'rc',
        options.subgraph,
        sha256(JSON.stringify(keyData)),
      ),
  });
}

/**
 * Sets a cache hint on this field. The cache-control plugin (which gives `info` its
 * `cacheControl`) runs only where the response cache does (kit/server.ts): with no response
 * cache there is nothing a hint could change, so the hint is dropped.
 */
export function setCacheHint(info: GraphQLResolveInfo, hint: CacheHint): void {
  (info as Partial<{ cacheControl: { setCacheHint(hint: CacheHint): void } }>).cacheControl?.setCacheHint(hint);
}

/** Bumps the tenant's generation after every mutation that succeeded (even partly). */
export function invalidateOnWrite(generations: CacheGenerations): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ operation, response, contextValue }) {
          if (operation?.operation !== 'mutation') return;
          if (response.body.kind !== 'single') return;
          const { data } = response.body.singleResult;
          if (!data) return;
          await generations.bump(contextValue.principal.tenantId);
          for (const tenantId of contextValue.touchedTenants) await generations.bump(tenantId);
        },
      };
    },
  };
}
