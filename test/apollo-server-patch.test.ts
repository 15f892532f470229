import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';

/*
 * patches/@apollo+server+5.5.1.patch (requestPipeline.js, both builds: the gateway and the
 * subgraphs import the ES module one, a CommonJS `require` gets the other):
 * - a query text's sha256 (Apollo Server's key for its parsed-document cache and for APQ) is
 *   computed once per text, not once per request;
 * - the Accept header is negotiated only when it names multipart/mixed (the only case where
 *   the legacy incremental-delivery type can win).
 */
type Server = typeof import('@apollo/server');
const require = createRequire(import.meta.url);
const builds: [string, Server][] = [
  ['ES module', (await import('@apollo/server')) as Server],
  ['CommonJS', require('@apollo/server') as Server],
];
const typeDefs = 'type Query { hello(name: String): String }';
const resolvers = { Query: { hello: (_: unknown, args: { name?: string }) => `hi ${args.name ?? 'you'}` } };
const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

afterEach(() => vi.restoreAllMocks());

describe.each(builds)('Apollo Server patch (%s build)', (_name, { ApolloServer }) => {
  it('hashes a query text once: the same text again costs no sha256, and still answers', async () => {
    const server = new ApolloServer({ typeDefs, resolvers });
    // A text no other test sends, so this process has not hashed it yet.
    const query = `query Once_${Math.random().toString(36).slice(2)} { hello(name: "ada") }`;
    const hashes = vi.spyOn(crypto, 'createHash');
    const first = await server.executeOperation({ query });
    const sha256Calls = () => hashes.mock.calls.filter(([kind]) => kind === 'sha256').length;
    expect(sha256Calls()).toBe(1);
    const second = await server.executeOperation({ query });
    expect(sha256Calls()).toBe(1);
    for (const response of [first, second]) {
      expect(response.body.kind === 'single' && response.body.singleResult).toEqual({ data: { hello: 'hi ada' } });
    }
    await server.stop();
  });

  it('APQ still checks a sent hash against the text, when the text is already known', async () => {
    const server = new ApolloServer({ typeDefs, resolvers });
    const query = `query Apq_${Math.random().toString(36).slice(2)} { hello }`;
    const known = await server.executeOperation({ query });
    expect(known.body.kind === 'single' && known.body.singleResult.data).toEqual({ hello: 'hi you' });
    const wrong = await server.executeOperation({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256('something else') } } });
    expect(wrong.body.kind === 'single' && wrong.body.singleResult.errors?.[0]?.message).toBe('provided sha does not match query');
    // Registered under its real hash, then sent by hash alone.
    const right = await server.executeOperation({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } });
    expect(right.body.kind === 'single' && right.body.singleResult.errors).toBeUndefined();
    const byHash = await server.executeOperation({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } });
    expect(byHash.body.kind === 'single' && byHash.body.singleResult.data).toEqual({ hello: 'hi you' });
    await server.stop();
  });
});

describe('Apollo Server patch: Accept negotiation', () => {
  const SKIP_UNLESS = "useLegacyIncremental: /multipart|\\*/i.test(request.http?.headers.get('accept') ?? '') && new";
  // (The package exports no file paths: from its CommonJS entry, dist/cjs/index.js.)
  const dist = dirname(dirname(require.resolve('@apollo/server')));

  it('both builds skip the negotiation only where it cannot pick the legacy type', () => {
    for (const build of ['esm', 'cjs']) {
      expect(readFileSync(join(dist, build, 'requestPipeline.js'), 'utf8')).toContain(SKIP_UNLESS);
    }
    // Apollo Server's own expression, with Apollo Server's own negotiator and media types.
    type NegotiatorClass = new (request: { headers: { accept?: string } }) => { mediaType(types: string[]): string | undefined };
    const Negotiator = createRequire(require.resolve('@apollo/server'))('negotiator') as NegotiatorClass;
    const { MEDIA_TYPES } = require(join(dist, 'cjs', 'ApolloServer.js')) as { MEDIA_TYPES: Record<string, string> };
    const legacy = (accept: string | undefined) =>
      new Negotiator({ headers: { accept } }).mediaType([MEDIA_TYPES.MULTIPART_MIXED_EXPERIMENTAL_ALPHA_9!, MEDIA_TYPES.MULTIPART_MIXED_EXPERIMENTAL_ALPHA_2!]) ===
      MEDIA_TYPES.MULTIPART_MIXED_EXPERIMENTAL_ALPHA_2;
    const patched = (accept: string | undefined) => /multipart|\*/i.test(accept ?? '') && legacy(accept);
    const accepts = [
      undefined,
      '',
      'application/json',
      'application/graphql-response+json, application/json;q=0.9',
      'text/html,application/xhtml+xml',
      '*/*',
      '*/*;deferSpec=20220824',
      'multipart/*;deferSpec=20220824',
      'Multipart/Mixed;deferSpec=20220824',
      'multipart/mixed;deferSpec=20220824,application/json',
      'multipart/mixed;incrementalSpec=v0.2, multipart/mixed;deferSpec=20220824;q=0.5',
    ];
    for (const accept of accepts) expect([accept, patched(accept)]).toEqual([accept, legacy(accept)]);
    expect(accepts.filter(legacy).length).toBeGreaterThan(2); // the list holds headers that pick it
  });
});
