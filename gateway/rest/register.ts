import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FormattedExecutionResult } from 'graphql';
import { useBoundedJsonParser, type JsonLimits } from '../../subgraphs/kit/json-limits.ts';
import type { Logger } from '../../subgraphs/kit/logger.ts';
import type { Gateway } from '../server.ts';
import {
  detail,
  graphqlError,
  httpError,
  inDialect,
  methodNotAllowed,
  NOT_FOUND,
  notAuthenticated,
  payloadError,
  RestError,
  SERVER_ERROR,
  throttled,
  UNAVAILABLE,
} from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { offsetWindow, pageWindow, walkOperation, type Step } from './pagination.ts';
import { ROUTES } from './routes.ts';
import { createStreamAgent, streamToTarget, type StreamContext } from './stream.ts';
import { forAjv, type Dialect, type RestCall, type RestRoute } from './types.ts';
import { OverloadedError } from '../admission.ts';

export const PREFIX = '/api/brain';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route table entry a shim route serves. */
    rest?: RestRoute;
  }
}

/**
 * `/django-crm/leads/{id}` -> Fastify's `/django-crm/leads/:id`. A last `{name*}` takes the rest
 * of the path, whatever its length, as Fastify's wildcard `*` (a `:name` parameter longer than
 * Fastify's maxParamLength, 100 characters, is a 414: a stored media name can be longer).
 */
const fastifyPath = (path: string) => path.replace(/\{\w+\*\}$/, '*').replace(/\{(\w+)\}/g, ':$1');
/** The name of a path's `{name*}` parameter, if it has one. */
const restParam = (path: string) => /\{(\w+)\*\}$/.exec(path)?.[1];
/** For 405: does a path of the table match this URL (any method)? */
const pathPattern = (path: string) =>
  new RegExp(
    `^${PREFIX}${path
      .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      .replace(/\{\w+\\\*\}$/, '.+')
      .replace(/\\?\{\w+\\?\}/g, '[^/]+')}/?$`,
  );
const pathParams = (path: string) => new Set([...path.matchAll(/\{(\w+)\*?\}/g)].map((m) => m[1]!));

function dialectOf(request: FastifyRequest): Dialect {
  return request.routeOptions.config?.rest?.dialect ?? 'drf';
}

function sendError(reply: FastifyReply, error: RestError, dialect: Dialect) {
  const answer = inDialect(error, dialect);
  for (const [name, value] of Object.entries(answer.headers)) void reply.header(name, value);
  return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
}

/**
 * `protocol://host` of the request, read once up front: once a stream entry has consumed the
 * request body, Node detaches the socket Fastify reads the protocol from.
 */
const originOf = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

/** Absolute URL of the request's path with query parameters replaced (`null` removes one). */
function linkFor(request: FastifyRequest, origin = originOf(request)) {
  const [path, search = ''] = request.url.split('?', 2) as [string, string?];
  return (set: Record<string, string | number | null>) => {
    const params = new URLSearchParams(search);
    for (const [name, value] of Object.entries(set)) {
      if (value === null) params.delete(name);
      else params.set(name, String(value));
    }
    const query = params.toString();
    return `${origin}${path}${query ? `?${query}` : ''}`;
  };
}

/** Absolute URL of a shim path on the request's host. */
const urlFor = (origin: string) => (path: string) => `${origin}${PREFIX}${path}`;

/** The alternative root fields of an entry (types.ts `root`). */
const rootsOf = (route: RestRoute): readonly string[] => (route.root === undefined ? [] : typeof route.root === 'string' ? [route.root] : route.root);
/** The value of the root the operation selected (the one present in the result). */
function rootValue(route: RestRoute, data: Record<string, any>): any {
  for (const root of rootsOf(route)) if (root in data) return data[root];
  return undefined;
}

export interface RestShimOptions {
  log: Logger;
  routes?: readonly RestRoute[];
  /**
   * Timeout of `kind: 'stream'` fetches (response headers, and body inactivity): the gateway
   * passes SUBGRAPH_TIMEOUT_MS.
   */
  streamTimeoutMs: number;
  /** JSON bodies past these fail before they are parsed, as on /graphql (JSON_MAX_DEPTH, JSON_MAX_ITEMS). */
  jsonLimits: JsonLimits;
}

/** A route table entry that cannot work is a start-up error, not a 500 on first use. */
function checkRoute(route: RestRoute) {
  if (route.kind === 'stream') {
    if (!route.target || route.operation || route.paginate || route.body || route.health) {
      throw new Error(`rest route ${route.id}: a stream entry has a target and no operation, pagination, JSON body or health`);
    }
  } else if (route.target) throw new Error(`rest route ${route.id}: a target needs kind: 'stream'`);
  if (route.serve && (route.paginate || route.root || route.health || route.kind)) {
    throw new Error(`rest route ${route.id}: a route that serves itself has no pagination, root, health or kind`);
  }
}

/**
 * The legacy REST surface at `/api/brain/*`: each entry of the route table becomes a Fastify
 * route whose handler runs the entry's GraphQL operation through `gateway.execute` (the same
 * context, JWT, limits, redaction and access log as `/graphql`; the gateway's onRequest hook has
 * already verified the token and applied the rate limits). No handler talks to a subgraph, with
 * one documented exception: `kind: 'stream'` entries (stream.ts: multipart uploads and the bytes
 * they stored, which Apollo Gateway cannot carry), which pass the same hooks first.
 *
 * Scoped to the prefix (a Fastify plugin): the form-body parser, the lenient JSON parser and the
 * legacy error shapes apply here only, so `/graphql` still refuses form posts (CSRF).
 */
export async function registerRestShim(gateway: Pick<Gateway, 'app' | 'execute' | 'subgraphUrls'>, options: RestShimOptions): Promise<void> {
  const routes = options.routes ?? ROUTES;
  routes.forEach(checkRoute);
  const patterns = routes.map((route) => ({ route, pattern: pathPattern(route.path) }));
  const bodyLimit = gateway.app.initialConfig.bodyLimit ?? 1_048_576;
  let streams: StreamContext | null = null;
  if (routes.some((route) => route.kind === 'stream')) {
    streams = {
      urls: gateway.subgraphUrls,
      agent: createStreamAgent(),
      timeoutMs: options.streamTimeoutMs,
      log: options.log,
    };
    const agent = streams.agent;
    gateway.app.addHook('onClose', async () => agent.close());
  }

  await gateway.app.register(
    async (shim: FastifyInstance) => {
      // Legacy clients post forms (FastAPI-Users' OAuth2 password form, DRF's FormParser). Safe
      // here: the shim reads credentials from the Authorization header only, never a cookie.
      await shim.register(formbody);
      // JSON and forms only (DRF's parsers): anything else, text/plain included, is a 415.
      shim.removeContentTypeParser('text/plain');
      // An empty JSON body is "no body" (DELETE and logout clients send the header anyway); the
      // same depth and width limits as /graphql, checked before parsing.
      useBoundedJsonParser(shim, options.jsonLimits, { emptyIsNoBody: true });

      shim.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
        const mapped = httpError(error, dialectOf(request), bodyLimit, request);
        // Admission control shed the operation (gateway/admission.ts): tell the client when to retry.
        if (error instanceof OverloadedError) void reply.header('retry-after', String(error.retryAfterSeconds));
        if (mapped) return sendError(reply, mapped, dialectOf(request));
        options.log.error({ requestId: request.id, route: request.routeOptions.url, err: error }, 'rest shim error');
        return sendError(reply, detail(500, SERVER_ERROR), dialectOf(request));
      });

      // The gateway's rate limit answers before any route runs, in the GraphQL error shape;
      // legacy clients get DRF's throttling message instead (same status and Retry-After).
      shim.addHook('onSend', async (request, reply, payload) => {
        if (reply.statusCode !== 429 || typeof payload !== 'string' || !payload.startsWith('{"errors"')) return payload;
        const seconds = Number(reply.getHeader('retry-after')) || 60;
        return JSON.stringify(inDialect(throttled(seconds), dialectOf(request)).body);
      });

      shim.setNotFoundHandler((request, reply) => {
        const path = request.url.split('?', 1)[0]!;
        const matching = patterns.filter((p) => p.pattern.test(path));
        const allow = [...new Set(matching.map((p) => p.route.method))];
        const dialect = matching[0]?.route.dialect ?? 'drf';
        if (allow.length) return sendError(reply, methodNotAllowed(request.method, allow.includes('GET') ? [...allow, 'HEAD'] : allow), dialect);
        return sendError(reply, detail(404, NOT_FOUND), dialect);
      });

      const document = openApiDocument(routes, PREFIX);
      shim.get('/openapi.json', async () => document);

      const register = (scope: FastifyInstance, route: RestRoute) => {
        const handler = async (request: FastifyRequest, reply: FastifyReply) => handle(gateway, shim, streams, route, request, reply);
        // Wagtail checks its own query strings (its messages), so its routes get no query schema.
        const validateQuery = route.query && route.dialect !== 'wagtail';
        const schema = {
          ...(validateQuery
            ? { querystring: { type: 'object', properties: Object.fromEntries(Object.entries(route.query!).map(([k, p]) => [k, forAjv(p.schema)])) } }
            : {}),
          ...(route.body ? { body: forAjv(route.body.schema) } : {}),
        };
        // (A `{name*}` path is a wildcard, which also takes a trailing slash.)
        const urls = restParam(route.path) ? [fastifyPath(route.path)] : [fastifyPath(route.path), `${fastifyPath(route.path)}/`];
        for (const url of urls) {
          scope.route({
            method: route.method,
            url,
            schema,
            config: { rest: route },
            // Routes that serve themselves stream Server-Sent Events (@fastify/sse: `reply.sse`,
            // headers only once the first event is written, so errors before it are answered as usual).
            ...(route.serve ? { sse: { kind: 'manual' as const } } : {}),
            preValidation: async (request) => {
              // Like DRF and FastAPI-Users, authentication is answered before the input is looked
              // at (and before a stream forwards a byte). Only ever stricter than the graph (or
              // the subgraph), which checks the same verified token again.
              if (route.auth === 'required' && !request.principal.accountId) throw notAuthenticated(route.dialect);
              // DRF reads a missing body as `{}`: "This field is required." rather than "expected a dictionary".
              if (route.body && (request.body === undefined || request.body === null)) request.body = {};
            },
            handler,
          });
        }
      };

      for (const route of routes) if (route.kind !== 'stream') register(shim, route);

      // Stream entries in their own scope: whatever the content type, the body is not parsed
      // (nor limited by BODY_LIMIT_BYTES): the request stream itself becomes `request.body`,
      // piped to the target as it arrives. The target enforces its own limits (MEDIA_MAX_BYTES).
      await shim.register(async (scope: FastifyInstance) => {
        scope.removeAllContentTypeParsers();
        scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
        for (const route of routes) if (route.kind === 'stream') register(scope, route);
      });
    },
    { prefix: PREFIX },
  );
}

const walks = new WeakMap<RestRoute, string>();
/** The route's walk operation (pagination.ts), built once. */
function walkOperationOf(route: RestRoute): string {
  let walk = walks.get(route);
  if (!walk) walks.set(route, (walk = walkOperation(route.operation!, rootsOf(route))));
  return walk;
}

async function handle(
  gateway: Pick<Gateway, 'execute'>,
  shim: FastifyInstance,
  streams: StreamContext | null,
  route: RestRoute,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (route.health) return health(shim, route.health, reply);

  const origin = originOf(request);
  const run = async (query: string, variables: Record<string, unknown>): Promise<Record<string, any>> => {
    const result: FormattedExecutionResult = await gateway.execute(request, { query, variables });
    if (result.errors?.length) throw graphqlError(route, result.errors, pathParams(route.path));
    return (result.data ?? {}) as Record<string, any>;
  };
  const params = { ...(request.params as Record<string, string>) };
  const rest = restParam(route.path);
  if (rest && '*' in params) {
    params[rest] = params['*']!;
    delete params['*'];
  }
  const call: RestCall = {
    params,
    query: (request.query ?? {}) as RestCall['query'],
    body: request.body,
    principal: request.principal,
    link: linkFor(request, origin),
    url: urlFor(origin),
    graphql: (query, variables = {}) => run(query, variables) as Promise<any>,
    page: null,
    offset: null,
  };
  const notFound = () => detail(route.errors?.NOT_FOUND?.status ?? 404, route.errors?.NOT_FOUND?.detail ?? NOT_FOUND);

  if (route.kind === 'stream') return streamToTarget(streams!, route, request, reply, call);
  if (route.serve) return route.serve(call, request, reply);

  const variables = route.variables ? await route.variables(call) : {};
  let value: any = null;
  if (variables !== null && route.operation) {
    let all = variables;
    if (route.paginate) {
      const walk = walkOperationOf(route);
      const step = async (first: number, after: string | null): Promise<Step> => {
        const connection = rootValue(route, await run(walk, { ...variables, first, after }));
        if (!connection) throw notFound();
        return { endCursor: connection.pageInfo.endCursor ?? null, hasNextPage: connection.pageInfo.hasNextPage, totalCount: connection.totalCount ?? null };
      };
      if (route.paginate === 'offset') {
        call.offset = await offsetWindow(call.query, step);
        // Past the end: no rows, but the operation still runs for the total (and the 404s).
        all = { ...variables, first: call.offset.past ? 0 : call.offset.limit, after: call.offset.past ? null : call.offset.after };
      } else {
        call.page = await pageWindow(call.query, step);
        all = { ...variables, first: call.page.pageSize, after: call.page.after };
      }
    }
    const data = await run(route.operation, all);
    value = route.root !== undefined ? rootValue(route, data) : data;
    if (route.root !== undefined) {
      if (value === null || value === undefined) throw notFound();
      if (Array.isArray(value.errors) && value.errors.length) throw payloadError(route, value.errors, route.errorField);
    }
  }
  const body = route.shape ? await route.shape(value, call) : value;
  const status = route.status ?? 200;
  if (status === 204) return reply.code(204).send();
  // A document that is not JSON (a chart's SVG) is data, never a page: no scripts, no loads,
  // even when a browser opens it directly (the renderer emits none; this holds if one slipped in).
  if (route.contentType) void reply.type(route.contentType).header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
  return reply.code(status).send(body);
}

/** `{"status": "ok"}` when the gateway's `/ready` (gateway/health.ts) reports the subgraph up. */
async function health(shim: FastifyInstance, subgraph: string, reply: FastifyReply) {
  const ready = await shim.inject({ method: 'GET', url: '/ready' });
  const subgraphs = (ready.json() as { subgraphs?: Record<string, string> }).subgraphs ?? {};
  if (subgraphs[subgraph] === 'up') return { status: 'ok' };
  return reply.code(503).send({ status: 'unavailable', detail: UNAVAILABLE });
}
