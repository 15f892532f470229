import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContentPageDocument, LoginDocument, PipelineBoardDocument } from '../clients/__generated__/graphql.ts';
import type { GatewayContext } from '../gateway/context.ts';
import type { Gateway } from '../gateway/server.ts';
import { DEFAULT_MANIFEST, loadManifest, manifestOf } from '../gateway/trusted-documents.ts';
import { ConfigError } from '../subgraphs/kit/config.ts';
import { delegationSecret } from '../subgraphs/kit/delegation-secret.ts';
import { ANONYMOUS } from '../subgraphs/kit/principal.ts';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { bearer, DEMO_PASSWORD, postJson } from './support/graphql.ts';
import { rest } from './support/rest.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// Trusted documents (gateway/trusted-documents.ts) through the gateway over HTTP: TRUSTED_DOCUMENTS
// off / allow (the default: the stack's own gateway) / only, documentId and APQ, hashes that do
// not match, the REST shim and agent runs in `only`, and the typed client operations
// (clients/operations, generated into clients/__generated__) run by id against the demo data.

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** The id the client preset embeds in a generated document (`sha256:<hex>`). */
const idOf = (document: TypedDocumentNode<any, any>) => (document as unknown as { __meta__: { hash: string } }).__meta__.hash;

/** A document of no manifest, and another one, for APQ. */
const ARBITRARY = '{ __typename }';
const extra = () => `query Extra${Math.random().toString(36).slice(2)} { __typename }`;
/** A document only in the test's second manifest. */
const LISTED = 'query Listed { __typename }';

let stack: RunningSupergraph;
let allowUrl: string;
let only: { gateway: Gateway; base: string; graphql: string };
let off: { gateway: Gateway; base: string; graphql: string };

interface Answer<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
  headers: Headers;
}

async function post<T = Record<string, any>>(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer<T>> {
  const response = await postJson(url, body, { headers });
  const json = (await response.json()) as { data?: T | null; errors?: Answer['errors'] };
  return { status: response.status, data: json.data, errors: json.errors, headers: response.headers };
}

/** A typed operation by its id, as a client built with the generated documents sends it. */
function byId<T, V>(url: string, document: TypedDocumentNode<T, V>, variables: V, options: { headers?: Record<string, string>; bareId?: boolean } = {}) {
  const id = idOf(document);
  return post<T>(url, { documentId: options.bareId ? id.replace(/^sha256:/, '') : id, variables }, options.headers);
}

/** GET, as a CDN-cacheable persisted query is sent (`apollo-require-preflight` for CSRF prevention). */
async function getById<T>(url: string, id: string, variables: Record<string, unknown>): Promise<Answer<T>> {
  const search = new URLSearchParams({ documentId: id, variables: JSON.stringify(variables) });
  const response = await fetch(`${url}?${search}`, { headers: { 'apollo-require-preflight': 'true' } });
  const json = (await response.json()) as { data?: T | null; errors?: Answer['errors'] };
  return { status: response.status, data: json.data, errors: json.errors, headers: response.headers };
}

const apq = (query: string | undefined, hash: string) => ({ ...(query === undefined ? {} : { query }), extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
const codeOf = (answer: Answer) => answer.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  stack = await startSupergraph();
  allowUrl = stack.graphql;
  const dir = mkdtempSync(join(tmpdir(), 'trusted-documents-'));
  const second = join(dir, 'more.json');
  writeFileSync(second, JSON.stringify({ [sha256(LISTED)]: LISTED })); // a bare hex key, as other tools write
  const start = async (config: Parameters<RunningSupergraph['startGateway']>[0]) => {
    const started = await stack.startGateway(config);
    return { ...started, graphql: `${started.base}/graphql` };
  };
  [only, off] = await Promise.all([
    start({ config: { TRUSTED_DOCUMENTS: 'only', TRUSTED_DOCUMENTS_MANIFEST: [DEFAULT_MANIFEST, second] } }),
    start({ config: { TRUSTED_DOCUMENTS: 'off' } }),
  ]);
});
afterAll(async () => {
  await only?.gateway.close();
  await off?.gateway.close();
  await stack?.close();
});

describe('the typed client operations, by id, on a gateway with TRUSTED_DOCUMENTS=only', () => {
  it('logs in (auth)', async () => {
    const login = await byId(only.graphql, LoginDocument, { email: 'editor@acme.example', password: DEMO_PASSWORD });
    expect(login.errors).toBeUndefined();
    expect(login.data!.login).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', errors: [] });
  });

  it("shows a member the pipeline board (crm, with the deals' contacts, owners and Saleor products), by the bare hex id", async () => {
    const token = await stack.token('viewer@acme.example');
    const { data, errors } = await byId(only.graphql, PipelineBoardDocument, { first: 50 }, { headers: bearer(token), bareId: true });
    expect(errors).toBeUndefined();
    const stages = data!.pipeline!.stages;
    expect(stages.length).toBeGreaterThan(1);
    expect(stages.map((s) => s.stage.position)).toEqual([...stages.map((s) => s.stage.position)].sort((a, b) => a - b));
    const open = new Set(stages.filter((s) => s.stage.kind === 'OPEN').map((s) => s.stage.id));
    const deals = data!.deals!.edges.map((e) => e.node);
    expect(deals.length).toBeGreaterThan(0);
    for (const deal of deals) expect(open.has(deal.stage.id)).toBe(true);
    // Each open column's count is the deals placed in it (the demo data fits one page).
    if (!data!.deals!.pageInfo.hasNextPage) {
      for (const summary of stages.filter((s) => open.has(s.stage.id))) {
        expect(deals.filter((d) => d.stage.id === summary.stage.id).length).toBe(summary.dealCount);
      }
    }
    expect(deals.some((d) => d.owner?.name)).toBe(true);
  });

  it('serves a published content page with its Saleor products to an anonymous storefront, by GET', async () => {
    const { status, data, errors } = await getById<import('../clients/__generated__/graphql.ts').ContentPageQuery>(only.graphql, idOf(ContentPageDocument), {
      site: 'acme',
      path: '/home',
    });
    expect(errors).toBeUndefined();
    expect(status).toBe(200);
    const page = data!.publishedContentPage!;
    expect(page.title).toBe('Welcome to Acme');
    expect(page.featuredProducts.map((p) => p?.slug)).toEqual(['classic-t-shirt', 'vintage-t-shirt', 'organic-t-shirt']);
    expect(page.featuredProducts[0]!.pricing!.priceRange!.start!.gross.currency).toBe('USD');
    const block = page.body.find((b) => b.__typename === 'ProductBlock');
    expect(block).toMatchObject({ caption: 'Our best seller', product: { name: 'Classic T-Shirt' } });
    expect(data!.navigation!.edges.map((e) => e.node.urlPath)).toContain('/home');
  });
});

describe('TRUSTED_DOCUMENTS=only', () => {
  it('refuses a document of no manifest with PERSISTED_QUERY_NOT_ALLOWED (400), and accepts the text of a listed one', async () => {
    const refused = await post(only.graphql, { query: ARBITRARY });
    expect(refused.status).toBe(400);
    expect(codeOf(refused)).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    expect(refused.errors![0]!.message).toMatch(/trusted documents only/);
    expect(refused.data).toBeUndefined();
    // (Refused before its document is looked at: a document that would not even parse gets the same answer.)
    expect(codeOf(await post(only.graphql, { query: '{ not graphql' }))).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    const listed = await post(only.graphql, { query: LISTED });
    expect(listed).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    // A second manifest (TRUSTED_DOCUMENTS_MANIFEST is a list), keyed by the bare hex.
    expect(await post(only.graphql, { documentId: `sha256:${sha256(LISTED)}` })).toMatchObject({ status: 200, data: { __typename: 'Query' } });
  });

  it('answers an unknown id PERSISTED_QUERY_NOT_FOUND, and a malformed one BAD_REQUEST', async () => {
    const unknown = await post(only.graphql, { documentId: `sha256:${sha256(ARBITRARY)}` });
    expect(unknown.status).toBe(400);
    expect(codeOf(unknown)).toBe('PERSISTED_QUERY_NOT_FOUND');
    const malformed = await post(only.graphql, { documentId: 'md5:1234' });
    expect(malformed.status).toBe(400);
    expect(codeOf(malformed)).toBe('BAD_REQUEST');
  });

  it('refuses to register an unknown document as APQ (and so never serves it by hash); a listed one works by hash alone', async () => {
    const query = extra();
    const register = await post(only.graphql, apq(query, sha256(query)));
    expect(register.status).toBe(400);
    expect(codeOf(register)).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    expect(codeOf(await post(only.graphql, apq(undefined, sha256(query))))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await post(only.graphql, apq(undefined, sha256(LISTED)))).toMatchObject({ status: 200, data: { __typename: 'Query' } });
  });

  it('runs the REST shim: its operations are built in code, trusted by construction', async () => {
    const login = await rest(`${only.base}/api/brain/auth/login`, { method: 'POST', json: { email: 'editor@acme.example', password: DEMO_PASSWORD } });
    expect(login.status).toBe(200);
    const me = await rest(`${only.base}/api/brain/auth/me`, { token: login.body.access_token });
    expect(me).toMatchObject({ status: 200, body: { email: 'editor@acme.example' } });
    const deals = await rest(`${only.base}/api/brain/django-crm/deals`, { token: login.body.access_token });
    expect(deals.status).toBe(200);
    expect(deals.body.results.length).toBeGreaterThan(0);
    // The warm-up and any other in-process operation, the same way.
    const contextValue: GatewayContext = { requestId: 'in-process', clientIp: '127.0.0.1', authorization: undefined, principal: ANONYMOUS, trace: { operationName: null }, clientGone: () => false };
    const inProcess = await only.gateway.apollo.executeOperation({ query: ARBITRARY }, { contextValue });
    expect(inProcess.body.kind === 'single' && inProcess.body.singleResult).toMatchObject({ data: { __typename: 'Query' } });
  });

  it("runs agent runs' documents (a delegated token of the agents subgraph), not a member's own", async () => {
    const editor = DEMO_ACCOUNTS.find((a) => a.email === 'editor@acme.example')!;
    const delegated = await postJson(
      new URL('/internal/delegate', stack.urls.auth).toString(),
      { tenantId: DEMO_TENANTS[0].id, accountId: editor.id },
      { headers: bearer(delegationSecret(stack.backends.config, undefined)) },
    );
    expect(delegated.status).toBe(200);
    const { accessToken } = (await delegated.json()) as { accessToken: string };
    const query = 'query AgentRoles { viewer { roles } }';
    expect(await post(only.graphql, { query }, bearer(accessToken))).toMatchObject({ status: 200, data: { viewer: { roles: ['EDITOR'] } } });
    const member = await post(only.graphql, { query }, bearer(await stack.token('viewer@acme.example')));
    expect(codeOf(member)).toBe('PERSISTED_QUERY_NOT_ALLOWED');
  });
});

describe('TRUSTED_DOCUMENTS=allow (the default)', () => {
  it('resolves ids of the manifest and still accepts any document', async () => {
    const page = await byId(allowUrl, ContentPageDocument, { site: 'globex', path: '/home' });
    expect(page.data!.publishedContentPage!.title).toBe('Globex Corporation');
    expect(await post(allowUrl, { query: ARBITRARY })).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    expect(codeOf(await post(allowUrl, { documentId: `sha256:${sha256(ARBITRARY)}` }))).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('keeps APQ: a miss, the registration, then the hash alone; a manifest hash needs no registration', async () => {
    const query = extra();
    const miss = await post(allowUrl, apq(undefined, sha256(query)));
    expect(codeOf(miss)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await post(allowUrl, apq(query, sha256(query)))).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    expect(await post(allowUrl, apq(undefined, sha256(query)))).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    const page = await post(allowUrl, { ...apq(undefined, idOf(ContentPageDocument).slice(7)), variables: { site: 'acme', path: '/home' } });
    expect(page.data!.publishedContentPage.title).toBe('Welcome to Acme');
  });
});

describe('TRUSTED_DOCUMENTS=off', () => {
  it('accepts any document and keeps APQ, but serves no document by id', async () => {
    expect(await post(off.graphql, { query: ARBITRARY })).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    const query = extra();
    expect(await post(off.graphql, apq(query, sha256(query)))).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    expect(await post(off.graphql, apq(undefined, sha256(query)))).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    const byIdOff = await byId(off.graphql, ContentPageDocument, { site: 'acme', path: '/home' });
    expect(byIdOff.status).toBe(400);
    expect(codeOf(byIdOff)).toBe('PERSISTED_QUERY_NOT_FOUND');
  });
});

describe('a hash that does not match its document', () => {
  it('is refused with PERSISTED_QUERY_HASH_MISMATCH (400) in every mode, and nothing is registered', async () => {
    const listedHash = sha256(LISTED);
    for (const url of [off.graphql, allowUrl, only.graphql]) {
      const query = extra();
      const viaApq = await post(url, apq(query, listedHash));
      expect(viaApq.status, url).toBe(400);
      expect(codeOf(viaApq), url).toBe('PERSISTED_QUERY_HASH_MISMATCH');
      expect(viaApq.errors![0]!.message).toMatch(/does not match its hash/);
      const viaId = await post(url, { query, documentId: `sha256:${listedHash}` });
      expect(codeOf(viaId), url).toBe('PERSISTED_QUERY_HASH_MISMATCH');
      // Not registered under either hash.
      expect(codeOf(await post(url, apq(undefined, sha256(query)))), url).toBe('PERSISTED_QUERY_NOT_FOUND');
    }
    // Both ids at once, naming different documents.
    const both = await post(allowUrl, { documentId: idOf(LoginDocument), ...apq(undefined, listedHash) });
    expect(codeOf(both)).toBe('PERSISTED_QUERY_HASH_MISMATCH');
  });
});

describe('the manifest', () => {
  it("is the client preset's: every typed operation, each entry its document's sha256", () => {
    const manifest = loadManifest([DEFAULT_MANIFEST]);
    for (const document of [LoginDocument, PipelineBoardDocument, ContentPageDocument]) {
      const hash = idOf(document).replace(/^sha256:/, '');
      expect(sha256(manifest.get(hash)!)).toBe(hash);
    }
  });

  it('a bad manifest, or none with `only`, stops the gateway at start with the setting named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusted-documents-'));
    const forged = join(dir, 'forged.json');
    writeFileSync(forged, JSON.stringify({ [`sha256:${sha256(LISTED)}`]: ARBITRARY }));
    expect(() => loadManifest([forged])).toThrow(ConfigError);
    expect(() => loadManifest([forged])).toThrow(/TRUSTED_DOCUMENTS_MANIFEST: .*does not hash to it/);
    expect(() => manifestOf({ TRUSTED_DOCUMENTS: 'only', TRUSTED_DOCUMENTS_MANIFEST: [join(dir, 'missing.json')] })).toThrow(/no such file/);
    expect(manifestOf({ TRUSTED_DOCUMENTS: 'off', TRUSTED_DOCUMENTS_MANIFEST: [join(dir, 'missing.json')] }).size).toBe(0);
  });
});
