import type { FastifyInstance } from 'fastify';
import { subgraphUrl } from '../../kit/config.ts';
import type { SubgraphDeps } from '../../kit/deps.ts';
import type { BackgroundTask } from '../../kit/server.ts';
import { EVENT_TYPES, ORDER_FACTS_FRAGMENT, type OrderEvent } from '../../bi/webhooks/subscription.ts';
import { executeAsApp } from '../app-execute.ts';
import type { OrderRecord } from '../catalog.ts';
import { toGlobalId } from '../ids.ts';
import type { SaleorSettings } from '../settings.ts';
import { createDeliverer, type Deliverer } from './deliver.ts';
import { createWebhookSigner, type WebhookSigner } from './signer.ts';

/*
 * The stand-in's webhooks: one App webhook per target URL (SALEOR_WEBHOOK_TARGET_URL) subscribed
 * to ORDER_CREATED, ORDER_UPDATED, ORDER_FULLY_PAID and ORDER_CANCELLED with bi's subscription
 * query (subgraphs/bi/webhooks/subscription.ts). When an order changes, the payload is made at
 * once, from the order as it is then (Saleor stores the payload with the delivery), by running
 * the query's Order selection against the stand-in's own resolvers; delivery follows, signed
 * (signer.ts) and retried (deliver.ts). The JWKS is served at /.well-known/jwks.json.
 */

type Deps = SubgraphDeps<SaleorSettings>;

interface Webhooks {
  signer: WebhookSigner;
  deliverer: Deliverer;
  targets: string[];
}

/** Saleor's version as the Event's `version` field says it (the stand-in mimics 3.23). */
const SALEOR_VERSION = '3.23.0';

const ORDER_QUERY = `query StandInWebhookOrder($id: ID!) { order(id: $id) { ...BiOrderFacts } }\n${ORDER_FACTS_FRAGMENT}`;

const state = new WeakMap<object, Promise<Webhooks>>();

/** The stand-in's own GraphQL URL, as its routing URL says (SALEOR_URL, else port SALEOR_PORT or 8000). */
export function standInApiUrl(env: Record<string, string | undefined>): string {
  return subgraphUrl('saleor', `http://127.0.0.1:${env.SALEOR_PORT || 8000}/graphql`, env);
}

function targetsOf(deps: Deps): string[] {
  const setting = deps.settings.SALEOR_WEBHOOK_TARGET_URL ?? `http://127.0.0.1:${deps.env.GATEWAY_PORT || 8001}/webhooks/saleor`;
  if (setting.trim().toLowerCase() === 'none') return [];
  return setting
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean)
    .map((url) => new URL(url).toString());
}

/** The process's webhooks of this subgraph's deps (one signer, one delivery queue). */
export function webhooksOf(deps: Deps): Promise<Webhooks> {
  let webhooks = state.get(deps);
  if (!webhooks) {
    webhooks = (async () => {
      const signer = await createWebhookSigner(deps.settings.SALEOR_RSA_PRIVATE_KEY);
      const apiUrl = standInApiUrl(deps.env);
      const deliverer = createDeliverer({
        signer,
        domain: new URL(apiUrl).host,
        apiUrl,
        backoffMs: deps.settings.SALEOR_WEBHOOK_RETRY_BACKOFF_MS,
        maxRetries: deps.settings.SALEOR_WEBHOOK_MAX_RETRIES,
        timeoutMs: deps.settings.SALEOR_WEBHOOK_TIMEOUT_MS,
        log: deps.log,
      });
      return { signer, deliverer, targets: targetsOf(deps) };
    })();
    state.set(deps, webhooks);
  }
  return webhooks;
}

/**
 * Sends `events` about `order` to every target: the payload is what bi's subscription query
 * yields for the order now. Resolves once the payloads are made; delivery happens afterwards.
 */
export async function emitOrderEvents(deps: Deps, order: OrderRecord, events: readonly OrderEvent[], issuedAt = new Date()): Promise<void> {
  const webhooks = await webhooksOf(deps);
  if (!webhooks.targets.length) return;
  const result = await executeAsApp<{ order: unknown }>(ORDER_QUERY, { id: toGlobalId('Order', order.pk) });
  if (result.errors?.length || !result.data?.order) {
    deps.log.error({ errors: result.errors?.map((e) => e.message), order: order.pk }, 'saleor webhook payload failed');
    return;
  }
  for (const event of events) {
    // The subscription's selection under `event`, which Saleor sends as the body.
    const body = Buffer.from(
      JSON.stringify({ __typename: EVENT_TYPES[event], issuedAt: issuedAt.toISOString(), version: SALEOR_VERSION, order: result.data.order }),
    );
    for (const targetUrl of webhooks.targets) webhooks.deliverer.send({ targetUrl, event, body });
  }
}

/** GET /.well-known/jwks.json: the public key webhooks are verified with. */
export function registerWebhookRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    const { signer } = await webhooksOf(deps);
    return reply.header('cache-control', 'public, max-age=300').send(signer.jwks);
  });
}

/** Stops the retries still waiting when the server closes. */
export function webhookBackground(deps: Deps): BackgroundTask {
  void webhooksOf(deps);
  return {
    async stop() {
      const webhooks = state.get(deps);
      if (webhooks) await (await webhooks).deliverer.stop();
    },
  };
}
