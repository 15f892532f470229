import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createTestBackends, type TestBackends } from './support/deps.ts';

/*
 * patches/pg+8.23.1.patch: a result's row template is a plain object, not a null-prototype one
 * copied by a spread (dictionary-mode in V8: 4-7 µs a statement of 18 columns against 0.6).
 * Rows must come out as before: plain objects with every column as an own field, a column named
 * after Object.prototype's members included.
 */
describe('pg patch: the row template', () => {
  let backends: TestBackends;
  beforeAll(async () => {
    backends = await createTestBackends();
  });
  afterAll(async () => backends?.close());

  it('is applied (the template pg copies for every row is built without Object.create(null))', () => {
    const source = readFileSync(createRequire(import.meta.url).resolve('pg/lib/result.js'), 'utf8');
    expect(source).toContain('this._prebuiltEmptyResultObject = row\n');
    expect(source).toContain('const row = {}\n');
    expect(source).not.toContain('const row = Object.create(null)');
  });

  it('answers rows with every column an own field, __proto__ and constructor included, nulls as null', async () => {
    // (A parameter, so that pg runs it as an extended query, as the kit's statements are.)
    const result = await backends.db.pool.query<Record<string, unknown>>(
      `select $1::int as "__proto__", 'x' as constructor, null::text as "toString", n as n
         from generate_series(1, 3) as n order by n`,
      [7],
    );
    expect(result.rows).toHaveLength(3);
    for (const [i, row] of result.rows.entries()) {
      expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
      expect(Object.keys(row)).toEqual(['__proto__', 'constructor', 'toString', 'n']);
      expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe(7);
      expect(row.constructor).toBe('x');
      expect(row.toString).toBeNull();
      expect(row.n).toBe(i + 1);
      expect(JSON.stringify(row)).toBe(`{"__proto__":7,"constructor":"x","toString":null,"n":${i + 1}}`);
    }
    // Each row is its own object: filling one does not touch the template the next is copied from.
    expect(result.rows[0]).not.toBe(result.rows[1]);
  });
});
