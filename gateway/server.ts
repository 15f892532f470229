import './flat-exports.ts'; // first: before any @apollo package loads
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin, type GraphQLRequest } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify, { type FastifyInstance, type FastifyRequest, type RouteHandlerMethod } from 'fastify';
import { GraphQLError, type FormattedExecutionResult } from 'graphql';
import { isProduction } from '../subgraphs/kit/config.ts';
import type { GatewayConfig as Config } from './config.ts';
import { closeConnectionsAfterResponses } from '../subgraphs/kit/close-drain.ts';
import { clientIp, fastifyTrustProxy } from '../subgraphs/kit/client-ip.ts';
import { CLIENT_ERROR_CODES } from '../subgraphs/kit/errors.ts';
import { graphqlRequestHook, graphqlRequestLimitsOf, jsonLimitsOf, useBoundedJsonParser, variableLimits, variableLimitsOf } from '../subgraphs/kit/json-limits.ts';
import { createLogger, type Logger } from '../subgraphs/kit/logger.ts';
import { ANONYMOUS, createTokenVerifier, type Principal, type TokenVerifier } from '../subgraphs/kit/principal.ts';
import { createRedis, redisConfigured, type RedisClient } from '../subgraphs/kit/redis.ts';
import { ClientGoneError, createAdmission, OverloadedError } from './admission.ts';
import { createAuthenticate } from './auth.ts';
import type { GatewayContext } from './context.ts';
import { errorBody, formatGatewayError, rootCause } from './errors.ts';
import { registerHealthRoutes } from './health.ts';
import { registerRunEvents } from './run-events.ts';
import { registerRestShim } from './rest/register.ts';
import { saleorAccess } from './saleor-access.ts';
import { registerSaleorWebhooks, SALEOR_WEBHOOK_PATH } from './saleor-webhooks.ts';
import { createIde } from './ide.ts';
import { registerCors } from './cors.ts';
import { createSupergraphReloader, supergraphOrigin, type ReloadOutcome } from './hot-reload.ts';
import { queryLimits } from './limits.ts';
import { trustedDocuments } from './trusted-documents.ts';
import { createMetrics, type GatewayMetrics } from './metrics.ts';
import { createRateLimiter } from './rate-limit.ts';
import { createSubgraphAgent, SubgraphClient } from './subgraph-client.ts';
import { readSupergraphConfig, resolveSubgraphUrls, SUPERGRAPH_SDL } from './supergraph.ts';
import { operationDedup } from './operation-dedup.ts';
import { operationSpanPlugin } from './operation-span.ts';
import { stageQueryPlan } from './plan-stages.ts';
import { traceRequests } from '../subgraphs/kit/telemetry/requests.ts';
import { tracingEnabled } from '../subgraphs/kit/telemetry/tracing.ts';

// @apollo/gateway sends anonymous telemetry unless this is set before it is constructed.
process.env.APOLLO_TELEMETRY_DISABLED = 'true';

/** Query plans cached per operation; the default (30 MiB) is small for a graph of Saleor's size. */
const QUERY_PLAN_CACHE_MIB = 64;
/** Ops endpoints: not rate limited, not counted as API traffic, logged at debug. */
const OPS_ROUTES = new Set(['/health', '/ready', '/metrics']);
const REQUEST_ID = /^[\w.:-]{1,128}$/;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    /** Set once Apollo built the context; the access log reads the operation name from it. */
    gatewayContext: GatewayContext | null;
  }
}

export interface GatewayOptions {
  config: Config;
  /** A composed supergraph, never reloaded. Default: SUPERGRAPH_FILE (schema/supergraph.graphql), or, with SALEOR_API_URL, introspect and compose (gateway/hot-reload.ts). */
  supergraphSdl?: string;
  /** Subgraph name -> URL. Default: supergraph.yaml routing_url, `<NAME>_URL`, SALEOR_API_URL. */
  subgraphUrls?: Record<string, string>;
  /** Environment for `<NAME>_URL` overrides (default process.env). */
  env?: Record<string, string | undefined>;
  redis?: RedisClient;
  log?: Logger;
  /** Default: the auth subgraph's JWKS (AUTH_JWKS_URL or derived from its routing URL). */
  verifyToken?: TokenVerifier;
}

export interface Gateway {
  app: FastifyInstance;
  apollo: ApolloServer<GatewayContext>;
  metrics: GatewayMetrics;
  subgraphUrls: Readonly<Record<string, string>>;
  /** Runs an operation as the HTTP request's caller (for the REST shim): same context, limits and redaction. */
  execute(request: FastifyRequest, operation: GraphQLRequest): Promise<FormattedExecutionResult>;
  /** Loads the supergraph again (file or subgraphs' SDL); the entry points call it on SIGHUP. */
  reloadSupergraph(trigger?: string): Promise<ReloadOutcome>;
  /** Starts listening; resolves to the base URL (`http://host:port`). */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

function jwksUrl(config: Config, urls: Record<string, string>): string {
  if (config.AUTH_JWKS_URL) return config.AUTH_JWKS_URL;
  return new URL('/.well-known/jwks.json', urls.auth ?? 'http://127.0.0.1:8007/graphql').toString();
}

async function redisReady(redis: RedisClient, timeoutMs: number) {
  // (ioredis-mock, the in-memory default, has no status and is always usable.)
  if (!['connecting', 'connect', 'reconnecting', 'wait'].includes(redis.status)) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    redis.once('ready', () => (clearTimeout(timer), resolve()));
  });
}

/** The client hung up (its socket is gone): nothing it asked for is worth starting. */
const clientGone = (request: FastifyRequest) => request.raw.socket?.destroyed === true;

/** Logs the originals of the errors formatError redacts, and records the operation name. */
function requestPlugin(log: Logger): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, operationName, contextValue, request }) {
          contextValue.trace.operationName = operationName ?? null;
          contextValue.trace.operationType = operation?.operation ?? null;
          // No operation of the document is the one asked for: the client's mistake, a 400 (Apollo
          // Gateway's own error for it, code INVALID_GRAPHQL, came out as a redacted 500).
          if (!operation) {
            const name = request.operationName;
            throw new GraphQLError(
              name ? `Unknown operation named "${name.slice(0, 100)}".` : 'Must provide operation name if query contains multiple operations.',
              { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } },
            );
          }
        },
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            // Errors written for clients (bad query, auth) are the client's business; log the rest.
            if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code) && code !== 'SUBGRAPH_UNAVAILABLE') continue;
            log.warn(
              {
                requestId: contextValue.requestId,
                serviceName: error.extensions?.serviceName,
                code,
                path: error.path,
                message: error.message,
                cause: rootCause(error),
              },
              'graphql error',
            );
          }
        },
      };
    },
  };
}

/**
 * The gateway: Fastify (HTTP, limits on the body, request id, auth, rate limit, ops endpoints)
 * in front of Apollo Server (query limits, redaction) in front of Apollo Gateway (query plans,
 * subgraph fetches through SubgraphClient).
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const production = isProduction(config);
  const log = options.log ?? createLogger(config, 'gateway');
  const urls = options.subgraphUrls ?? resolveSubgraphUrls(readSupergraphConfig().subgraphs, options.env);
  const ownRedis = !options.redis && redisConfigured(config);
  const redis = options.redis ?? createRedis(config, log);
  // Commands fail fast until Redis is connected (no offline queue), which would leave the first
  // requests unthrottled: give it a moment at start, but never refuse to start without it.
  await redisReady(redis, 2_000);
  const verifyToken =
    options.verifyToken ??
    createTokenVerifier({ issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE, keys: jwksUrl(config, urls) });
  const rateLimiter = createRateLimiter(redis, config);
  const authenticate = createAuthenticate({ verifyToken, rateLimiter, redis, redisPrefix: config.REDIS_PREFIX, log });
  const metrics = createMetrics();
  const admission = createAdmission({
    min: config.GATEWAY_CONCURRENCY_MIN,
    max: config.GATEWAY_CONCURRENCY_MAX,
    maxQueue: config.GATEWAY_QUEUE_MAX,
    queueTimeoutMs: config.GATEWAY_QUEUE_TIMEOUT_MS,
    standingTargetMs: config.GATEWAY_QUEUE_TARGET_MS,
    windowMs: 100,
    onShed: metrics.observeShed,
    onStart: metrics.observeAdmissionWait,
  });
  metrics.watchAdmission(admission);
  const agent = createSubgraphAgent(config.GATEWAY_SUBGRAPH_CONNECTIONS);
  // /ready's checks get connections of their own: on the fetches' pool they would queue behind
  // GraphQL fetches whenever a slow subgraph holds all of its connections.
  const healthAgent = createSubgraphAgent(2);

  const supergraph = createSupergraphReloader(
    supergraphOrigin(
      { supergraphSdl: options.supergraphSdl, saleorApiUrl: config.SALEOR_API_URL, urls },
      {
        file: config.SUPERGRAPH_FILE ? resolve(config.SUPERGRAPH_FILE) : SUPERGRAPH_SDL,
        watch: config.SUPERGRAPH_WATCH ?? !production,
        debounceMs: config.SUPERGRAPH_WATCH_DEBOUNCE_MS,
        pollMs: config.SUPERGRAPH_POLL_MS,
        introspectPollMs: config.SUPERGRAPH_INTROSPECT_POLL_MS,
      },
    ),
    { log, registry: metrics.registry },
  );
  const gateway = new ApolloGateway({
    supergraphSdl: supergraph,
    buildService: ({ name, url }) =>
      new SubgraphClient({
        name,
        url: urls[name] ?? url!,
        agent,
        timeoutMs: config.SUBGRAPH_TIMEOUT_MS,
        // Saleor gets the App token, never our users' JWTs.
        serviceToken: name === 'saleor' ? config.SALEOR_APP_TOKEN : undefined,
        dedup: config.GATEWAY_FETCH_DEDUP,
        merge: config.GATEWAY_FETCH_MERGE,
        onFetch: metrics.observeSubgraph,
        onDeduplicated: metrics.countDeduplicated,
        onMerged: metrics.countMerged,
      }),
    // Plans in stages, so the fetches to one subgraph start together and go as one request.
    experimental_didResolveQueryPlan: config.GATEWAY_FETCH_MERGE ? ({ queryPlan }) => stageQueryPlan(queryPlan) : undefined,
    experimental_approximateQueryPlanStoreMiB: QUERY_PLAN_CACHE_MIB,
    logger: log,
  });

  const limits = queryLimits(config);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger: log,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: production,
    introspection: config.INTROSPECTION ?? !production,
    stopOnTerminationSignals: false, // index.ts owns shutdown
    formatError: formatGatewayError,
    validationRules: [...limits.validationRules],
    parseOptions: limits.parseOptions,
    plugins: [
      // First: resolves document ids and refuses untrusted documents before the others see them.
      trustedDocuments(config, log),
      ...limits.plugins,
      variableLimits(variableLimitsOf(config)),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      requestPlugin(log),
      // The operation's name, type, document id and tenant on the request's span (tracing on only).
      ...(tracingEnabled() ? [operationSpanPlugin()] : []),
      // Saleor's App-only root fields: platform administrators only (before planning).
      saleorAccess(gateway),
    ],
  });
  await apollo.start();

  const ide = production ? null : await createIde({ password: config.DEMO_PASSWORD });

  const app = Fastify({
    logger: false,
    trustProxy: fastifyTrustProxy(config.GATEWAY_TRUST_PROXY),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // A slow or stalled upload cannot hold a connection forever.
    requestTimeout: 60_000,
    genReqId: (req) => {
      const header = req.headers['x-request-id'];
      return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    },
  });
  closeConnectionsAfterResponses(app); // close() ends within a second of the last response (kit/close-drain.ts)
  // A span per request, joined to the client's traceparent (first: it wraps every route's handler).
  traceRequests(app, 'gateway');
  // Browser frontends on other origins (CORS_ORIGINS; none by default), and Apollo Sandbox outside production (cors.ts).
  await registerCors(app, { origins: config.CORS_ORIGINS, production });
  // JSON bodies past JSON_MAX_DEPTH / JSON_MAX_ITEMS fail before JSON.parse (a 400 in microseconds).
  const jsonLimits = jsonLimitsOf(config);
  useBoundedJsonParser(app, jsonLimits);
  app.decorateRequest('principal', null as unknown as Principal);
  app.decorateRequest('gatewayContext', null);

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    request.principal = ANONYMOUS;
    if (OPS_ROUTES.has(request.routeOptions.url ?? '') || request.method === 'OPTIONS') return;
    // Under overload a GraphQL request is refused before its token is verified, its rate limit
    // counted or its body read: a refusal must cost next to nothing (admission.ts; the handler's
    // admission.run checks again).
    if (request.routeOptions.url === '/graphql') {
      const refused = admission.refuse();
      if (refused) throw refused;
    }
    const { principal, revoked, retryAfter } = await authenticate(request.headers.authorization, clientIp(request));
    request.principal = principal;
    // A revoked token goes no further: no subgraph (nor the CMS's media routes) sees it.
    if (revoked) delete request.headers.authorization;
    if (retryAfter !== null) {
      return reply
        // (Saleor drops a webhook answered 4xx and retries one answered 5xx.)
        .code(request.routeOptions.url === SALEOR_WEBHOOK_PATH ? 503 : 429)
        .header('retry-after', String(retryAfter))
        .send(errorBody(`Too many requests. Try again in ${retryAfter} seconds.`, 'RATE_LIMITED', { retryAfter }));
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const operation = request.gatewayContext?.trace.operationName ?? dedup.sharedOperationName(request) ?? null;
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    const entry = {
      requestId: request.id,
      tenant: request.principal?.tenantId ?? null,
      operation,
      method: request.method,
      route,
      status: reply.statusCode,
      ms,
    };
    if (OPS_ROUTES.has(route)) {
      log.debug(entry, 'request');
      return;
    }
    log.info(entry, 'request');
    metrics.observeRequest(operation ?? (route === '/graphql' ? '-' : route), reply.statusCode, ms / 1000);
  });

  // Body too large, malformed JSON, unsupported media type: a JSON GraphQL-shaped error, never a crash.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error instanceof OverloadedError) {
      void reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.code(503).send(errorBody(error.message, 'OVERLOADED'));
    }
    if (error instanceof ClientGoneError) return reply.code(error.statusCode).send(errorBody(error.message, 'CLIENT_CLOSED_REQUEST'));
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      log.error({ requestId: request.id, err: error }, 'http error');
      return reply.code(500).send(errorBody('Internal server error', 'INTERNAL_SERVER_ERROR'));
    }
    if (status === 413) {
      return reply.code(413).send(errorBody(`Request body is larger than ${config.BODY_LIMIT_BYTES} bytes.`, 'PAYLOAD_TOO_LARGE'));
    }
    const message = error.code?.startsWith('FST_ERR_CTP_') && status === 400 ? 'The request body is not valid JSON.' : error.message;
    return reply.code(status).send(errorBody(message, 'BAD_REQUEST'));
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(errorBody('Not found.', 'NOT_FOUND')));

  const context = async (request: FastifyRequest): Promise<GatewayContext> => {
    const ctx: GatewayContext = {
      requestId: request.id,
      clientIp: clientIp(request),
      authorization: request.headers.authorization,
      principal: request.principal ?? ANONYMOUS,
      trace: { operationName: null },
      clientGone: () => clientGone(request),
    };
    request.gatewayContext = ctx;
    return ctx;
  };
  const graphql = fastifyApolloHandler<GatewayContext>(apollo, { context }) as unknown as RouteHandlerMethod;
  // Identical queries of one caller in flight at once run once (operation-dedup.ts).
  const dedup = operationDedup(app, {
    enabled: config.GATEWAY_OPERATION_DEDUP,
    operationOf: (request) => (request.gatewayContext ? { type: request.gatewayContext.trace.operationType ?? null, name: request.gatewayContext.trace.operationName } : null),
    onShared: metrics.countSharedOperation,
  });
  app.route({
    method: ['GET', 'POST', 'OPTIONS'],
    url: '/graphql',
    preValidation: graphqlRequestHook(graphqlRequestLimitsOf(config)),
    handler(request, reply) {
      if (ide && request.method === 'GET' && ide.wants(request)) return ide.send(request, reply);
      if (request.method === 'OPTIONS') return graphql.call(this, request, reply);
      return dedup.serve(request, reply, () => admission.run(async () => graphql.call(this, request, reply), () => clientGone(request)));
    },
  });
  registerHealthRoutes(app, urls, healthAgent);
  await registerSaleorWebhooks(app, { urls, timeoutMs: config.SUBGRAPH_TIMEOUT_MS, maxBytes: config.BODY_LIMIT_BYTES, log }); // POST /webhooks/saleor, to bi
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const gatewayApi: Gateway = {
    app,
    apollo,
    metrics,
    subgraphUrls: urls,
    async execute(request, operation) {
      const response = await admission.run(
        async () => apollo.executeOperation(operation, { contextValue: await context(request) }),
        () => clientGone(request),
      );
      if (response.body.kind !== 'single') throw new Error('incremental delivery is not supported');
      return response.body.singleResult;
    },
    reloadSupergraph: (trigger) => supergraph.reload(trigger),
    async listen(port = config.GATEWAY_PORT, host = config.HOST) {
      await app.listen({ port, host });
      const address = app.server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      return `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
    },
    async close() {
      await app.close();
      admission.close();
      await apollo.stop();
      await agent.close();
      await healthAgent.close();
      await rateLimiter.close(); // the hits counted since the last sync
      if (ownRedis) redis.disconnect();
      metrics.registry.clear();
    },
  };
  await registerRunEvents(app, { redis, config, log }); // agent runs' live events (before the shim, whose events route streams)
  await registerRestShim(gatewayApi, { log, streamTimeoutMs: config.SUBGRAPH_TIMEOUT_MS, jsonLimits }); // the legacy REST paths, /api/brain/* (gateway/rest/routes.ts)
  return gatewayApi;
}
