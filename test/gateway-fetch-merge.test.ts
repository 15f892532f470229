import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../gateway/server.ts';
import { createTestBackends, signToken, type TestBackends } from './support/deps.ts';
import { deadUrl, startFakeGateway, startFakeSubgraph, type FakeSubgraph } from './support/gateway-fakes.ts';
import { postJson } from './support/graphql.ts';

/**
 * Fetch merging (GATEWAY_FETCH_MERGE): a plan runs in stages, and a stage's query fetches to one
 * subgraph go as one request. Two branches of one operation (people, things) each need the notes
 * subgraph for their entities: Apollo's plan fetches it twice, whenever each branch gets there;
 * merged, it is one request, and the client's answer (data, errors and their paths) is exactly
 * the answer the gateway gives with merging off. Mutations keep their order and their own requests.
 */
const FED2 = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
const PEOPLE_SDL = `${FED2}
type Query { people: [Person!]! }
type Mutation { touchPerson(id: ID!): Person }
type Person @key(fields: "id") { id: ID! name: String! }
`;
const THINGS_SDL = `${FED2}
type Query { things: [Thing!]! }
type Thing @key(fields: "id") { id: ID! label: String! }
`;
const NOTES_SDL = `${FED2}
type Person @key(fields: "id") { id: ID! notes(first: Int!): [Note!] }
type Thing @key(fields: "id") { id: ID! notes(first: Int!): [Note!] }
type Note { text: String! by: String! }
type Mutation { addNote(text: String!): Int! }
`;

const PEOPLE = [
  { id: 'p1', name: 'Ada' },
  { id: 'p2', name: 'Grace' },
  { id: 'p3', name: 'Broken' },
];
const THINGS = [
  { id: 't1', label: 'Lamp' },
  { id: 't2', label: 'Desk' },
];
const notesOf = (id: string, first: number) => {
  if (id === 'p3') throw new Error(`no notes for ${id}`);
  return Array.from({ length: first }, (_, i) => ({ text: `${id} note ${i + 1}`, by: id.startsWith('p') ? 'person' : 'thing' }));
};
const added: string[] = [];
const notesResolvers = {
  Person: { notes: ({ id }: { id: string }, { first }: { first: number }) => notesOf(id, first) },
  Thing: { notes: ({ id }: { id: string }, { first }: { first: number }) => notesOf(id, first) },
  Mutation: { addNote: (_: unknown, { text }: { text: string }) => added.push(`note ${text}`) },
};

let backends: TestBackends;
let subgraphs: FakeSubgraph[];
let notes: FakeSubgraph;
let merging: { gateway: Gateway; base: string };
let plain: { gateway: Gateway; base: string };
let token: string;

const ask = async (base: string, query: string, variables?: Record<string, unknown>) => {
  const response = await postJson(`${base}/graphql`, { query, variables }, { headers: { authorization: `Bearer ${token}` } });
  return (await response.text()) as string;
};
const mergedCount = async (base: string) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('gateway_subgraph_fetches_merged_total{subgraph="notes"} '));
  return line ? Number(line.split(' ').at(-1)) : 0;
};
/** Requests the notes subgraph receives while `action` runs. */
const notesRequests = async (action: () => Promise<unknown>) => {
  const before = notes.headers.length;
  await action();
  return notes.headers.length - before;
};

beforeAll(async () => {
  backends = await createTestBackends();
  const people = await startFakeSubgraph('people', PEOPLE_SDL, {
    Query: { people: () => PEOPLE },
    Mutation: { touchPerson: (_: unknown, { id }: { id: string }) => (added.push(`touch ${id}`), PEOPLE.find((p) => p.id === id)) },
    Person: { __resolveReference: ({ id }: { id: string }) => PEOPLE.find((p) => p.id === id) },
  });
  const things = await startFakeSubgraph('things', THINGS_SDL, {
    Query: { things: () => THINGS },
    Thing: { __resolveReference: ({ id }: { id: string }) => THINGS.find((t) => t.id === id) },
  });
  notes = await startFakeSubgraph('notes', NOTES_SDL, notesResolvers);
  subgraphs = [people, things, notes];
  merging = await startFakeGateway(backends, subgraphs);
  plain = await startFakeGateway(backends, subgraphs, { config: { GATEWAY_FETCH_MERGE: false } });
  token = await signToken(backends.keys.privateJwk);
});

afterAll(async () => {
  await merging?.gateway.close();
  await plain?.gateway.close();
  for (const subgraph of subgraphs ?? []) await subgraph.close();
  await backends?.close();
});

const BRANCHES = `
  fragment NoteFields on Note { text by }
  query Branches($n: Int!) {
    people { name notes(first: $n) { ...NoteFields } }
    things { label notes(first: 1) { ...NoteFields } }
  }`;

describe('fetch merging', () => {
  it("one request to a subgraph that two branches need at the same stage; the answer byte for byte the unmerged one's", async () => {
    const before = await mergedCount(merging.base);
    let mergedAnswer = '';
    let plainAnswer = '';
    expect(await notesRequests(async () => (mergedAnswer = await ask(merging.base, BRANCHES, { n: 2 })))).toBe(1);
    expect(await notesRequests(async () => (plainAnswer = await ask(plain.base, BRANCHES, { n: 2 })))).toBe(2);
    expect(mergedAnswer).toBe(plainAnswer);
    expect((await mergedCount(merging.base)) - before).toBe(1);

    // The answer is the right one, not just the same one: each branch its own notes and variables.
    const body = JSON.parse(mergedAnswer);
    expect(body.data.people[0]).toEqual({ name: 'Ada', notes: [{ text: 'p1 note 1', by: 'person' }, { text: 'p1 note 2', by: 'person' }] });
    expect(body.data.things[1]).toEqual({ label: 'Desk', notes: [{ text: 't2 note 1', by: 'thing' }] });
    // The failing entity's error is where it belongs: under people, not things.
    expect(body.data.people[2]).toEqual({ name: 'Broken', notes: null });
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].path).toEqual(['people', 2, 'notes']);
  });

  it('variables stay with their own fetch: the same document with other values', async () => {
    const answer = await ask(merging.base, BRANCHES, { n: 3 });
    const merged = JSON.parse(answer);
    expect(merged.data.people[1].notes).toHaveLength(3);
    expect(merged.data.things[0].notes).toHaveLength(1);
    expect(answer).toBe(await ask(plain.base, BRANCHES, { n: 3 }));
  });

  it('a subgraph that is down fails every fetch of the merged request, each with its own error', async () => {
    const down = await startFakeGateway(backends, subgraphs, {
      subgraphUrls: { people: subgraphs[0]!.url, things: subgraphs[1]!.url, notes: await deadUrl() },
    });
    try {
      const body = JSON.parse(await ask(down.base, BRANCHES, { n: 1 }));
      expect(body.data.people.map((p: { notes: unknown }) => p.notes)).toEqual([null, null, null]);
      expect(body.data.things.map((t: { notes: unknown }) => t.notes)).toEqual([null, null]);
      expect(body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['SUBGRAPH_UNAVAILABLE', 'SUBGRAPH_UNAVAILABLE']);
    } finally {
      await down.gateway.close();
    }
  });

  it('a merged request the subgraph refuses (a limit only the sum crosses) is sent again fetch by fetch, and not merged again: same answer', async () => {
    // A subgraph that takes one _entities selection per request: the merged one gets a 400 with no path.
    const strict = await startFakeSubgraph('notes', NOTES_SDL, notesResolvers, ({ query }) =>
      (query.match(/_entities\(/g) ?? []).length > 1 ? { status: 400, body: { errors: [{ message: 'one root field per request' }] } } : undefined,
    );
    const gateway = await startFakeGateway(backends, subgraphs, {
      subgraphUrls: { people: subgraphs[0]!.url, things: subgraphs[1]!.url, notes: strict.url },
    });
    try {
      const answer = await ask(gateway.base, BRANCHES, { n: 2 });
      expect(strict.headers).toHaveLength(3); // the merged request, then each fetch alone
      expect(answer).toBe(await ask(plain.base, BRANCHES, { n: 2 }));
      // Remembered: the next operation of this plan sends its fetches alone at once.
      expect(await ask(gateway.base, BRANCHES, { n: 2 })).toBe(answer);
      expect(strict.headers).toHaveLength(5);
      expect(await mergedCount(gateway.base)).toBe(0);
    } finally {
      await gateway.gateway.close();
      await strict.close();
    }
  });

  it('mutations run in their order, each in its own request', async () => {
    added.length = 0;
    const mutation = 'mutation { first: addNote(text: "a") touchPerson(id: "p1") { name } second: addNote(text: "b") }';
    let answer = '';
    expect(await notesRequests(async () => (answer = await ask(merging.base, mutation)))).toBe(2);
    expect(added).toEqual(['note a', 'touch p1', 'note b']);
    expect(JSON.parse(answer).data).toEqual({ first: 1, touchPerson: { name: 'Ada' }, second: 3 });
  });
});
