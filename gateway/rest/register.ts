import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FormattedExecutionResult } from 'graphql';
import type { Logger } from '../../subgraphs/kit/logger.ts';
import type { Gateway } from '../server.ts';
import { detail, graphqlError, httpError, methodNotAllowed, NOT_FOUND, notAuthenticated, payloadError, RestError, SERVER_ERROR, throttled, UNAVAILABLE } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { pageWindow, walkOperation, type Step } from './pagination.ts';
import { ROUTES } from './routes.ts';
import { forAjv, type Dialect, type RestCall, type RestRoute } from './types.ts';

export const PREFIX = '/api/brain';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route table entry a shim route serves. */
    rest?: RestRoute;
  }
}

/** `/django-crm/leads/{id}` -> Fastify's `/django-crm/leads/:id`. */
const fastifyPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');
/** For 405: does a path of the table match this URL (any method)? */
const pathPattern = (path: string) =>
  new RegExp(`^${PREFIX}${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{\w+\\?\}/g, '[^/]+')}/?$`);
const pathParams = (path: string) => new Set([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!));

function dialectOf(request: FastifyRequest): Dialect {
  return request.routeOptions.config?.rest?.dialect ?? 'drf';
}

function sendError(reply: FastifyReply, error: RestError) {
  for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
  return reply.code(error.status).type('application/json; charset=utf-8').send(error.body);
}

/** Absolute URL of the request's path with query parameters replaced (`null` removes one). */
function linkFor(request: FastifyRequest) {
  const [path, search = ''] = request.url.split('?', 2) as [string, string?];
  return (set: Record<string, string | number | null>) => {
    const params = new URLSearchParams(search);
    for (const [name, value] of Object.entries(set)) {
      if (value === null) params.delete(name);
      else params.set(name, String(value));
    }
    const query = params.toString();
    return `${request.protocol}://${request.host}${path}${query ? `?${query}` : ''}`;
  };
}

export interface RestShimOptions {
  log: Logger;
  routes?: readonly RestRoute[];
}

/**
 * The legacy REST surface at `/api/brain/*`: each entry of the route table becomes a Fastify
 * route whose handler runs the entry's GraphQL operation through `gateway.execute` (the same
 * context, JWT, limits, redaction and access log as `/graphql`; the gateway's onRequest hook has
 * already verified the token and applied the rate limits). No handler talks to a subgraph.
 *
 * Scoped to the prefix (a Fastify plugin): the form-body parser, the lenient JSON parser and the
 * legacy error shapes apply here only, so `/graphql` still refuses form posts (CSRF).
 */
export async function registerRestShim(gateway: Pick<Gateway, 'app' | 'execute'>, options: RestShimOptions): Promise<void> {
  const routes = options.routes ?? ROUTES;
  const patterns = routes.map((route) => ({ route, pattern: pathPattern(route.path) }));
  const bodyLimit = gateway.app.initialConfig.bodyLimit ?? 1_048_576;

  await gateway.app.register(
    async (shim: FastifyInstance) => {
      // Legacy clients post forms (FastAPI-Users' OAuth2 password form, DRF's FormParser). Safe
      // here: the shim reads credentials from the Authorization header only, never a cookie.
      await shim.register(formbody);
      // JSON and forms only (DRF's parsers): anything else, text/plain included, is a 415.
      shim.removeContentTypeParser('text/plain');
      // An empty JSON body is "no body" (DELETE and logout clients send the header anyway).
      const json = shim.getDefaultJsonParser('error', 'error');
      shim.removeContentTypeParser('application/json');
      shim.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
        if (typeof body === 'string' && body.trim() === '') return done(null, undefined);
        json(request, body as string, done);
      });

      shim.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
        const mapped = httpError(error, dialectOf(request), bodyLimit, request);
        if (mapped) return sendError(reply, mapped);
        options.log.error({ requestId: request.id, route: request.routeOptions.url, err: error }, 'rest shim error');
        return sendError(reply, detail(500, SERVER_ERROR));
      });

      // The gateway's rate limit answers before any route runs, in the GraphQL error shape;
      // legacy clients get DRF's throttling message instead (same status and Retry-After).
      shim.addHook('onSend', async (_request, reply, payload) => {
        if (reply.statusCode !== 429 || typeof payload !== 'string' || !payload.startsWith('{"errors"')) return payload;
        const seconds = Number(reply.getHeader('retry-after')) || 60;
        return JSON.stringify(throttled(seconds).body);
      });

      shim.setNotFoundHandler((request, reply) => {
        const path = request.url.split('?', 1)[0]!;
        const allow = [...new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.route.method))];
        if (allow.length) return sendError(reply, methodNotAllowed(request.method, allow.includes('GET') ? [...allow, 'HEAD'] : allow));
        return sendError(reply, detail(404, NOT_FOUND));
      });

      const document = openApiDocument(routes, PREFIX);
      shim.get('/openapi.json', async () => document);

      for (const route of routes) {
        const handler = async (request: FastifyRequest, reply: FastifyReply) => handle(gateway, shim, route, request, reply);
        const schema = {
          ...(route.query
            ? { querystring: { type: 'object', properties: Object.fromEntries(Object.entries(route.query).map(([k, p]) => [k, forAjv(p.schema)])) } }
            : {}),
          ...(route.body ? { body: forAjv(route.body.schema) } : {}),
        };
        for (const url of [fastifyPath(route.path), `${fastifyPath(route.path)}/`]) {
          shim.route({
            method: route.method,
            url,
            schema,
            config: { rest: route },
            preValidation: async (request) => {
              // Like DRF and FastAPI-Users, authentication is answered before the input is looked
              // at. Only ever stricter than the graph, which checks the same verified token again.
              if (route.auth === 'required' && !request.principal.accountId) throw notAuthenticated(route.dialect);
              // DRF reads a missing body as `{}`: "This field is required." rather than "expected a dictionary".
              if (route.body && (request.body === undefined || request.body === null)) request.body = {};
            },
            handler,
          });
        }
      }
    },
    { prefix: PREFIX },
  );
}

const walks = new WeakMap<RestRoute, string>();
/** The route's walk operation (pagination.ts), built once. */
function walkOperationOf(route: RestRoute): string {
  let walk = walks.get(route);
  if (!walk) walks.set(route, (walk = walkOperation(route.operation!, route.root!)));
  return walk;
}

async function handle(
  gateway: Pick<Gateway, 'execute'>,
  shim: FastifyInstance,
  route: RestRoute,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (route.health) return health(shim, route.health, reply);

  const fromPath = pathParams(route.path);
  const run = async (query: string, variables: Record<string, unknown>): Promise<Record<string, any>> => {
    const result: FormattedExecutionResult = await gateway.execute(request, { query, variables });
    if (result.errors?.length) throw graphqlError(route, result.errors, fromPath);
    return (result.data ?? {}) as Record<string, any>;
  };
  const call: RestCall = {
    params: request.params as Record<string, string>,
    query: (request.query ?? {}) as RestCall['query'],
    body: request.body,
    principal: request.principal,
    link: linkFor(request),
    graphql: (query, variables = {}) => run(query, variables) as Promise<any>,
    page: null,
  };

  const variables = route.variables ? await route.variables(call) : {};
  let value: any = null;
  if (variables !== null && route.operation) {
    let all = variables;
    if (route.paginate) {
      const walk = walkOperationOf(route);
      call.page = await pageWindow(call.query, async (first, after): Promise<Step> => {
        const data = await run(walk, { ...variables, first, after });
        const connection = data[route.root!];
        if (!connection) throw detail(404, NOT_FOUND);
        return { endCursor: connection.pageInfo.endCursor ?? null, hasNextPage: connection.pageInfo.hasNextPage, totalCount: connection.totalCount ?? null };
      });
      all = { ...variables, first: call.page.pageSize, after: call.page.after };
    }
    const data = await run(route.operation, all);
    value = route.root ? data[route.root] : data;
    if (route.root) {
      if (value === null || value === undefined) throw detail(404, NOT_FOUND);
      if (Array.isArray(value.errors) && value.errors.length) throw payloadError(route, value.errors, route.errorField);
    }
  }
  const body = route.shape ? route.shape(value, call) : value;
  const status = route.status ?? 200;
  if (status === 204) return reply.code(204).send();
  return reply.code(status).send(body);
}

/** `{"status": "ok"}` when the gateway's `/ready` (gateway/health.ts) reports the subgraph up. */
async function health(shim: FastifyInstance, subgraph: string, reply: FastifyReply) {
  const ready = await shim.inject({ method: 'GET', url: '/ready' });
  const subgraphs = (ready.json() as { subgraphs?: Record<string, string> }).subgraphs ?? {};
  if (subgraphs[subgraph] === 'up') return { status: 'ok' };
  return reply.code(503).send({ status: 'unavailable', detail: UNAVAILABLE });
}
