import { context, propagation, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { tracingEnabled } from './tracing.ts';

/*
 * One server span per HTTP request, for the gateway and every subgraph: joined to the caller's
 * trace by its W3C `traceparent` header (the gateway's fetch span, for a subgraph), named after
 * the route (`POST /graphql`), with the method, route, status and, on the gateway, the GraphQL
 * operation (kit/telemetry/operation.ts). Everything the request's handler does runs inside it
 * (its pg and ioredis spans, Apollo Gateway's spans), because the handler is wrapped to run in
 * the span's context: Fastify's hooks after body parsing run in the socket's async context, not
 * the one the request started in. Health probes, metrics scrapes and JWKS fetches are not traced.
 * Nothing is registered when tracing is off.
 */

const SPAN = Symbol('bizosaas.requestSpan');
const CONTEXT = Symbol('bizosaas.requestContext');

/** Probes, scrapes and key fetches: every few seconds from machines, never a user's request. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics', '/.well-known/jwks.json']);

type TracedRequest = FastifyRequest & { [SPAN]?: Span; [CONTEXT]?: Context };

/** The request's span, when tracing is on (for attributes added later, like the operation's). */
export const requestSpan = (request: FastifyRequest): Span | undefined => (request as TracedRequest)[SPAN];

/** Adds the request spans to `app` (before its routes are added) when this process traces. */
export function traceRequests(app: FastifyInstance, component: string): void {
  if (!tracingEnabled()) return;
  const tracer = trace.getTracer(`bizosaas.${component}`);

  app.addHook('onRoute', (route) => {
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function tracedHandler(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const active = (request as TracedRequest)[CONTEXT];
      return active ? context.with(active, handler, this, request, reply) : handler.call(this, request, reply);
    };
  });

  app.addHook('onRequest', (request, reply, done) => {
    if (UNTRACED_PATHS.has(request.routeOptions.url ?? '')) return done();
    const parent = propagation.extract(context.active(), request.headers);
    const route = request.routeOptions.url;
    const span = tracer.startSpan(
      `${request.method} ${route ?? '(no route)'}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'http.route': route,
          'url.path': request.url.split('?', 1)[0],
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    (request as TracedRequest)[SPAN] = span;
    (request as TracedRequest)[CONTEXT] = active;
    // Ends when the connection is done with the response: sent (its status), or the client gone
    // first (a request it abandoned, an event stream it closed), for which Fastify runs no
    // onResponse.
    const raw = reply.raw;
    raw.once('close', () => {
      if (raw.writableFinished) {
        span.setAttribute('http.response.status_code', reply.statusCode);
        if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      } else {
        span.setAttribute('bizosaas.request.aborted', true);
      }
      span.end();
    });
    context.with(active, done);
  });
}
