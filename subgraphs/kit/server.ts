import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DocumentNode } from 'graphql';
import type { z } from 'zod';
import { applyMiddleware } from 'graphql-middleware';
import { CacheGenerations, invalidateOnWrite, responseCache } from './cache.ts';
import { closeConnectionsAfterResponses } from './close-drain.ts';
import { fastifyTrustProxy } from './client-ip.ts';
import type { Context } from './context.ts';
import { withSettings, type SubgraphDeps } from './deps.ts';
import { redactError } from './errors.ts';
import { RequestContext } from './request-context.ts';
import { graphqlRequestHook, graphqlRequestLimitsOf, jsonLimitsOf, useBoundedJsonParser, variableLimits, variableLimitsOf } from './json-limits.ts';
import type { MigrationTarget } from './db/migrate.ts';
import { sharedReads } from './db/shared-reads.ts';
import { subgraphMetrics } from './metrics.ts';
import { permissionMiddleware, type Permissions } from './shield.ts';
import { isProduction } from './config.ts';
import { repoPath } from './paths.ts';
import { loadSchema } from './schema.ts';
import { withKitScalars } from './scalars.ts';
import { requestSpan, traceRequests } from './telemetry/requests.ts';

/**
 * Everything that makes one subgraph; the kit turns it into a running server. Its name, port and
 * schema file are written here once: `npm run compose` writes supergraph.yaml from them.
 */
export interface SubgraphDefinition<TLoaders = unknown, TSettings = unknown> {
  /** Its folder under subgraphs/, its schema file schema/<name>.graphql and its PostgreSQL schema. */
  name: string;
  /** Listen port; the gateway's routing URL is http://127.0.0.1:<port>/graphql. `<NAME>_PORT` / `<NAME>_URL` override. */
  port: number;
  typeDefs: DocumentNode;
  resolvers: unknown;
  permissions: Permissions;
  /** SQL migrations folder (schema `<name>`); none for a subgraph without tables. */
  migrations?: MigrationTarget;
  /**
   * Subgraphs whose migrations and demo data must come before this one's: those its tables
   * reference (a foreign key to auth.memberships) or its seed reads. The registry orders every
   * subgraph by these (loadSubgraphs); an unknown name or a cycle stops the start.
   */
  dependsOn?: readonly string[];
  /**
   * The subgraph's own settings: a zod object of environment variables with their defaults
   * (e.g. subgraphs/auth/settings.ts), read when its server is built; a bad value stops the start
   * with one line naming the variable. Resolvers read them as `ctx.deps.settings`; routes, seed
   * and background work as `deps.settings`. What every process shares stays in kit/config.ts.
   */
  settings?: z.ZodType<TSettings>;
  // (NoInfer below: the settings type comes from `settings` alone, not from a seed or route
  // function written for any subgraph's deps.)
  createLoaders(ctx: Omit<Context<TLoaders, TSettings>, 'loaders'>): TLoaders;
  /** Extra HTTP routes (e.g. the auth subgraph's JWKS). */
  routes?(app: FastifyInstance, deps: SubgraphDeps<NoInfer<TSettings>>): void | Promise<void>;
  /** Idempotent demo data, written at start when DEMO_DATA is on (from the process's shared deps). */
  seed?(deps: SubgraphDeps): Promise<void>;
  /**
   * Background work of the process (e.g. the CMS publishing scheduled pages): started when the
   * server starts listening, stopped (and awaited) when it closes.
   */
  background?(deps: SubgraphDeps<NoInfer<TSettings>>): BackgroundTask;
  /** Whole-response cache in Redis; on unless a subgraph opts out. */
  responseCache?: boolean;
}

/** A running background task of a subgraph; `stop` resolves once its work in flight is done. */
export interface BackgroundTask {
  stop(): Promise<void>;
}

/** What a subgraph's index.ts writes: the schema and migrations are found by its name when omitted. */
export type SubgraphSpec<TLoaders, TSettings> = Omit<SubgraphDefinition<TLoaders, TSettings>, 'typeDefs'> & {
  /** Default: schema/<name>.graphql. */
  typeDefs?: DocumentNode;
};

/**
 * A subgraph's definition, with its conventions filled in: the schema from schema/<name>.graphql
 * and the migrations from subgraphs/<name>/migrations/ when that folder exists.
 */
export function defineSubgraph<TLoaders, TSettings = undefined>(spec: SubgraphSpec<TLoaders, TSettings>): SubgraphDefinition<TLoaders, TSettings> {
  const migrations = repoPath(`subgraphs/${spec.name}/migrations`);
  return {
    ...spec,
    typeDefs: spec.typeDefs ?? loadSchema(spec.name),
    migrations: spec.migrations ?? (existsSync(migrations) ? { name: spec.name, dir: migrations } : undefined),
  };
}

export interface SubgraphServer {
  name: string;
  app: FastifyInstance;
  apollo: ApolloServer<Context>;
  generations: CacheGenerations;
  /** Starts listening; resolves to the GraphQL URL. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

function requestLog(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            if (!code || code === 'INTERNAL_SERVER_ERROR') {
              contextValue.log.error(
                { requestId: contextValue.requestId, err: error.originalError ?? error, path: error.path },
                'resolver error',
              );
            }
          }
        },
        async willSendResponse({ operationName, operation, response, metrics }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors?.length ?? 0 : 0;
          contextValue.log.info(
            {
              requestId: contextValue.requestId,
              tenant: contextValue.principal.tenantId,
              account: contextValue.principal.accountId,
              operation: operationName ?? operation?.operation ?? null,
              ms: Math.round((performance.now() - started) * 10) / 10,
              errors,
              cacheHit: metrics.responseCacheHit ?? false,
            },
            'graphql',
          );
        },
      };
    },
  };
}

/** Builds the HTTP server of one subgraph: POST /graphql, GET /health, plus its own routes. */
export async function createSubgraphServer<TLoaders, TSettings>(
  definition: SubgraphDefinition<TLoaders, TSettings>,
  sharedDeps: SubgraphDeps,
): Promise<SubgraphServer> {
  const deps = withSettings(definition, sharedDeps);
  const { config, db, redis, log } = deps;
  const subgraphSchema = buildSubgraphSchema({
    typeDefs: definition.typeDefs,
    resolvers: withKitScalars(definition.typeDefs, definition.resolvers as Record<string, unknown>) as GraphQLResolverMap<unknown>,
  });
  const schema = applyMiddleware(subgraphSchema, permissionMiddleware(subgraphSchema, definition.permissions));
  const generations = new CacheGenerations(redis, config.REDIS_PREFIX, definition.name);
  const cacheOn = definition.responseCache !== false && config.CACHE_TTL_SECONDS > 0;
  const apollo = new ApolloServer<Context>({
    schema,
    // Apollo's own messages ("Unexpected error processing request") as JSON lines, not console text.
    logger: log,
    parseOptions: { maxTokens: config.SUBGRAPH_MAX_TOKENS },
    introspection: config.INTROSPECTION ?? !isProduction(config),
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    formatError: (formatted) => redactError(formatted),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // Traces would go to Apollo's cloud via the gateway; we do not report usage anywhere.
      ApolloServerPluginInlineTraceDisabled(),
      // Cache hints only matter to the response cache; without it, the cache-control plugin's
      // per-field hook would cost 13% of a cold subgraph's CPU for nothing.
      ...(cacheOn
        ? [
            ApolloServerPluginCacheControl({ defaultMaxAge: config.CACHE_TTL_SECONDS, calculateHttpHeaders: false }),
            responseCache({ redis, prefix: config.REDIS_PREFIX, subgraph: definition.name, generations }),
          ]
        : [ApolloServerPluginCacheControlDisabled()]),
      invalidateOnWrite(generations),
      // Before the response cache keys on the variables and before they are coerced.
      variableLimits(variableLimitsOf(config)),
      requestLog(),
    ],
  });
  await apollo.start();

  const app = Fastify({ bodyLimit: config.BODY_LIMIT_BYTES, logger: false, trustProxy: fastifyTrustProxy(config.TRUST_PROXY) });
  closeConnectionsAfterResponses(app); // close() ends within a second of the last response (close-drain.ts)
  // A span per request joined to the gateway's trace (traceparent), when tracing is on (kit/telemetry).
  traceRequests(app, definition.name);
  // JSON bodies past JSON_MAX_DEPTH / JSON_MAX_ITEMS fail before JSON.parse (a 400 in microseconds).
  const jsonLimits = jsonLimitsOf(config);
  useBoundedJsonParser(app, jsonLimits);
  const handler = fastifyApolloHandler(apollo, {
    context: async (request) => {
      const principal = await deps.verifyToken(request.headers.authorization);
      if (principal.tenantId) requestSpan(request)?.setAttribute('bizosaas.tenant.id', principal.tenantId);
      const header = request.headers['x-request-id'];
      const requestId = typeof header === 'string' && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
      const scope = { tenantId: principal.tenantId, accountId: principal.accountId };
      const ctx = new RequestContext<TLoaders, TSettings>({ request, principal, requestId, log, deps, tx: sharedReads(db, scope) });
      ctx.loaders = definition.createLoaders(ctx);
      return ctx as Context;
    },
  });
  app.route({ method: ['GET', 'POST', 'OPTIONS'], url: '/graphql', preValidation: graphqlRequestHook(graphqlRequestLimitsOf(config)), handler });
  const metrics = subgraphMetrics();
  metrics.watchRedis(redis);
  app.addHook('onResponse', (request, reply, done) => {
    // Routes as registered (not raw URLs: bounded labels); unmatched paths count under "-".
    metrics.observeRequest(definition.name, request.routeOptions.url ?? '-', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/health', async (_request, reply) => {
    try {
      await db.ping();
      return { status: 'ok', subgraph: definition.name };
    } catch {
      return reply.code(503).send({ status: 'unavailable', subgraph: definition.name });
    }
  });
  await definition.routes?.(app, deps);
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) log.error({ route: request.routeOptions.url, err: error }, 'http error');
    const message = status === 500 ? 'Internal server error' : error.message;
    // A body refused on /graphql (too large, not JSON, past a JSON limit) in the GraphQL shape.
    if (request.routeOptions.url === '/graphql') {
      const code = status === 500 ? 'INTERNAL_SERVER_ERROR' : status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
      return reply.code(status).send({ errors: [{ message, extensions: { code } }] });
    }
    return reply.code(status).send({ error: message });
  });

  let background: BackgroundTask | undefined;
  return {
    name: definition.name,
    app,
    apollo,
    generations,
    async listen(port = definition.port, host = config.HOST) {
      await app.listen({ port, host });
      background ??= definition.background?.(deps);
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      return `http://${host}:${actualPort}/graphql`;
    },
    async close() {
      const task = background;
      background = undefined;
      await task?.stop();
      await app.close();
      await apollo.stop();
    },
  };
}
