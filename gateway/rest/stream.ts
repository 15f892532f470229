import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Agent, request as send } from 'undici';
import type { Logger } from '../../subgraphs/kit/logger.ts';
import { detail, RestError, SERVER_ERROR, UNAVAILABLE } from './errors.ts';
import type { RestCall, RestRoute, StreamTarget } from './types.ts';

/*
 * `kind: 'stream'` entries of the route table: THE documented exception to "no handler talks to
 * a subgraph directly". Apollo Gateway carries GraphQL only (no file uploads), so a multipart
 * upload, and the bytes it stored, travel over the subgraph's own HTTP endpoint instead:
 *
 *   client ──> gateway hooks: request id, JWT, rate limit (onRequest), access log (onResponse)
 *          ──> the entry's `auth` check (401 before a byte is forwarded)
 *          ──> undici stream to <subgraph URL minus /graphql><target.path>, body piped as it
 *              arrives (never buffered), with the subgraph timeout (headers and body inactivity)
 *          <── JSON: 2xx through the entry's `shape`, errors as the dialect's error;
 *              raw: 2xx/304 bytes streamed back with the entry's `passBack` headers.
 *
 * Sent along: the query string, `authorization`, `x-request-id` (the gateway's id) and the
 * entry's `forward` headers (e.g. `content-type`, `content-length`), nothing else: no cookies,
 * no client `x-forwarded-*`. The subgraph checks the token again (never trust the network). A
 * subgraph that cannot be reached, times out or fails (5xx) is a 503 without its address or
 * cause, which go to the log; its 4xx answers keep their status with its message, in the
 * entry's dialect.
 */

/** A JSON answer larger than this is not an answer a stream target gives: 503. */
const JSON_LIMIT = 1024 * 1024;

export interface StreamContext {
  urls: Readonly<Record<string, string>>;
  agent: Agent;
  timeoutMs: number;
  log: Logger;
}

/** One keep-alive pool for the shim's streams (closed with the gateway). */
export function createStreamAgent(): Agent {
  return new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000, connections: 64 });
}

/** `http://cms:8002/graphql` + `/media` -> `http://cms:8002/media`. */
export function targetUrl(subgraphUrl: string, path: string): string {
  const url = new URL(subgraphUrl);
  url.pathname = `${url.pathname.replace(/\/graphql\/?$/, '').replace(/\/+$/, '')}${path}`;
  url.search = '';
  return url.toString();
}

/** The target path with the route's path parameters filled in (each URL-encoded). */
export const targetPath = (target: StreamTarget, params: Record<string, string>) =>
  target.path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''));

async function readCapped(body: Readable, limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The subgraph's error answer (`{"error"}`, `{"message"}` or `{"detail"}`) -> a RestError (status kept). */
function errorFrom(status: number, text: string | null): RestError {
  let message: unknown;
  try {
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    message = body?.error ?? body?.message ?? body?.detail;
  } catch {
    message = undefined;
  }
  const headers: Record<string, string> = status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  return detail(status, typeof message === 'string' && message ? message : status === 404 ? 'Not found.' : `Request failed (${status}).`, headers);
}

export async function streamToTarget(ctx: StreamContext, route: RestRoute, request: FastifyRequest, reply: FastifyReply, call: RestCall) {
  const target = route.target!;
  const base = ctx.urls[target.subgraph];
  if (!base) {
    ctx.log.error({ requestId: request.id, subgraph: target.subgraph }, 'rest stream: no URL for the subgraph');
    throw detail(503, UNAVAILABLE);
  }
  const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
  const url = `${targetUrl(base, targetPath(target, call.params))}${query}`;

  const headers: Record<string, string> = { 'x-request-id': request.id };
  if (request.headers.authorization) headers.authorization = request.headers.authorization;
  for (const name of target.forward) {
    const value = request.headers[name.toLowerCase()];
    if (typeof value === 'string') headers[name.toLowerCase()] = value;
  }
  // The body parser of stream routes hands over the request stream itself (register.ts).
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : (request.body as Readable | undefined);

  let answer: Awaited<ReturnType<typeof send>>;
  try {
    answer = await send(url, {
      method: request.method as 'GET' | 'HEAD' | 'POST',
      headers,
      body: body ?? null,
      dispatcher: ctx.agent,
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
    });
  } catch (error) {
    ctx.log.warn({ requestId: request.id, subgraph: target.subgraph, err: (error as Error).message }, 'rest stream: subgraph unavailable');
    throw detail(503, UNAVAILABLE);
  }
  const status = answer.statusCode;

  if (status >= 500) {
    await answer.body.dump().catch(() => undefined);
    ctx.log.warn({ requestId: request.id, subgraph: target.subgraph, status }, 'rest stream: subgraph failed');
    throw detail(503, UNAVAILABLE);
  }

  if (target.response === 'raw' && ((status >= 200 && status < 300) || status === 304)) {
    for (const name of target.passBack ?? []) {
      const value = answer.headers[name.toLowerCase()];
      if (value !== undefined) void reply.header(name.toLowerCase(), value);
    }
    void reply.code(status);
    if (status === 304) {
      await answer.body.dump().catch(() => undefined);
      return reply.send();
    }
    // (A HEAD answer's body is empty; sent as a stream, Fastify's HEAD handling keeps the
    // subgraph's content-length instead of writing 0.)
    return reply.send(answer.body);
  }

  let text: string | null;
  try {
    text = await readCapped(answer.body, JSON_LIMIT);
  } catch (error) {
    ctx.log.warn({ requestId: request.id, subgraph: target.subgraph, err: (error as Error).message }, 'rest stream: answer cut off');
    throw detail(503, UNAVAILABLE);
  }
  if (status >= 300) throw errorFrom(status, text);
  let value: unknown;
  try {
    value = text ? JSON.parse(text) : null;
  } catch {
    ctx.log.error({ requestId: request.id, subgraph: target.subgraph, status }, 'rest stream: answer is not JSON');
    throw detail(500, SERVER_ERROR);
  }
  const shaped = route.shape ? route.shape(value, call) : value;
  return reply.code(route.status ?? status).send(shaped);
}
