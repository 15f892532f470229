import type { Gateway } from '../../gateway/server.ts';
import type { GatewayConfig as Config } from '../../gateway/config.ts';
import type { SubgraphDefinition, SubgraphServer } from '../../subgraphs/kit/server.ts';
import { createSubgraphServer } from '../../subgraphs/kit/server.ts';
import { createTestBackends, type TestBackends } from './deps.ts';
import { applyDemoData, demoTemplateFor } from './demo-template.ts';
import { login } from './graphql.ts';
import { freePorts } from './ports.ts';
import { uniqueSuffix } from './services.ts';
import { teardownStep } from './teardown.ts';

export interface RunningSubgraphs {
  backends: TestBackends;
  servers: Record<string, SubgraphServer>;
  urls: Record<string, string>;
  /** Logs in (demo password) through the auth subgraph and returns the access token. */
  login(email: string, tenantSlug?: string): Promise<string>;
  /** The access token of `email` (demo password), logged in once and reused by later calls. */
  token(email: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the given subgraphs in-process on free ports against fresh backends, with migrations
 * and demo data applied (a copy of the run's demo database where it holds the same: see
 * demo-template.ts): what `npm start` does, minus the gateway.
 */
export async function startSubgraphs(
  definitions: SubgraphDefinition<any>[],
  env: Record<string, string> = {},
  options: { embedded?: boolean } = {},
): Promise<RunningSubgraphs> {
  const template = options.embedded ? null : await demoTemplateFor(definitions, env);
  const backends = await createTestBackends(env, { ...options, template: template?.name });
  if (!template) await applyDemoData(backends, definitions);
  const servers: Record<string, SubgraphServer> = {};
  const urls: Record<string, string> = {};
  for (const definition of definitions) {
    const deps = backends.deps(definition.name);
    servers[definition.name] = await createSubgraphServer(definition, deps);
    urls[definition.name] = await servers[definition.name]!.listen(0, '127.0.0.1');
    // Where the subgraphs after it reach auth (the agents' run credentials), as AUTH_URL says in production.
    if (definition.name === 'auth') backends.env.AUTH_URL ??= urls.auth!;
  }
  const tokens = new Map<string, Promise<string>>();
  return {
    backends,
    servers,
    urls,
    login: (email, tenantSlug) => login(urls.auth!, email, { tenantSlug }),
    token(email) {
      if (!tokens.has(email)) tokens.set(email, login(urls.auth!, email));
      return tokens.get(email)!;
    },
    async close() {
      for (const server of Object.values(servers)) await teardownStep(`closing the ${server.name} subgraph`, () => server.close(), () => connectionsOf(server));
      await backends.close();
    },
  };
}

export interface RunningSupergraph extends RunningSubgraphs {
  gateway: Gateway;
  /** The gateway's base URL (the REST shim is under `${base}/api/brain`). */
  base: string;
  /** The gateway's GraphQL URL. */
  graphql: string;
  /**
   * Another gateway over these subgraphs (or the URLs given), with config overrides (a rate
   * limit, say) and rate-limit counters of its own; the caller closes it.
   */
  startGateway(options?: { config?: Partial<Config>; subgraphUrls?: Record<string, string> }): Promise<{ gateway: Gateway; base: string }>;
}

/**
 * Every subgraph of the registry plus the gateway, in-process on free ports, against fresh
 * backends: the same entry points users have (HTTP to the gateway).
 */
export async function startSupergraph(env: Record<string, string> = {}): Promise<RunningSupergraph> {
  const { loadSubgraphs } = await import('../../subgraphs/kit/registry.ts');
  const { createGateway } = await import('../../gateway/server.ts');
  // The gateway's port before the subgraphs start: agent runs call the gateway (AGENTS_GATEWAY_URL).
  const [gatewayPort] = await freePorts(1);
  const subgraphs = await startSubgraphs(await loadSubgraphs(), { AGENTS_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}/graphql`, ...env });
  const deps = subgraphs.backends.deps('gateway');
  const { config } = subgraphs.backends;
  const startGateway = async (options: { config?: Partial<Config>; subgraphUrls?: Record<string, string> } = {}, port = 0) => {
    const gateway = await createGateway({
      config: { ...config, ...options.config },
      subgraphUrls: options.subgraphUrls ?? subgraphs.urls,
      redis: deps.redis,
      // As in production: the gateway verifies tokens and checks revocation itself.
      verifyToken: subgraphs.backends.verifyToken,
    });
    return { gateway, base: await gateway.listen(port, '127.0.0.1') };
  };
  const { gateway, base } = await startGateway({}, gatewayPort);
  return {
    ...subgraphs,
    gateway,
    base,
    graphql: `${base}/graphql`,
    startGateway: (options = {}) =>
      startGateway({ ...options, config: { REDIS_PREFIX: `${config.REDIS_PREFIX}${uniqueSuffix()}:`, ...options.config } }),
    async close() {
      await teardownStep('closing the gateway', () => gateway.close(), () => connectionsOf(gateway));
      await subgraphs.close();
    },
  };
}

/** A server's open connections (Node's count), for a teardown step that takes too long. */
function connectionsOf(server: { app: { server: object } }): string {
  return `open connections ${(server.app.server as { _connections?: number })._connections}`;
}
