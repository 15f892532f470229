import { createJobSystem } from '../subgraphs/kit/jobs/index.ts';
import { pruneSaleorEvents, retentionQueue, RETENTION_CRON, scheduleRetention } from '../subgraphs/bi/webhooks/retention.ts';
import { generateKeyPairSync, randomUUID, sign as cryptoSign } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildASTSchema, parse, validate } from 'graphql';
import { FlattenedSign, importPKCS8 } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../gateway/server.ts';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { backfillSaleorOrders, httpSaleorClient } from '../subgraphs/bi/webhooks/backfill.ts';
import { backfillQueue, runBackfillStep } from '../subgraphs/bi/webhooks/backfill-job.ts';
import { seedOrderFacts } from '../subgraphs/bi/webhooks/seed.ts';
import { ORDER_EVENTS_SUBSCRIPTION, ORDERS_PAGE_QUERY } from '../subgraphs/bi/webhooks/subscription.ts';
import { CacheGenerations } from '../subgraphs/kit/cache.ts';
import { loadSchema } from '../subgraphs/kit/schema.ts';
import { loadSubgraphs } from '../subgraphs/kit/registry.ts';
import { createSubgraphServer, type SubgraphServer } from '../subgraphs/kit/server.ts';
import { toGlobalId } from '../subgraphs/saleor/ids.ts';
import { createWebhookSigner, type WebhookSigner } from '../subgraphs/saleor/webhooks/signer.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';
import { bearer, gql, login } from './support/graphql.ts';
import { freePorts } from './support/ports.ts';
import { readRealSaleorSdl } from './support/saleor-sdl.ts';

/*
 * Saleor's order webhooks into bi, through the real path: a Saleor mutation on the stand-in
 * (through the gateway, as a platform administrator) -> the stand-in's signed webhook -> the
 * gateway's POST /webhooks/saleor -> bi's receiver -> bi.orders / bi.order_lines in the tenant
 * of the order's channel. The stand-in signs with a key this file gives it (SALEOR_RSA_PRIVATE_KEY),
 * so the file can also sign what Saleor would send late or never; a second webhook target (a
 * recorder here) keeps the stand-in's real deliveries for replaying.
 */

const [acme, globex] = DEMO_TENANTS;
const ACME_CHANNEL = toGlobalId('Channel', 1);
const GLOBEX_CHANNEL = toGlobalId('Channel', 2);

interface Recorded {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A webhook target that keeps what it receives and answers with the next queued status (default 200). */
function recorder() {
  const received: Recorded[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(statuses.shift() ?? 200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { server, received, statuses };
}

/** Polls `read` until it yields something truthy, for at most `ms`. */
async function until<T>(read: () => Promise<T | null | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("bi's Saleor documents", () => {
  it("are valid against Saleor 3.23's schema, and the backfill query against the stand-in's", () => {
    const real = buildASTSchema(parse(readRealSaleorSdl()), { assumeValidSDL: true });
    const standIn = buildASTSchema(loadSchema('saleor'), { assumeValidSDL: true });
    expect(validate(real, parse(ORDER_EVENTS_SUBSCRIPTION))).toEqual([]);
    expect(validate(real, parse(ORDERS_PAGE_QUERY))).toEqual([]);
    expect(validate(standIn, parse(ORDERS_PAGE_QUERY))).toEqual([]);
  });
});

describe("Saleor's order webhooks into bi", () => {
  let backends: TestBackends;
  const servers: SubgraphServer[] = [];
  let gateway: Gateway;
  let base: string;
  let graphql: string;
  let admin: string;
  let member: string;
  let signer: WebhookSigner;
  let pem: string;
  let saleorUrl: string;
  const capture = recorder();
  /** The subgraphs' GraphQL URLs, as the gateway is given them. */
  const urls: Record<string, string> = {};

  beforeAll(async () => {
    const [saleorPort, gatewayPort] = await freePorts(2);
    await new Promise<void>((resolve) => capture.server.listen(0, '127.0.0.1', resolve));
    pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    signer = await createWebhookSigner(pem);
    saleorUrl = `http://127.0.0.1:${saleorPort}/graphql`;
    backends = await createTestBackends({
      SALEOR_URL: saleorUrl,
      SALEOR_RSA_PRIVATE_KEY: pem,
      SALEOR_WEBHOOK_TARGET_URL: `http://127.0.0.1:${gatewayPort}/webhooks/saleor,http://127.0.0.1:${(capture.server.address() as AddressInfo).port}/hook`,
      SALEOR_WEBHOOK_RETRY_BACKOFF_MS: '100',
    });
    const definitions = await loadSubgraphs();
    await backends.migrate(definitions.flatMap((d) => (d.migrations ? [d.migrations] : [])));
    // Tenants and logins only: bi's order facts start empty here.
    await definitions.find((d) => d.name === 'auth')!.seed!(backends.deps('auth'));
    for (const definition of definitions) {
      const server = await createSubgraphServer(definition, backends.deps(definition.name));
      servers.push(server);
      urls[definition.name] = await server.listen(definition.name === 'saleor' ? saleorPort : 0, '127.0.0.1');
    }
    gateway = await createGateway({
      config: backends.config,
      subgraphUrls: urls,
      redis: backends.deps('gateway').redis,
      verifyToken: backends.verifyToken,
    });
    base = await gateway.listen(gatewayPort, '127.0.0.1');
    graphql = `${base}/graphql`;
    admin = await login(graphql, 'owner@acme.example'); // the demo's platform administrator
    member = await login(graphql, 'editor@acme.example');
  });

  afterAll(async () => {
    await gateway?.close();
    for (const server of servers) await server.close();
    await backends?.close();
    capture.server.close();
  });

  const asAdmin = (query: string, variables?: Record<string, unknown>) => gql(graphql, query, variables, bearer(admin));

  /** bi's order row and lines, read as the tenant (row-level security applies). */
  const biOrder = (tenantId: string, orderId: string) =>
    backends.db.withTenant({ tenantId, accountId: null }, async (tx) => {
      const order = (await tx.query('SELECT * FROM bi.orders WHERE order_id = $1', [orderId])).rows[0] ?? null;
      const lines = (await tx.query('SELECT * FROM bi.order_lines WHERE order_id = $1 ORDER BY line_id COLLATE "C"', [orderId])).rows;
      return order ? { ...order, lines } : null;
    });
  const eventCount = (tenantId: string, orderId: string) =>
    backends.db.withTenant({ tenantId, accountId: null }, async (tx) =>
      Number((await tx.query('SELECT count(*) AS n FROM bi.saleor_events WHERE order_id = $1', [orderId])).rows[0].n),
    );
  /** Whether any tenant has a row of this order (as the owner role, which sees every tenant). */
  const anyTenantHas = (orderId: string) =>
    backends.deps('bi').asOwner(async (tx) => Number((await tx.query('SELECT count(*) AS n FROM bi.orders WHERE order_id = $1', [orderId])).rows[0].n));

  const variantsOf = async (channel: string, count: number) => {
    const { data } = await gql(graphql, `query($c: String) { products(first: 10, channel: $c) { edges { node { variants { id } } } } }`, { c: channel });
    return data!.products.edges.flatMap((e: any) => e.node.variants.map((v: any) => v.id)).slice(0, count) as string[];
  };

  const ORDER = `id number status isPaid updatedAt total { gross { amount currency } net { amount } }
    lines { id quantity productSku totalPrice { gross { amount } } variant { id product { id } } }`;

  /** Places an order (draft, then complete) through the gateway; its Saleor fields. */
  async function placeOrder(channelId: string, channel: string) {
    const variants = await variantsOf(channel, 2);
    const created = await asAdmin(
      `mutation($input: DraftOrderCreateInput!) { draftOrderCreate(input: $input) { order { id status } errors { field code message } } }`,
      { input: { channelId, userEmail: 'jane.doe@customer.example', lines: variants.map((variantId, i) => ({ variantId, quantity: i + 1 })) } },
    );
    expect(created.errors).toBeUndefined();
    expect(created.data!.draftOrderCreate.errors).toEqual([]);
    expect(created.data!.draftOrderCreate.order.status).toBe('DRAFT');
    const completed = await asAdmin(`mutation($id: ID!) { draftOrderComplete(id: $id) { order { ${ORDER} } errors { code } } }`, {
      id: created.data!.draftOrderCreate.order.id,
    });
    expect(completed.data!.draftOrderComplete.errors).toEqual([]);
    return completed.data!.draftOrderComplete.order;
  }

  /** POSTs a webhook to the gateway's public path, signed like the stand-in unless told otherwise. */
  async function deliver(event: string, payload: unknown, options: { signature?: string | null; body?: Buffer } = {}) {
    const body = options.body ?? Buffer.from(JSON.stringify(payload));
    const signature = options.signature === undefined ? signer.sign(body) : options.signature;
    const response = await fetch(`${base}/webhooks/saleor`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'saleor-event': event,
        'saleor-domain': new URL(saleorUrl).host,
        'saleor-api-url': saleorUrl,
        ...(signature ? { 'saleor-signature': signature } : {}),
      },
      body: new Uint8Array(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** The recorder's deliveries of one order's event. */
  const recorded = (orderId: string, event: string) =>
    capture.received.filter((r) => r.headers['saleor-event'] === event && JSON.parse(r.body.toString()).order.id === orderId);

  let placed: any;

  it('an order placed, paid and cancelled on Saleor reaches bi through signed webhooks, in its tenant', async () => {
    const generations = new CacheGenerations(backends.deps('bi').redis, backends.config.REDIS_PREFIX, 'bi');
    const before = Number(await generations.current(acme.id));
    placed = await placeOrder(ACME_CHANNEL, 'acme-channel');

    const row = await until(() => biOrder(acme.id, placed.id));
    expect(row).toMatchObject({
      number: placed.number,
      channel: 'acme-channel',
      status: 'UNFULFILLED',
      paid: false,
      total_gross: placed.total.gross.amount.toFixed(2),
      total_net: placed.total.net.amount.toFixed(2),
      currency: 'USD',
    });
    expect(new Date(row.updated_at).toISOString()).toBe(new Date(placed.updatedAt).toISOString());
    expect(row.lines.map((l: any) => [l.line_id, l.product_id, l.variant_id, l.sku, l.quantity, l.total_gross])).toEqual(
      [...placed.lines]
        .sort((a: any, b: any) => (a.id < b.id ? -1 : 1))
        .map((l: any) => [l.id, l.variant.product.id, l.variant.id, l.productSku, l.quantity, l.totalPrice.gross.amount.toFixed(2)]),
    );
    // Charts over orders are fresh at the next request.
    expect(Number(await generations.current(acme.id))).toBeGreaterThan(before);

    const paid = await asAdmin(`mutation($id: ID!) { orderMarkAsPaid(id: $id) { order { isPaid } errors { code } } }`, { id: placed.id });
    expect(paid.data!.orderMarkAsPaid).toEqual({ order: { isPaid: true }, errors: [] });
    await until(async () => (await biOrder(acme.id, placed.id))?.paid === true);

    const cancelled = await asAdmin(`mutation($id: ID!) { orderCancel(id: $id) { order { status } errors { code } } }`, { id: placed.id });
    expect(cancelled.data!.orderCancel).toEqual({ order: { status: 'CANCELED' }, errors: [] });
    await until(async () => (await biOrder(acme.id, placed.id))?.status === 'CANCELED');

    // What Saleor sends: each event once, with Saleor's headers and a detached JWS.
    await until(async () => recorded(placed.id, 'order_updated').length === 2);
    const created = recorded(placed.id, 'order_created');
    expect(created).toHaveLength(1);
    expect(recorded(placed.id, 'order_fully_paid')).toHaveLength(1);
    expect(recorded(placed.id, 'order_cancelled')).toHaveLength(1);
    const { headers, body } = created[0]!;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['saleor-api-url']).toBe(saleorUrl);
    expect(headers['saleor-domain']).toBe(new URL(saleorUrl).host);
    expect(headers['x-saleor-event']).toBe('order_created');
    expect(headers['saleor-signature']).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(JSON.parse(Buffer.from(String(headers['saleor-signature']).split('.')[0]!, 'base64url').toString())).toEqual({
      alg: 'RS256',
      b64: false,
      kid: signer.kid,
      typ: 'JWT',
    });
    expect(JSON.parse(body.toString())).toMatchObject({ __typename: 'OrderCreated', order: { id: placed.id, status: 'UNFULFILLED' } });

    // The stand-in serves the key: the JWKS Saleor publishes at the root of its domain.
    const jwks = await (await fetch(new URL('/.well-known/jwks.json', saleorUrl))).json();
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'RSA', kid: signer.kid, use: 'sig' })]);
  });

  it('a replayed webhook changes nothing', async () => {
    // The stand-in delivers to bi and to the recorder apart: the recorder may hold the last event
    // before bi has stored it. Every delivery stored first, or the count below moves under us.
    const deliveries = capture.received.filter((r) => JSON.parse(r.body.toString()).order.id === placed.id).length;
    await until(async () => (await eventCount(acme.id, placed.id)) === deliveries);
    const before = await biOrder(acme.id, placed.id);
    const events = await eventCount(acme.id, placed.id);
    for (const { headers, body } of [...recorded(placed.id, 'order_created'), ...recorded(placed.id, 'order_fully_paid')]) {
      const response = await deliver(String(headers['saleor-event']), null, { body, signature: String(headers['saleor-signature']) });
      expect(response).toEqual({ status: 200, body: { result: 'duplicate' } });
    }
    expect(await biOrder(acme.id, placed.id)).toEqual(before);
    expect(await eventCount(acme.id, placed.id)).toBe(events);
  });

  it('an older state delivered late never overwrites a newer one', async () => {
    const stored = await biOrder(acme.id, placed.id);
    // The ORDER_CREATED state (unpaid, unfulfilled), as an ORDER_UPDATED Saleor issued back then
    // and delivers only now (after retries, say): signed by Saleor, never seen by bi.
    const old = JSON.parse(recorded(placed.id, 'order_created')[0]!.body.toString());
    const late = { ...old, __typename: 'OrderUpdated', issuedAt: new Date(Date.parse(old.issuedAt) + 1).toISOString() };
    expect(await deliver('order_updated', late)).toEqual({ status: 200, body: { result: 'not-newer' } });
    expect(await biOrder(acme.id, placed.id)).toEqual(stored);
    expect(stored).toMatchObject({ status: 'CANCELED', paid: true });
  });

  it('forgets deliveries past the retention (every tenant, oldest first, in batches); a replay of a forgotten one still changes nothing', async () => {
    const stored = await biOrder(acme.id, placed.id);
    const events = await eventCount(acme.id, placed.id);
    expect(events).toBeGreaterThan(1);
    const all = () => backends.deps('bi').asOwner(async (tx) => Number((await tx.query('SELECT count(*) AS n FROM bi.saleor_events')).rows[0].n));
    const before = await all();
    // This order's deliveries were received 40 days ago, as far as bi knows; the others today.
    await backends.db.withTenant({ tenantId: acme.id, accountId: null }, (tx) =>
      tx.query(`UPDATE bi.saleor_events SET received_at = now() - interval '40 days' WHERE order_id = $1`, [placed.id]),
    );
    expect(await pruneSaleorEvents(backends.deps('bi'), 45)).toBe(0);
    // Whatever the caller asks, deliveries of the last day stay (a retention of 0 days deletes only the aged ones).
    expect(await pruneSaleorEvents(backends.deps('bi'), 0)).toBe(events);
    expect(await eventCount(acme.id, placed.id)).toBe(0);
    expect(await all()).toBe(before - events);
    expect(await pruneSaleorEvents(backends.deps('bi'), 30)).toBe(0);
    // Saleor delivers the order's first webhook again: not a duplicate any more, but not newer either.
    const first = recorded(placed.id, 'order_created')[0]!;
    expect(await deliver('order_created', null, { body: first.body, signature: String(first.headers['saleor-signature']) })).toEqual({
      status: 200,
      body: { result: 'not-newer' },
    });
    expect(await biOrder(acme.id, placed.id)).toEqual(stored);
    // The job keeps its daily schedule while the setting is on, and none when it is 0.
    const jobs = createJobSystem(backends.deps('bi'));
    try {
      await scheduleRetention(jobs, { BI_SALEOR_EVENTS_RETENTION_DAYS: 30 });
      expect(await jobs.boss.getSchedules()).toContainEqual(expect.objectContaining({ name: retentionQueue.name, cron: RETENTION_CRON }));
      await scheduleRetention(jobs, { BI_SALEOR_EVENTS_RETENTION_DAYS: 0 });
      expect((await jobs.boss.getSchedules()).map((s: { name: string }) => s.name)).not.toContain(retentionQueue.name);
    } finally {
      await jobs.stop();
    }
  });

  it('refuses a missing or bad signature (401) and writes nothing', async () => {
    const old = JSON.parse(recorded(placed.id, 'order_created')[0]!.body.toString());
    const order = { ...old.order, id: toGlobalId('Order', randomUUID()), updatedAt: new Date().toISOString() };
    const payload = { ...old, order, issuedAt: new Date().toISOString() };
    const body = Buffer.from(JSON.stringify(payload));
    const forger = await createWebhookSigner(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const [header, , signature] = forger.sign(body).split('.');
    const theirHeader = signer.sign(body).split('.')[0];
    const cases: [string, string | null, Buffer][] = [
      ['no signature', null, body],
      ['garbage', 'not-a-jws', body],
      ['another key (its own kid)', forger.sign(body), body],
      ["another key under Saleor's kid", `${theirHeader}..${signature}`, body],
      ['a body changed after signing', signer.sign(body), Buffer.from(JSON.stringify({ ...payload, order: { ...order, isPaid: true } }))],
      ['an attached (not detached) payload', `${header}.${body.toString('base64url')}.${signature}`, body],
      ['the body re-serialised', signer.sign(body), Buffer.from(JSON.stringify(payload, null, 1))],
    ];
    for (const [name, sig, sent] of cases) {
      const response = await deliver('order_created', null, { body: sent, signature: sig });
      expect(response.status, name).toBe(401);
    }
    expect(await anyTenantHas(order.id)).toBe(0);
    // The same body, correctly signed, is accepted: the refusals were the signatures'.
    expect(await deliver('order_created', null, { body })).toEqual({ status: 200, body: { result: 'applied' } });
    expect(await anyTenantHas(order.id)).toBe(1);
  });

  it('accepts a detached RS256 signature made by another implementation (jose, RFC 7797 with crit b64)', async () => {
    const old = JSON.parse(recorded(placed.id, 'order_created')[0]!.body.toString());
    const order = { ...old.order, id: toGlobalId('Order', randomUUID()) };
    const body = Buffer.from(JSON.stringify({ ...old, order }));
    const jws = await new FlattenedSign(new Uint8Array(body))
      .setProtectedHeader({ alg: 'RS256', b64: false, crit: ['b64'], kid: signer.kid })
      .sign(await importPKCS8(pem, 'RS256'));
    expect(await deliver('order_created', null, { body, signature: `${jws.protected}..${jws.signature}` })).toEqual({
      status: 200,
      body: { result: 'applied' },
    });
    expect(await anyTenantHas(order.id)).toBe(1);
  });

  it('refuses events bi does not subscribe to and bodies that are not order events (400)', async () => {
    const old = JSON.parse(recorded(placed.id, 'order_created')[0]!.body.toString());
    expect((await deliver('product_updated', old)).status).toBe(400);
    expect((await deliver('order_fully_paid', old)).status).toBe(400); // the signed __typename says OrderCreated
    expect((await deliver('order_created', { product: { id: 'x' } })).status).toBe(400);
    expect((await deliver('order_created', { ...old, order: { ...old.order, total: null } })).status).toBe(400);
    expect((await deliver('order_created', null, { body: Buffer.from('{not json') })).status).toBe(400);
  });

  it('bounds the body: a larger one is refused (413)', async () => {
    const huge = Buffer.alloc(backends.config.BODY_LIMIT_BYTES + 1, 0x20);
    expect((await deliver('order_created', null, { body: huge })).status).toBe(413);
  });

  it('ignores an order of a channel no tenant has (200, so Saleor does not retry)', async () => {
    const old = JSON.parse(recorded(placed.id, 'order_created')[0]!.body.toString());
    const order = { ...old.order, id: toGlobalId('Order', randomUUID()), channel: { slug: 'nobodys-channel' } };
    const response = await deliver('order_created', { ...old, order });
    expect(response).toEqual({ status: 200, body: { result: 'ignored', reason: 'No tenant has this Saleor channel.' } });
    expect(await anyTenantHas(order.id)).toBe(0);
  });

  it("past the gateway's per-IP rate limit a delivery is answered 503 with Retry-After (Saleor retries a 5xx, drops a 4xx); /graphql 429", async () => {
    const gw = await createGateway({
      config: { ...backends.config, REDIS_PREFIX: `${backends.config.REDIS_PREFIX}limited-${randomUUID()}:`, RATE_LIMIT_PER_MINUTE_IP: 1 },
      subgraphUrls: urls,
      redis: backends.deps('gateway').redis,
      verifyToken: backends.verifyToken,
    });
    try {
      const url = await gw.listen(0, '127.0.0.1');
      const deliver = () => fetch(`${url}/webhooks/saleor`, { method: 'POST', headers: { 'content-type': 'application/json', 'saleor-event': 'order_created' }, body: '{}' });
      expect((await deliver()).status).toBe(401); // within the limit: bi's answer (no signature)
      const refused = await deliver();
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await fetch(`${url}/graphql?query=%7B__typename%7D`)).status).toBe(429);
    } finally {
      await gw.close();
    }
  });

  it("globex's channel goes to globex: neither tenant ever sees the other's orders", async () => {
    const globexOrder = await placeOrder(GLOBEX_CHANNEL, 'globex-channel');
    const row = await until(() => biOrder(globex.id, globexOrder.id));
    expect(row).toMatchObject({ channel: 'globex-channel', currency: 'EUR' });
    expect(await biOrder(acme.id, globexOrder.id)).toBeNull();
    expect(await biOrder(globex.id, placed.id)).toBeNull();
    const channels = (tenantId: string) =>
      backends.db.withTenant({ tenantId, accountId: null }, async (tx) => (await tx.query('SELECT DISTINCT channel FROM bi.orders')).rows.map((r) => r.channel));
    expect(await channels(acme.id)).toEqual(['acme-channel']);
    expect(await channels(globex.id)).toEqual(['globex-channel']);
  });

  it('keeps the order mutations to platform administrators at the gateway (members 403, anonymous 401)', async () => {
    const CANCEL = `mutation($id: ID!) { orderCancel(id: $id) { order { status } errors { code } } }`;
    const forMember = await gql(graphql, CANCEL, { id: placed.id }, bearer(member));
    expect(forMember.status).toBe(403);
    expect(forMember.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    const anonymous = await gql(graphql, CANCEL, { id: placed.id });
    expect(anonymous.status).toBe(401);
    // And the stand-in itself wants the App token, as Saleor does.
    const direct = await gql(saleorUrl, CANCEL, { id: placed.id });
    expect(direct.errors![0]!.extensions!.code).toBe('FORBIDDEN');
  });

  it("answers bad input in Saleor's payload errors", async () => {
    const [variantId] = await variantsOf('acme-channel', 1);
    const CREATE = `mutation($input: DraftOrderCreateInput!) { draftOrderCreate(input: $input) { order { id } errors { field code } } }`;
    expect((await asAdmin(CREATE, { input: { lines: [{ variantId, quantity: 1 }] } })).data!.draftOrderCreate).toEqual({
      order: null,
      errors: [{ field: 'channelId', code: 'REQUIRED' }],
    });
    expect((await asAdmin(CREATE, { input: { channelId: ACME_CHANNEL, lines: [{ variantId, quantity: 0 }] } })).data!.draftOrderCreate.errors).toEqual([
      { field: 'quantity', code: 'ZERO_QUANTITY' },
    ]);
    const again = await asAdmin(`mutation($id: ID!) { orderCancel(id: $id) { order { id } errors { field code } } }`, { id: placed.id });
    expect(again.data!.orderCancel).toEqual({ order: null, errors: [{ field: 'order', code: 'CANNOT_CANCEL_ORDER' }] });
  });

  it('retries a delivery the receiver failed (5xx) with backoff, and never one it refused (4xx)', async () => {
    capture.statuses.push(503, 503); // the first two attempts of the next delivery fail
    const order = await placeOrder(ACME_CHANNEL, 'acme-channel');
    const attempts = await until(async () => (recorded(order.id, 'order_created').length >= 3 ? recorded(order.id, 'order_created') : null), 10_000);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.body.toString())).size).toBe(1);
    capture.statuses.push(404);
    await asAdmin(`mutation($id: ID!) { orderMarkAsPaid(id: $id) { errors { code } } }`, { id: order.id });
    await until(async () => recorded(order.id, 'order_fully_paid').length >= 1 && recorded(order.id, 'order_updated').length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 500)); // past the first retries' backoff (100 and 200 ms)
    // One of the two met the 404: neither was sent again.
    expect([recorded(order.id, 'order_fully_paid').length, recorded(order.id, 'order_updated').length]).toEqual([1, 1]);
  });

  it('the backfill fills an empty table with the channel\'s orders, idempotently and resumably', async () => {
    const deps = backends.deps('bi');
    await deps.asOwner((tx) => tx.query('DELETE FROM bi.orders WHERE tenant_id = $1', [acme.id]));
    const count = () =>
      backends.db.withTenant({ tenantId: acme.id, accountId: null }, async (tx) => Number((await tx.query('SELECT count(*) AS n FROM bi.orders')).rows[0].n));
    expect(await count()).toBe(0);
    const { data } = await asAdmin(`{ orders(first: 100, channel: "acme-channel") { totalCount edges { node { id status } } } }`);
    const saleorOrders = data!.orders.edges.map((e: any) => e.node);
    expect(saleorOrders.length).toBeGreaterThan(5);

    const saleor = httpSaleorClient(saleorUrl, backends.config.SALEOR_APP_TOKEN);
    // Two orders a page, one page at a time: each step resumes where the last stopped.
    const first = await backfillSaleorOrders(deps, 'acme-channel', saleor, { pageSize: 2, maxPages: 1 });
    expect(first).toMatchObject({ tenantId: acme.id, read: 2, written: 2 });
    expect(first.cursor).toBeTruthy();
    const rest = await backfillSaleorOrders(deps, 'acme-channel', saleor, { pageSize: 2, after: first.cursor });
    expect(rest.cursor).toBeNull();
    expect(first.read + rest.read).toBe(saleorOrders.length);
    expect(await count()).toBe(saleorOrders.length);

    const rows = await backends.db.withTenant({ tenantId: acme.id, accountId: null }, async (tx) =>
      (await tx.query('SELECT order_id, status FROM bi.orders ORDER BY order_id COLLATE "C"')).rows,
    );
    expect(rows).toEqual(saleorOrders.map((o: any) => ({ order_id: o.id, status: o.status })).sort((a: any, b: any) => (a.order_id < b.order_id ? -1 : 1)));

    const again = await backfillSaleorOrders(deps, 'acme-channel', saleor);
    expect(again).toMatchObject({ read: saleorOrders.length, written: 0, cursor: null });
    expect(await count()).toBe(saleorOrders.length);
    // Globex's facts are untouched by acme's backfill.
    expect((await backfillSaleorOrders(deps, 'nobodys-channel', saleor)).tenantId).toBeNull();
  });

  it('backfillSaleorOrders: platform administrators backfill a channel into its tenant through the gateway', async () => {
    const BACKFILL = `mutation($channel: String!) { backfillSaleorOrders(channel: $channel) { read written cursor errors { field code } } }`;
    const refused = await gql(graphql, BACKFILL, { channel: 'globex-channel' }, bearer(member));
    expect(refused.errors![0]!.extensions!.code).toBe('FORBIDDEN');

    await backends.deps('bi').asOwner((tx) => tx.query('DELETE FROM bi.orders WHERE tenant_id = $1', [globex.id]));
    const { data } = await asAdmin(`{ orders(first: 100, channel: "globex-channel") { totalCount } }`);
    const total = data!.orders.totalCount;
    // The administrator's token is acme's; the orders go to globex, whose channel it is.
    const done = await asAdmin(BACKFILL, { channel: 'globex-channel' });
    expect(done.data!.backfillSaleorOrders).toEqual({ read: total, written: total, cursor: null, errors: [] });
    const rows = await backends.db.withTenant({ tenantId: globex.id, accountId: null }, async (tx) => (await tx.query('SELECT channel FROM bi.orders')).rows);
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.channel))).toEqual(new Set(['globex-channel']));
    expect((await asAdmin(BACKFILL, { channel: 'globex-channel' })).data!.backfillSaleorOrders).toMatchObject({ read: total, written: 0 });
    expect((await asAdmin(BACKFILL, { channel: 'nobodys-channel' })).data!.backfillSaleorOrders.errors).toEqual([{ field: 'channel', code: 'NOT_FOUND' }]);
  });

  it('startSaleorBackfill: a durable job backfills a channel into its tenant; one at a time; progress by saleorBackfill', async () => {
    const START = `mutation($channel: String!) { startSaleorBackfill(channel: $channel) { backfill { id channel status } errors { field code } } }`;
    const PROGRESS = `query($channel: String!) { saleorBackfill(channel: $channel) { id status read written error finishedAt } }`;
    for (const query of [START, PROGRESS]) {
      const refused = await gql(graphql, query, { channel: 'globex-channel' }, bearer(member));
      expect(refused.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    }
    expect((await asAdmin(START, { channel: 'nobodys-channel' })).data!.startSaleorBackfill.errors).toEqual([{ field: 'channel', code: 'NOT_FOUND' }]);
    expect((await asAdmin(START, { channel: 'Not a slug!' })).data!.startSaleorBackfill.errors).toEqual([{ field: 'channel', code: 'INVALID' }]);

    await backends.deps('bi').asOwner((tx) => tx.query('DELETE FROM bi.orders WHERE tenant_id = $1', [globex.id]));
    const total = (await asAdmin(`{ orders(first: 100, channel: "globex-channel") { totalCount } }`)).data!.orders.totalCount;
    // Two starts at once: one backfill, both answers name it.
    const [a, b] = await Promise.all([asAdmin(START, { channel: 'globex-channel' }), asAdmin(START, { channel: 'globex-channel' })]);
    expect(a.data!.startSaleorBackfill.errors).toEqual([]);
    expect(b.data!.startSaleorBackfill.backfill.id).toBe(a.data!.startSaleorBackfill.backfill.id);
    const id = a.data!.startSaleorBackfill.backfill.id;
    let progress: any;
    await until(async () => {
      progress = (await asAdmin(PROGRESS, { channel: 'globex-channel' })).data!.saleorBackfill;
      return progress.status === 'SUCCEEDED';
    });
    expect(progress).toMatchObject({ id, read: total, written: total, error: null });
    expect(progress.finishedAt).toBeTruthy();
    const rows = await backends.db.withTenant({ tenantId: globex.id, accountId: null }, async (tx) => (await tx.query('SELECT channel FROM bi.orders')).rows);
    expect(rows).toHaveLength(total);
    // Acme's token started it; the row is globex's, where acme's members cannot see it.
    const acmeRows = await backends.db.withTenant({ tenantId: acme.id, accountId: null }, async (tx) => (await tx.query('SELECT id FROM bi.saleor_backfills WHERE id = $1', [id])).rows);
    expect(acmeRows).toEqual([]);

    // A retried step whose step was stored already does nothing; a step failing past the last retry fails the backfill cleanly.
    const deps = backends.deps('bi');
    const job = (data: { backfillId: string; step: number }, attempt = 1) => ({
      tenantId: globex.id,
      data,
      attempt,
      signal: new AbortController().signal,
      tx: <T>(fn: (tx: any) => Promise<T>) => backends.db.withTenant({ tenantId: globex.id, accountId: null }, fn),
    });
    const failing = async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.1:8000');
    };
    await runBackfillStep(deps, failing, job({ backfillId: id, step: 0 }, 99));
    expect((await asAdmin(PROGRESS, { channel: 'globex-channel' })).data!.saleorBackfill).toMatchObject({ id, status: 'SUCCEEDED', read: total });
    // A backfill without a job (so the worker never takes it): its step with a Saleor that fails.
    const [{ id: stuck }] = (
      await deps.asOwner((tx) =>
        tx.query(`INSERT INTO bi.saleor_backfills (tenant_id, channel) VALUES ($1, 'globex-channel') RETURNING id`, [globex.id]),
      )
    ).rows;
    await expect(runBackfillStep(deps, failing, job({ backfillId: stuck, step: 0 }, 1))).rejects.toThrow(/ECONNREFUSED/);
    expect((await asAdmin(PROGRESS, { channel: 'globex-channel' })).data!.saleorBackfill).toMatchObject({ id: stuck, status: 'RUNNING', error: null });
    await runBackfillStep(deps, failing, job({ backfillId: stuck, step: 0 }, (backfillQueue.options.retryLimit ?? 0) + 1));
    const failed = (await asAdmin(PROGRESS, { channel: 'globex-channel' })).data!.saleorBackfill;
    expect(failed).toMatchObject({ id: stuck, status: 'FAILED', read: 0 });
    expect(failed.error).toMatch(/Saleor could not be read/);
    expect(failed.error).not.toMatch(/ECONNREFUSED|10\.0\.0\.1/);
  });

  it("the demo seed loads each demo tenant's Saleor orders before any server listens, idempotently", async () => {
    const deps = backends.deps('bi');
    await deps.asOwner((tx) => tx.query('DELETE FROM bi.orders WHERE tenant_id = ANY($1)', [[acme.id, globex.id]]));
    const counts = async () =>
      Promise.all(
        [acme, globex].map((tenant) =>
          backends.db.withTenant({ tenantId: tenant.id, accountId: null }, async (tx) => Number((await tx.query('SELECT count(*) AS n FROM bi.orders')).rows[0].n)),
        ),
      );
    const totals = await Promise.all(
      ['acme-channel', 'globex-channel'].map(async (channel) => (await asAdmin(`query($c: String) { orders(first: 1, channel: $c) { totalCount } }`, { c: channel })).data!.orders.totalCount),
    );
    await seedOrderFacts(deps);
    expect(await counts()).toEqual(totals);
    await seedOrderFacts(deps);
    expect(await counts()).toEqual(totals);
  });

  it("bi's receiver follows Saleor's key (a rotated key under the same kid verifies after one JWKS reload), answers 503 while the JWKS cannot be read, bounds bodies", async () => {
    // A bi receiver of its own, reading the JWKS from a server this test controls.
    let served: unknown = null;
    const jwksServer = createServer((_request, response) => {
      if (!served) return void response.writeHead(503).end();
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const bi = (await loadSubgraphs()).find((d) => d.name === 'bi')!;
    const env = { ...backends.env, SALEOR_JWKS_URL: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json` };
    const receiver = await createSubgraphServer(bi, { ...backends.deps('bi'), env });
    const url = (await receiver.listen(0, '127.0.0.1')).replace(/\/graphql$/, '/webhooks/saleor');
    // Saleor's kid is always "1": a new key comes under the old kid.
    const KID = '1';
    const keyPair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwksOf = (key: ReturnType<typeof keyPair>) => ({ keys: [{ ...key.publicKey.export({ format: 'jwk' }), kid: KID, use: 'sig' }] });
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', b64: false, kid: KID, typ: 'JWT' })).toString('base64url');
    const old = JSON.parse(recorded(placed.id, 'order_created')[0]!.body.toString());
    const post = async (key: ReturnType<typeof keyPair>) => {
      const body = Buffer.from(JSON.stringify({ ...old, order: { ...old.order, id: toGlobalId('Order', randomUUID()) } }));
      const signature = cryptoSign('sha256', Buffer.concat([Buffer.from(`${header}.`), body]), key.privateKey).toString('base64url');
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'saleor-event': 'order_created', 'saleor-signature': `${header}..${signature}` },
        body: new Uint8Array(body),
      });
      return response.status;
    };
    try {
      const first = keyPair();
      expect(await post(first)).toBe(503); // the JWKS cannot be read: Saleor retries
      served = jwksOf(first);
      expect(await post(first)).toBe(200);
      const rotated = keyPair();
      served = jwksOf(rotated);
      expect(await post(rotated)).toBe(200);
      expect(await post(first)).toBe(401);
      // bi bounds the body itself too (SALEOR_WEBHOOK_MAX_BYTES), whatever reaches it.
      const tooLarge = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array(2 * 1024 * 1024) });
      expect(tooLarge.status).toBe(413);
    } finally {
      await receiver.close();
      jwksServer.close();
    }
  });
});
