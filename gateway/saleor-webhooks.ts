import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Agent, request as send } from 'undici';
import type { Logger } from '../subgraphs/kit/logger.ts';
import { errorBody } from './errors.ts';
import { targetUrl } from './rest/stream.ts';

/*
 * POST /webhooks/saleor: the public address of Saleor's order webhooks (the targetUrl of the
 * webhook bi's Saleor App registers), streamed to the bi subgraph's POST /webhooks/saleor.
 *
 * At the gateway's root rather than under /api/brain/superset/: Superset never received Saleor's
 * webhooks, so no legacy client calls such a path, and the REST shim's table (its dialects,
 * JSON parsing and OpenAPI) is for legacy clients. Here the body is not parsed at all: the
 * signature (Saleor-Signature, checked by bi) covers the exact bytes Saleor sent, so they are
 * piped to bi as they arrive, never buffered or re-serialised. A body announced larger than
 * BODY_LIMIT_BYTES is refused at once (413); bi bounds what it reads itself too.
 *
 * The gateway's hooks apply as to every route: a request id, the per-IP rate limit (Saleor's
 * deliveries count against its address: past it they are answered 503 with Retry-After, not 429,
 * since Saleor retries a 5xx and drops a 4xx for good), the access log. Sent to bi: the body, `content-type`, `content-length`, Saleor's headers and the request
 * id; nothing else (no cookies, no Authorization). bi's answer comes back as it is; bi down or too
 * slow is a 503, which Saleor retries.
 */

const FORWARDED = ['content-type', 'content-length', 'saleor-event', 'saleor-domain', 'saleor-signature', 'saleor-api-url'] as const;
/** bi answers with a few bytes of JSON; anything larger is not its answer. */
const ANSWER_LIMIT = 64 * 1024;

/** The public path; server.ts answers its rate-limit refusals with a 503 (above). */
export const SALEOR_WEBHOOK_PATH = '/webhooks/saleor';

export interface SaleorWebhookOptions {
  urls: Readonly<Record<string, string>>;
  timeoutMs: number;
  maxBytes: number;
  log: Logger;
}

export async function registerSaleorWebhooks(app: FastifyInstance, options: SaleorWebhookOptions): Promise<void> {
  const agent = new Agent({ keepAliveTimeout: 4_000, connections: 16 });
  app.addHook('onClose', async () => agent.close());
  const unavailable = (reply: import('fastify').FastifyReply) =>
    reply.code(503).send(errorBody('The webhook receiver is unavailable; try again later.', 'SUBGRAPH_UNAVAILABLE'));

  await app.register(async (scope) => {
    // The request stream itself becomes `request.body`, whatever its content type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.post(SALEOR_WEBHOOK_PATH, async (request, reply) => {
      const base = options.urls.bi;
      if (!base) {
        options.log.error({ requestId: request.id }, 'saleor webhook: no URL for the bi subgraph');
        return unavailable(reply);
      }
      const length = Number(request.headers['content-length']);
      if (Number.isFinite(length) && length > options.maxBytes) {
        return reply.code(413).send(errorBody(`Request body is larger than ${options.maxBytes} bytes.`, 'PAYLOAD_TOO_LARGE'));
      }
      const headers: Record<string, string> = { 'x-request-id': request.id };
      for (const name of FORWARDED) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      let answer: Awaited<ReturnType<typeof send>>;
      try {
        answer = await send(targetUrl(base, '/webhooks/saleor'), {
          method: 'POST',
          headers,
          body: (request.body as Readable | undefined) ?? null,
          dispatcher: agent,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        });
      } catch (error) {
        options.log.warn({ requestId: request.id, err: (error as Error).message }, 'saleor webhook: bi unavailable');
        return unavailable(reply);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of answer.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > ANSWER_LIMIT) {
          answer.body.destroy();
          return unavailable(reply);
        }
        chunks.push(chunk);
      }
      return reply.code(answer.statusCode).type('application/json; charset=utf-8').send(Buffer.concat(chunks));
    });
  });
}
