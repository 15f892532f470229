import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseEnv } from '../../kit/config.ts';
import type { SubgraphDeps } from '../../kit/deps.ts';
import { parseWebhookBody } from './facts.ts';
import { ingestWebhook } from './ingest.ts';
import { saleorJwksUrl, webhookSettings } from './settings.ts';
import { EVENT_TYPES, ORDER_EVENTS, type OrderEvent } from './subscription.ts';
import { createSignatureVerifier } from './verify.ts';

/*
 * POST /webhooks/saleor on the bi subgraph: Saleor's order webhooks, reached through the gateway's
 * public POST /webhooks/saleor (gateway/saleor-webhooks.ts streams the bytes here unchanged).
 *
 *   401  no Saleor-Signature, or one that does not verify against Saleor's JWKS over these bytes
 *   503  Saleor's JWKS cannot be fetched (Saleor retries a 5xx)
 *   400  an event bi does not subscribe to, a body that is not that event's payload (Saleor
 *        does not retry a 4xx: retrying would not make it right)
 *   413  a body over SALEOR_WEBHOOK_MAX_BYTES
 *   200  written, or ignored and said why: seen before, not newer than the stored state, or a
 *        channel no tenant has (logged: Saleor would otherwise retry an answer it cannot change)
 *
 * The signature is checked first, so nothing about bi's handling is told to an unsigned sender.
 * The Saleor-Event header is not signed: a body's `__typename` (signed) must agree with it.
 */

type Answer = { status: number; body: Record<string, unknown> };

const answer = (reply: FastifyReply, { status, body }: Answer) => reply.code(status).send(body);

export async function registerSaleorWebhookRoute(app: FastifyInstance, deps: SubgraphDeps<unknown>): Promise<void> {
  const settings = parseEnv(webhookSettings, deps.env);
  const verify = createSignatureVerifier(saleorJwksUrl(settings, deps.config, deps.env));
  const log = deps.log;

  async function handle(request: FastifyRequest): Promise<Answer> {
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const verdict = await verify(header('saleor-signature'), body);
    if (verdict === 'unavailable') {
      log.error({ requestId: request.id }, "saleor webhook: Saleor's JWKS cannot be read (is SALEOR_JWKS_URL / SALEOR_API_URL right?)");
      return { status: 503, body: { error: "Saleor's keys cannot be fetched; try again later." } };
    }
    if (verdict !== 'valid') {
      log.warn({ requestId: request.id, signed: Boolean(header('saleor-signature')) }, 'saleor webhook refused: signature missing or invalid');
      return { status: 401, body: { error: 'Missing or invalid Saleor-Signature.' } };
    }

    const event = header('saleor-event')?.toUpperCase();
    if (!event || !(ORDER_EVENTS as readonly string[]).includes(event)) {
      return { status: 400, body: { error: `Unknown event: bi receives ${ORDER_EVENTS.join(', ')}.` } };
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return { status: 400, body: { error: 'The body is not JSON.' } };
    }
    const received = parseWebhookBody(json);
    if ('problem' in received) return { status: 400, body: { error: `Not an order event payload: ${received.problem}.` } };
    if (received.typename && received.typename !== EVENT_TYPES[event as OrderEvent]) {
      return { status: 400, body: { error: `Saleor-Event ${event} does not match the payload's ${received.typename}.` } };
    }

    const result = await ingestWebhook(deps, event as OrderEvent, received, body);
    const entry = { requestId: request.id, event, order: received.order.id, channel: received.order.channel.slug, outcome: result.outcome };
    if (result.outcome === 'unknown-channel') {
      log.warn(entry, 'saleor webhook ignored: no tenant (or more than one) has this channel');
      return { status: 200, body: { result: 'ignored', reason: 'No tenant has this Saleor channel.' } };
    }
    log.info({ ...entry, tenant: result.tenantId }, 'saleor webhook');
    return { status: 200, body: { result: result.outcome } };
  }

  // Its own scope: the body stays the bytes Saleor signed (no JSON parser), within its own limit.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: settings.SALEOR_WEBHOOK_MAX_BYTES }, (_request, body, done) =>
      done(null, body),
    );
    scope.post('/webhooks/saleor', { bodyLimit: settings.SALEOR_WEBHOOK_MAX_BYTES }, async (request, reply) => answer(reply, await handle(request)));
  });
}
