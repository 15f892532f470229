import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import crm from '../subgraphs/crm/index.ts';
import type { Tx } from '../subgraphs/kit/db/database.ts';
import { columnsFor } from '../subgraphs/kit/db/table.ts';
import { databaseErrors } from '../subgraphs/kit/mutations/database-errors.ts';
import { reject } from '../subgraphs/kit/mutations/rejected.ts';
import { runMutation } from '../subgraphs/kit/mutations/run-mutation.ts';
import { bearer, gql } from './support/graphql.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

// The kit's store helpers as the subgraphs use them: pages of children of many parents (one
// statement per batch, totals on every page), and mutations whose database errors and broken
// rules become payload errors with nothing written.

let stack: RunningSubgraphs;
let url: string;
let token: string;
let statements: string[] = [];
const acme = DEMO_TENANTS[0].id;

beforeAll(async () => {
  stack = await startSubgraphs([auth, crm]);
  url = stack.urls.crm!;
  token = await stack.login('owner@acme.example');
  stack.backends.db.onStatement((text) => statements.push(text));
});
afterAll(() => stack?.close());

const call = async (query: string, variables: Record<string, unknown> = {}) => {
  const result = await gql(url, query, variables, bearer(token));
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!;
};

/** The cursor of the item at `offset` (kit/connection.ts). */
const cursor = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url');

describe('child pages (kit childPages)', () => {
  const ACTIVITIES = `query($first: Int, $after: String) {
    contacts(first: 10, filter: { search: "Paging" }) { edges { node { id name
      activities(first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage } edges { node { subject } } } } } }
  }`;
  const counts: Record<string, number> = { 'Paging five': 5, 'Paging one': 1, 'Paging none': 0 };

  beforeAll(async () => {
    for (const [name, n] of Object.entries(counts)) {
      const { createContact } = await call('mutation($n: String!) { createContact(input: { name: $n }) { contact { id } } }', { n: name });
      for (let i = 1; i <= n; i++) {
        await call('mutation($c: ID!, $s: String!) { logActivity(input: { type: NOTE, subject: $s, contactId: $c }) { activity { id } } }', {
          c: createContact.contact.id,
          s: `${name} #${i}`,
        });
      }
    }
  });

  const pages = async (first: number, after?: number) => {
    statements = [];
    const data = await call(ACTIVITIES, { first, after: after === undefined ? null : cursor(after) });
    const byName = Object.fromEntries(
      data.contacts.edges.map((e: any) => [
        e.node.name,
        { total: e.node.activities.totalCount, next: e.node.activities.pageInfo.hasNextPage, subjects: e.node.activities.edges.map((a: any) => a.node.subject) },
      ]),
    );
    return { byName, activityStatements: statements.filter((s) => s.includes('crm.activities')).length };
  };

  it("reads one page of every parent's children in one statement, newest first, each with its total", async () => {
    const { byName, activityStatements } = await pages(2);
    expect(activityStatements).toBe(1);
    expect(byName).toEqual({
      'Paging five': { total: 5, next: true, subjects: ['Paging five #5', 'Paging five #4'] },
      'Paging one': { total: 1, next: false, subjects: ['Paging one #1'] },
      'Paging none': { total: 0, next: false, subjects: [] },
    });
  });

  it('a later page, a page past the end and a page of none still know the totals', async () => {
    const middle = await pages(2, 1);
    expect(middle.activityStatements).toBe(1);
    expect(middle.byName['Paging five']).toEqual({ total: 5, next: true, subjects: ['Paging five #3', 'Paging five #2'] });
    expect(middle.byName['Paging one']).toEqual({ total: 1, next: false, subjects: [] });
    const last = await pages(2, 3);
    expect(last.byName['Paging five']).toEqual({ total: 5, next: false, subjects: ['Paging five #1'] });
    const none = await pages(0);
    expect(none.activityStatements).toBe(1);
    expect(Object.values(none.byName).map((p: any) => [p.total, p.subjects.length])).toEqual(expect.arrayContaining([[5, 0], [1, 0], [0, 0]]));
  });
});

describe('mutations (kit runMutation)', () => {
  // A subgraph's own codes for each kind of database error, and names for two constraints.
  const RULES = databaseErrors(
    { unique: 'TAKEN', foreignKey: 'MISSING', check: 'BROKEN', notNull: 'EMPTY', tooLong: 'LONG' },
    {
      constraints: { leads_owner_fkey: { field: 'ownerId', code: 'MISSING', message: 'No such member.' } },
      columns: { stage_id: { field: 'stageId', code: 'EMPTY', message: 'No stage.' } },
    },
  );
  const asAcme = <T>(fn: (tx: Tx) => Promise<T>) => stack.backends.db.withTenant({ tenantId: acme, accountId: null }, fn);
  const run = <T>(fn: (tx: Tx) => Promise<T>) => runMutation(asAcme, RULES, fn);
  const insertLead = (tx: Tx, columns: string, values: unknown[]) =>
    tx.query(`INSERT INTO crm.leads (tenant_id, ${columns}) VALUES ('${acme}', ${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);
  const leadCount = async () => Number((await asAcme((tx) => tx.query<{ n: string }>('SELECT count(*) AS n FROM crm.leads'))).rows[0]!.n);

  it('turns each kind of constraint violation into a payload error, with nothing written', async () => {
    const before = await leadCount();
    expect(await run((tx) => insertLead(tx, 'name, status', ['Checked', 'bogus']))).toEqual({
      value: null,
      errors: [{ field: null, code: 'BROKEN', message: 'The input breaks a rule.' }],
    });
    expect(await run((tx) => insertLead(tx, 'name', [null]))).toEqual({
      value: null,
      errors: [{ field: 'name', code: 'EMPTY', message: 'This field is required.' }],
    });
    expect(await run((tx) => insertLead(tx, 'name, owner_id', ['Owned', '00000000-0000-4000-8000-00000000dead']))).toEqual({
      value: null,
      errors: [{ field: 'ownerId', code: 'MISSING', message: 'No such member.' }],
    });
    expect(await run((tx) => tx.query(`INSERT INTO crm.deals (tenant_id, title, stage_id) VALUES ('${acme}', 'No stage', NULL)`))).toEqual({
      value: null,
      errors: [{ field: 'stageId', code: 'EMPTY', message: 'No stage.' }],
    });
    const stage = `Unique ${Date.now()}`;
    const insertStage = (tx: Tx) => tx.query(`INSERT INTO crm.pipeline_stages (tenant_id, name) VALUES ('${acme}', $1)`, [stage]);
    expect((await run(insertStage)).errors).toEqual([]);
    expect(await run(insertStage)).toEqual({ value: null, errors: [{ field: null, code: 'TAKEN', message: 'This already exists.' }] });
    expect(await leadCount()).toBe(before);
  });

  it('a rule broken half-way (reject) rolls back what was written; other errors are real failures', async () => {
    const before = await leadCount();
    const outcome = await run(async (tx) => {
      await insertLead(tx, 'name', ['Written, then rolled back']);
      return reject('name', 'Not this one.', 'BROKEN');
    });
    expect(outcome).toEqual({ value: null, errors: [{ field: 'name', code: 'BROKEN', message: 'Not this one.' }] });
    expect(await leadCount()).toBe(before);
    await expect(run((tx) => tx.query('SELECT no_such_column FROM crm.leads'))).rejects.toThrow(/no_such_column/);
    expect(await run(async (tx) => (await insertLead(tx, 'name', ['Kept'])).rowCount)).toEqual({ value: 1, errors: [] });
    expect(await leadCount()).toBe(before + 1);
  });

  it('through GraphQL: a constraint the checks cannot see comes back in the payload', async () => {
    const name = `Stage ${Date.now()}`;
    const CREATE = 'mutation($n: String!) { createPipelineStage(input: { name: $n }) { stage { id } errors { field code message } } }';
    expect((await call(CREATE, { n: name })).createPipelineStage.errors).toEqual([]);
    expect((await call(CREATE, { n: name.toUpperCase() })).createPipelineStage).toEqual({
      stage: null,
      errors: [{ field: 'name', code: 'DUPLICATE', message: 'A stage with this name exists.' }],
    });
  });
});

describe('columns a query needs (kit columnsFor)', () => {
  const ITEMS = { name: 'shop.items', columns: 'id, name, price, owner_id, created_at' };
  const NEEDS = { __typename: [], id: [], name: ['name'], owner: ['owner_id'], label: ['name', 'price'] };

  it('reads the key and what the fields need, in the table order', () => {
    expect(columnsFor(ITEMS, new Set(['owner', 'name', '__typename']), NEEDS)).toEqual({ name: 'shop.items', columns: 'id, name, owner_id' });
    expect(columnsFor(ITEMS, new Set(), NEEDS).columns).toBe('id');
    expect(columnsFor(ITEMS, new Set(['label']), NEEDS, ['id', 'created_at']).columns).toBe('id, name, price, created_at');
  });

  it('reads every column for a field it has no entry for, or columns that are not plain names', () => {
    expect(columnsFor(ITEMS, new Set(['name', 'price']), NEEDS)).toBe(ITEMS);
    expect(columnsFor(ITEMS, new Set(['constructor']), NEEDS)).toBe(ITEMS);
    const computed = { name: 'shop.items', columns: 'id, name, price::float8 AS price' };
    expect(columnsFor(computed, new Set(['name']), NEEDS)).toBe(computed);
  });

  it('refuses an entry naming a column the table does not read', () => {
    expect(() => columnsFor(ITEMS, new Set(['x']), { x: ['nope'] })).toThrow('shop.items has no column nope');
  });
});
