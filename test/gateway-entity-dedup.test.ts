import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dedupeRepresentations, expandEntities } from '../gateway/entity-dedup.ts';
import type { Gateway } from '../gateway/server.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';
import { startFakeGateway, startFakeSubgraph, type FakeSubgraph } from './support/gateway-fakes.ts';
import { postJson } from './support/graphql.ts';

/**
 * Three subgraphs where one query names the same entities many times: ten reviews by three
 * authors (one of whom the accounts subgraph cannot load), each author with a best friend whose
 * bio lives in a third subgraph. The gateway sends each distinct representation once and must
 * answer exactly as if it had sent them all.
 */
const FED2 = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
const REVIEWS_SDL = `${FED2}
type Query { reviews: [Review!]! }
type Review { id: ID! author: User }
type User @key(fields: "id") { id: ID! }
`;
const ACCOUNTS_SDL = `${FED2}
type User @key(fields: "id") { id: ID! name: String bestFriend: User }
`;
const PROFILES_SDL = `${FED2}
type User @key(fields: "id") { id: ID! bio: String }
`;

const AUTHOR_OF_REVIEW = ['1', '2', '1', 'broken', '3', '1', '2', 'broken', '1', '3'];
const NAMES: Record<string, string> = { '1': 'Ada', '2': 'Grace', '3': 'Edsger' };
const BEST_FRIEND: Record<string, string> = { '1': '2', '2': '1', '3': '1' };

/** Representations each subgraph was asked to resolve, per fetch. */
const resolved = { accounts: 0, profiles: 0 };

let backends: TestBackends;
let subgraphs: FakeSubgraph[];
let gateway: Gateway;
let base: string;

const query = async (text: string) => (await postJson(`${base}/graphql`, { query: text })).json() as Promise<{ data?: any; errors?: any[] }>;

beforeAll(async () => {
  backends = await createTestBackends();
  subgraphs = [
    await startFakeSubgraph('reviews', REVIEWS_SDL, {
      Query: { reviews: () => AUTHOR_OF_REVIEW.map((author, i) => ({ id: `r${i}`, author: { id: author } })) },
    }),
    await startFakeSubgraph('accounts', ACCOUNTS_SDL, {
      User: {
        // async: a rejection fails that one entity (a synchronous throw would fail the whole fetch)
        __resolveReference: async ({ id }: { id: string }) => {
          resolved.accounts++;
          if (!NAMES[id]) throw new Error(`No account ${id}`);
          return { id, name: NAMES[id], bestFriend: { id: BEST_FRIEND[id] } };
        },
      },
    }),
    await startFakeSubgraph('profiles', PROFILES_SDL, {
      User: {
        __resolveReference: ({ id }: { id: string }) => {
          resolved.profiles++;
          return { id, bio: `bio of ${id}` };
        },
      },
    }),
  ];
  ({ gateway, base } = await startFakeGateway(backends, subgraphs));
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all(subgraphs?.map((s) => s.close()) ?? []);
  await backends?.close();
});

describe('entity fetches send each distinct representation once', () => {
  it('answers as if every representation had been sent, nested fetches included', async () => {
    resolved.accounts = resolved.profiles = 0;
    const body = await query('{ reviews { id author { id name bestFriend { id bio } } } }');

    // 10 reviews name 4 distinct authors; the 6 loadable ones have 2 distinct best friends.
    expect(resolved).toEqual({ accounts: 4, profiles: 2 });
    expect(body.data.reviews).toEqual(
      AUTHOR_OF_REVIEW.map((author, i) => ({
        id: `r${i}`,
        author: NAMES[author]
          ? { id: author, name: NAMES[author], bestFriend: { id: BEST_FRIEND[author], bio: `bio of ${BEST_FRIEND[author]}` } }
          : { id: author, name: null, bestFriend: null },
      })),
    );
  });

  it('reports a failed entity at every position that named it', async () => {
    const body = await query('{ reviews { author { name } } }');
    const broken = AUTHOR_OF_REVIEW.flatMap((author, i) => (author === 'broken' ? [i] : []));
    expect(broken).toHaveLength(2);
    expect(body.errors?.map((error) => error.path)).toEqual(broken.map((i) => ['reviews', i, 'author']));
    // (The subgraph's own message stays in the gateway's log: it was not written for clients.)
    expect(body.errors?.map((error) => error.extensions)).toEqual(broken.map(() => ({ code: 'INTERNAL_SERVER_ERROR', serviceName: 'accounts' })));
  });

  it('leaves a fetch of distinct representations as it is', () => {
    expect(dedupeRepresentations([{ __typename: 'User', id: '1' }, { __typename: 'User', id: '2' }])).toBeNull();
    expect(dedupeRepresentations([{ __typename: 'User', id: '1' }])).toBeNull();
  });

  it('gives every position its own copy of a shared entity', () => {
    const deduped = dedupeRepresentations([{ id: '1' }, { id: '2' }, { id: '1' }])!;
    expect(deduped.unique).toEqual([{ id: '1' }, { id: '2' }]);
    const answer = expandEntities({ data: { _entities: [{ name: 'Ada', tags: ['a'] }, { name: 'Grace', tags: [] }] } }, deduped);
    const entities = answer.data!._entities as { name: string; tags: string[] }[];
    expect(entities.map((e) => e.name)).toEqual(['Ada', 'Grace', 'Ada']);
    expect(entities[2]).not.toBe(entities[0]);
    expect(entities[2]!.tags).not.toBe(entities[0]!.tags);
  });

  it("keeps a response key named after Object.prototype's members as a field in every copy", () => {
    const deduped = dedupeRepresentations([{ id: '1' }, { id: '1' }])!;
    const parsed = JSON.parse('{"data":{"_entities":[{"__proto__":"alias","constructor":"too","name":"Ada"}]}}');
    const entities = expandEntities(parsed, deduped).data!._entities as Record<string, unknown>[];
    for (const entity of entities) expect(JSON.stringify(entity)).toBe('{"__proto__":"alias","constructor":"too","name":"Ada"}');
  });

  it('passes an answer of the wrong length through, for the executor to reject', () => {
    const deduped = dedupeRepresentations([{ id: '1' }, { id: '1' }])!;
    const answer = expandEntities({ data: { _entities: [{ name: 'Ada' }, { name: 'extra' }] } }, deduped);
    expect(answer.data!._entities).toEqual([{ name: 'Ada' }, { name: 'extra' }]);
  });
});
