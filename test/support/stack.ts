import { SignJWT, importJWK, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import type { SubgraphDefinition, SubgraphServer } from '../../subgraphs/kit/server.ts';
import { createSubgraphServer } from '../../subgraphs/kit/server.ts';
import type { Role } from '../../subgraphs/kit/principal.ts';
import { createTestBackends, type TestBackends } from './deps.ts';
import { gql } from './graphql.ts';

export const DEMO_PASSWORD = 'bizosaas-demo-2026';

export interface RunningSubgraphs {
  backends: TestBackends;
  servers: Record<string, SubgraphServer>;
  urls: Record<string, string>;
  /** Logs in through the auth subgraph and returns the access token. */
  login(email: string, tenantSlug?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the given subgraphs in-process on free ports against fresh backends, with migrations
 * and demo data applied: what `npm start` does, minus the gateway.
 */
export async function startSubgraphs(
  definitions: SubgraphDefinition<any>[],
  env: Record<string, string> = {},
): Promise<RunningSubgraphs> {
  const backends = await createTestBackends(env);
  await backends.migrate(definitions.flatMap((d) => (d.migrations ? [d.migrations] : [])));
  const servers: Record<string, SubgraphServer> = {};
  const urls: Record<string, string> = {};
  for (const definition of definitions) {
    const deps = backends.deps(definition.name);
    await definition.seed?.(deps);
    servers[definition.name] = await createSubgraphServer(definition, deps);
    urls[definition.name] = await servers[definition.name]!.listen(0, '127.0.0.1');
  }
  return {
    backends,
    servers,
    urls,
    async login(email, tenantSlug) {
      const result = await gql(
        urls.auth!,
        'mutation($email: String!, $password: String!, $tenantSlug: String) { login(email: $email, password: $password, tenantSlug: $tenantSlug) { accessToken } }',
        { email, password: DEMO_PASSWORD, tenantSlug },
      );
      const token = result.data?.login?.accessToken;
      if (!token) throw new Error(`login failed for ${email}: ${JSON.stringify(result.errors)}`);
      return token as string;
    },
    async close() {
      for (const server of Object.values(servers)) await server.close();
      await backends.close();
    },
  };
}

/** Signs a token directly (to forge, expire or mis-address one in tests). */
export async function signToken(
  privateJwk: JWK,
  claims: { sub: string; tid: string; roles: Role[]; iss?: string; aud?: string; expiresIn?: string | number },
): Promise<string> {
  const key = await importJWK(privateJwk, 'EdDSA');
  return new SignJWT({ tid: claims.tid, roles: claims.roles })
    .setProtectedHeader({ alg: 'EdDSA', kid: privateJwk.kid })
    .setIssuer(claims.iss ?? 'https://auth.bizosaas.local')
    .setAudience(claims.aud ?? 'bizosaas-supergraph')
    .setSubject(claims.sub)
    .setIssuedAt(Math.floor(Date.now() / 1000) - 60)
    .setExpirationTime(claims.expiresIn ?? '10m')
    .setJti(randomUUID())
    .sign(key);
}

export interface RunningSupergraph extends RunningSubgraphs {
  gateway: import('../../gateway/server.ts').Gateway;
  /** The gateway's GraphQL URL. */
  graphql: string;
}

/**
 * Every subgraph of the registry plus the gateway, in-process on free ports, against fresh
 * backends: the same entry points users have (HTTP to the gateway).
 */
export async function startSupergraph(env: Record<string, string> = {}): Promise<RunningSupergraph> {
  const { loadSubgraphs } = await import('../../subgraphs/kit/registry.ts');
  const { createGateway } = await import('../../gateway/server.ts');
  const subgraphs = await startSubgraphs(await loadSubgraphs(), env);
  const deps = subgraphs.backends.deps('gateway');
  const gateway = await createGateway({
    config: subgraphs.backends.config,
    subgraphUrls: subgraphs.urls,
    redis: deps.redis,
    verifyToken: deps.verifyToken,
  });
  const base = await gateway.listen(0, '127.0.0.1');
  return {
    ...subgraphs,
    gateway,
    graphql: `${base}/graphql`,
    async close() {
      await gateway.close();
      await subgraphs.close();
    },
  };
}
