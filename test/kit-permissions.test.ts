import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import auth from '../subgraphs/auth/index.ts';
import { createSubgraphServer, defineSubgraph } from '../subgraphs/kit/server.ts';
import { rule } from 'graphql-shield';
import { allow, isAdmin, isMember } from '../subgraphs/kit/shield.ts';
import type { Context } from '../subgraphs/kit/context.ts';
import { bearer, gql } from './support/graphql.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

/*
 * The kit's permission layer (graphql-shield with a fast path for rules already passed in the
 * request), through a small subgraph served over HTTP with real tokens of each role.
 */

let ruleRuns = 0;
/** A contextual rule that counts how often graphql-shield actually evaluates it. */
const countedMember = rule('countedMember', { cache: 'contextual' })((_p, _a, ctx: Context) => {
  ruleRuns++;
  return ctx.principal.roles.length > 0;
});

const notes = Array.from({ length: 20 }, (_, i) => ({ id: String(i), text: `note ${i}`, secret: { value: `secret ${i}` } }));

const probe = defineSubgraph({
  name: 'probe',
  port: 0,
  typeDefs: parse(`
    type Query { notes: [Note!]! counted: [Counted!]! publicInfo: String! unruled: Unruled }
    type Note { id: ID! text: String! secret: Secret }
    type Secret { value: String! }
    type Counted { id: ID! text: String! }
    type Unruled { x: String }
  `),
  resolvers: {
    Query: { notes: () => notes, counted: () => notes, publicInfo: () => 'hello', unruled: () => ({ x: 'x' }) },
  },
  permissions: {
    Query: { notes: isMember, counted: countedMember, publicInfo: allow, unruled: allow },
    Note: isMember,
    Secret: isAdmin,
    Counted: countedMember,
  },
  createLoaders: () => ({}),
  responseCache: false,
});

let stack: RunningSubgraphs;
let url: string;

beforeAll(async () => {
  stack = await startSubgraphs([auth, probe]);
  url = stack.urls.probe!;
});
afterAll(() => stack?.close());

describe('subgraph permissions', () => {
  it('a rule that passed for one type does not open a type with a stricter rule', async () => {
    const viewer = await stack.login('viewer@acme.example');
    const result = await gql(url, '{ notes { text secret { value } } }', {}, bearer(viewer));
    expect(result.data!.notes).toHaveLength(20);
    expect(result.data!.notes.every((n: { text: string; secret: unknown }) => n.text.startsWith('note') && n.secret === null)).toBe(true);
    expect(result.errors).toHaveLength(20);
    expect(new Set(result.errors!.map((e) => e.extensions?.code))).toEqual(new Set(['FORBIDDEN']));
    expect(result.errors![0]!.path).toEqual(['notes', 0, 'secret', 'value']);
  });

  it('an admin reads every field', async () => {
    const owner = await stack.login('owner@acme.example');
    const result = await gql(url, '{ notes { text secret { value } } }', {}, bearer(owner));
    expect(result.errors).toBeUndefined();
    expect(result.data!.notes[19]).toEqual({ text: 'note 19', secret: { value: 'secret 19' } });
  });

  it('evaluates a contextual rule once per request, and again in the next request', async () => {
    const owner = await stack.login('owner@acme.example');
    ruleRuns = 0;
    const first = await gql(url, '{ counted { id text } }', {}, bearer(owner));
    expect(first.data!.counted).toHaveLength(20);
    expect(ruleRuns).toBe(1);
    await gql(url, '{ counted { id } }', {}, bearer(owner));
    expect(ruleRuns).toBe(2);
  });

  it('a failed rule denies every field it guards, with the rule’s own error', async () => {
    const anonymous = await gql(url, '{ notes { text } publicInfo }');
    expect(anonymous.data).toBeNull(); // notes is non-null
    expect(anonymous.errors!.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    const open = await gql(url, '{ publicInfo }');
    expect(open).toMatchObject({ status: 200, data: { publicInfo: 'hello' } });
  });

  it('denies fields of a type without rules', async () => {
    const owner = await stack.login('owner@acme.example');
    const result = await gql(url, '{ unruled { x } }', {}, bearer(owner));
    expect(result.data!.unruled).toEqual({ x: null });
    expect(result.errors!.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it('refuses permissions that name what the schema lacks', async () => {
    const broken = { ...probe, permissions: { ...probe.permissions, Note: { text: isMember, missing: isMember }, Nothing: allow } };
    await expect(createSubgraphServer(broken, stack.backends.deps('probe'))).rejects.toThrow('Permissions name what the schema does not have: Note.missing, Nothing');
  });
});
