import { parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { RestError } from '../gateway/rest/errors.ts';
import { drfPage, pageWindow, parsePageSize, walkOperation } from '../gateway/rest/pagination.ts';
import type { RestCall } from '../gateway/rest/types.ts';
import { fakeList } from './support/fixtures.ts';

// DRF page numbers over Relay cursors (gateway/rest/pagination.ts), without a graph: a fake list
// of `total` rows whose cursors are opaque strings the shim never looks into.

const expectInvalidPage = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(RestError);
  expect(error).toMatchObject({ status: 404, body: { detail: 'Invalid page.' } });
};

describe('page numbers to cursors', () => {
  it('page 1 needs no walk; page N walks 100 rows a step and starts after row (N-1)*size', async () => {
    const list = fakeList(1000);
    expect(await pageWindow({}, list.step)).toEqual({ page: 1, pageSize: 20, after: null });
    expect(list.calls).toEqual([]);
    const window = await pageWindow({ page: '4', page_size: '50' }, list.step);
    expect(window).toEqual({ page: 4, pageSize: 50, after: list.cursor(149) });
    expect(list.calls.map((c) => c.first)).toEqual([100, 50]);
  });

  it('a cursor from the next link is used as is: one lookup per page when following next', async () => {
    const list = fakeList(1000);
    expect(await pageWindow({ page: '7', cursor: 'from-the-link' }, list.step)).toEqual({ page: 7, pageSize: 20, after: 'from-the-link' });
    expect(list.calls).toEqual([]);
  });

  it("DRF's rules: bad or out-of-range pages are 404 Invalid page after one step; page_size falls back or is capped", async () => {
    const list = fakeList(45);
    await expectInvalidPage(pageWindow({ page: '0' }, list.step));
    await expectInvalidPage(pageWindow({ page: 'two' }, list.step));
    await expectInvalidPage(pageWindow({ page: '1000' }, list.step));
    expect(list.calls).toHaveLength(1); // the first step's totalCount settles it
    expect((await pageWindow({ page: '3' }, list.step)).after).toBe(list.cursor(39));
    await expectInvalidPage(pageWindow({ page: '4' }, list.step));
    expect([parsePageSize('abc'), parsePageSize('0'), parsePageSize('-3'), parsePageSize('500'), parsePageSize('7')]).toEqual([20, 20, 20, 100, 7]);
  });
});

describe('the DRF envelope', () => {
  const call = (page: number, url = 'http://h/api/brain/x?status=new&page=2&page_size=2') =>
    ({
      page: { page, pageSize: 2, after: null },
      link: (set: Record<string, string | number | null>) => {
        const u = new URL(url);
        for (const [k, v] of Object.entries(set)) {
          if (v === null) u.searchParams.delete(k);
          else u.searchParams.set(k, String(v));
        }
        return u.toString();
      },
    }) as unknown as RestCall;
  const connection = (hasNextPage: boolean, n = 2) => ({
    totalCount: 5,
    pageInfo: { hasNextPage, endCursor: 'c2' },
    edges: Array.from({ length: n }, (_, i) => ({ node: { id: i } })),
  });

  it('absolute next (with the cursor) and previous links, other parameters kept, no page=1', () => {
    expect(drfPage(connection(true), call(2), (n) => n)).toEqual({
      count: 5,
      next: 'http://h/api/brain/x?status=new&page=3&page_size=2&cursor=c2',
      previous: 'http://h/api/brain/x?status=new&page_size=2',
      results: [{ id: 0 }, { id: 1 }],
    });
    const last = drfPage(connection(false, 1), call(3, 'http://h/api/brain/x?page=3&cursor=c2'), (n) => n);
    expect(last.next).toBeNull();
    expect(last.previous).toBe('http://h/api/brain/x?page=2');
    expect(() => drfPage(connection(false, 0), call(4), (n) => n)).toThrow(RestError);
    expect(drfPage({ totalCount: 0, pageInfo: { hasNextPage: false }, edges: [] }, call(1), (n) => n)).toEqual({ count: 0, next: null, previous: null, results: [] });
  });
});

describe('the walk operation', () => {
  it('keeps the list arguments, selects only totalCount and pageInfo, drops what is no longer used', () => {
    const walk = walkOperation(
      `query Leads($first: Int!, $after: String, $filter: LeadFilter, $size: Int) {
        leads(first: $first, after: $after, filter: $filter) { totalCount edges { node { ...L thumb(size: $size) } } }
        viewer { id }
      }
      fragment L on Lead { id name }`,
      'leads',
    );
    expect(walk).toBe(
      print(parse('query LeadsWalk($first: Int!, $after: String, $filter: LeadFilter) { leads(first: $first, after: $after, filter: $filter) { totalCount pageInfo { endCursor hasNextPage } } }')),
    );
  });
});
