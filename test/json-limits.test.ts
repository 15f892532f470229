import { describe, expect, it } from 'vitest';
import { configSchema } from '../subgraphs/kit/config.ts';
import {
  describeJsonLimit,
  jsonLimitsOf,
  multipartJsonFieldsProblem,
  scanDocument,
  scanJson,
  scanJsonText,
  variableLimitsOf,
  variablesProblem,
  type JsonLimits,
} from '../subgraphs/kit/json-limits.ts';

// kit/json-limits.ts: the scan that bounds a JSON body before JSON.parse, and the checks on
// parsed variables and multipart JSON fields. The HTTP side (gateway, REST shim, subgraph, CMS
// upload) is in fuzz.test.ts.

const limits: JsonLimits = { maxDepth: 8, maxItems: 5 };
const scan = (text: string, l: JsonLimits = limits) => scanJsonText(text, l);

/** Depth (top-level container: 1) and widest container of a parsed value: what the scan must agree with. */
function measure(value: unknown, depth = 1): { depth: number; items: number } {
  if (value === null || typeof value !== 'object') return { depth: depth - 1, items: 0 };
  const children = Array.isArray(value) ? value : Object.values(value);
  let result = { depth, items: children.length };
  for (const child of children) {
    const inner = measure(child, depth + 1);
    result = { depth: Math.max(result.depth, inner.depth), items: Math.max(result.items, inner.items) };
  }
  return result;
}

/** Small seeded PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings full of what could fool a scanner: brackets, commas, quotes and backslashes, escaped. */
const TRICKY = ['[', ']', '{', '}', ',', '"', '\\', '\\"', '\\\\', '"]', 'é', '😀', '\u2028', 'a'];

/** A random JSON value of at most `budget.nodes` nodes. */
function randomValue(random: () => number, depth: number, budget = { nodes: 200 }): unknown {
  const pick = random();
  if (depth > 12 || pick < 0.35 || --budget.nodes <= 0) {
    const scalar = random();
    if (scalar < 0.5) return Array.from({ length: Math.floor(random() * 6) }, () => TRICKY[Math.floor(random() * TRICKY.length)]).join('');
    if (scalar < 0.7) return Math.floor(random() * 1e6) / 7;
    return scalar < 0.85 ? random() < 0.5 : null;
  }
  const size = Math.floor(random() * 8);
  if (pick < 0.7) return Array.from({ length: size }, () => randomValue(random, depth + 1, budget));
  return Object.fromEntries(Array.from({ length: size }, (_, i) => [`${TRICKY[i % TRICKY.length]}k${i}`, randomValue(random, depth + 1, budget)]));
}

describe('scanJson: depth and width before JSON.parse', () => {
  it('refuses a nesting bomb at the first byte past the limit, whatever follows', () => {
    const bomb = Buffer.from(`{"query":"{ a }","variables":{"t":${'['.repeat(400_000)}${']'.repeat(400_000)}}}`);
    const exceeded = scanJson(bomb, { maxDepth: 32, maxItems: 10_000 });
    expect(exceeded).toEqual({ limit: 'depth', max: 32, offset: bomb.indexOf('[') + 30 });
    expect(describeJsonLimit('The request body', exceeded!)).toBe('The request body nests deeper than 32 levels.');
    // Truncated or malformed after the limit: still refused for its depth (JSON.parse would have built it).
    expect(scan(`[${'{"a":'.repeat(20)}`)?.limit).toBe('depth');
  });

  it('counts elements of one array and members of one object, per container', () => {
    expect(scan('[1,2,3,4,5]')).toBeNull();
    expect(scan('[1,2,3,4,5,6]')).toMatchObject({ limit: 'items', max: 5 });
    expect(scan('{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}')).toMatchObject({ limit: 'items' });
    // Five containers of five: each is within the limit.
    expect(scan('[[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5]]')).toBeNull();
    // A sibling's commas do not count toward the next container's.
    expect(scan('[[1,2,3,4],[1,2,3,4]]')).toBeNull();
    expect(scan('[]')).toBeNull();
    expect(scan('{}')).toBeNull();
  });

  it('ignores brackets, commas and escaped quotes inside strings', () => {
    expect(scan(JSON.stringify({ a: '[[[[[[[[[[[[[[[[[[', b: ',,,,,,,,,,,,', c: '"]]]]]]]]]]]]]]"' }))).toBeNull();
    expect(scan(JSON.stringify(['\\', '\\"[[[[[[[[[[[[', '\\\\']))).toBeNull();
    // An escaped quote does not end the string; an escaped backslash before a quote does.
    expect(scan('["\\"[[[[[[[[[[[[[[[[[[[[[["]')).toBeNull();
    expect(scan(`["\\\\",${'['.repeat(9)}${']'.repeat(9)}]`)?.limit).toBe('depth');
    // An unterminated string hides the rest: JSON.parse refuses it anyway.
    expect(scan(`["${'['.repeat(50)}`)).toBeNull();
  });

  it('at the limits exactly: accepted; one past: refused', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(scan(deep(8))).toBeNull();
    expect(scan(deep(9))).toMatchObject({ limit: 'depth', max: 8 });
  });

  it('agrees with JSON.parse on random JSON full of tricky strings (seeded)', () => {
    const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`json-limits: seed ${seed} (FUZZ_SEED=${seed} reproduces)`);
    const random = prng(seed);
    let refused = 0;
    for (let i = 0; i < 2_000; i++) {
      const value = randomValue(random, 1);
      const text = JSON.stringify(value);
      const truth = measure(value);
      const expected = truth.depth > limits.maxDepth || truth.items > limits.maxItems;
      const exceeded = scan(text);
      if (Boolean(exceeded) !== expected) throw new Error(`seed ${seed}, case ${i}: scan says ${JSON.stringify(exceeded)} for ${text}`);
      if (exceeded) refused++;
    }
    // Both kinds of case were generated.
    expect(refused).toBeGreaterThan(100);
    expect(refused).toBeLessThan(1_900);
  });

  it('is linear: a megabyte of strings, escapes and backslash runs scans in a few milliseconds', () => {
    const text = JSON.stringify({ query: '{ a }', variables: { s: `${'\\'.repeat(200_000)}"${'x'.repeat(300_000)}`, t: Array(5_000).fill('a\\"b') } });
    const started = process.cpuUsage();
    for (let i = 0; i < 5; i++) expect(scanJsonText(text, { maxDepth: 32, maxItems: 10_000 })).toBeNull();
    const { user, system } = process.cpuUsage(started);
    // Generous (a loaded two-core machine): JSON.parse of the same text costs about as much.
    expect((user + system) / 1000 / 5).toBeLessThan(200);
  });
});

describe('the defaults', () => {
  it('are documented values: depth 32, 10,000 items, 100 variables, 65,536 characters', () => {
    const config = configSchema.parse({});
    expect(jsonLimitsOf(config)).toEqual({ maxDepth: 32, maxItems: 10_000 });
    expect(variableLimitsOf(config)).toEqual({ maxDepth: 32, maxItems: 10_000, maxVariables: 100, maxStringLength: 65_536 });
  });
});

describe('variablesProblem: parsed variables', () => {
  const vl = { maxDepth: 6, maxItems: 5, maxVariables: 3, maxStringLength: 10 };

  it('passes ordinary variables and leaves non-objects to Apollo', () => {
    expect(variablesProblem({ a: [1, 2], b: { c: 'short' }, d: null }, vl)).toBeNull();
    expect(variablesProblem(undefined, vl)).toBeNull();
    expect(variablesProblem('x', vl)).toBeNull();
    expect(variablesProblem([1, 2], vl)).toBeNull();
  });

  it('names the variable and the limit', () => {
    expect(variablesProblem({ a: 1, b: 2, c: 3, d: 4 }, vl)).toBe('An operation takes at most 3 variables.');
    expect(variablesProblem({ t: 'x'.repeat(11) }, vl)).toBe('Variable "$t" is longer than 10 characters.');
    expect(variablesProblem({ t: [1, 2, 3, 4, 5, 6] }, vl)).toBe('Variable "$t" is a list of more than 5 items.');
    expect(variablesProblem({ t: { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 } }, vl)).toBe('Variable "$t" is an object of more than 5 fields.');
    expect(variablesProblem({ t: [[[[['x']]]]] }, vl)).toBeNull();
    expect(variablesProblem({ t: [[[[[['x']]]]]] }, vl)).toBe('Variable "$t" nests deeper than 6 levels.');
    expect(variablesProblem({ t: [{ a: ['ok', 'x'.repeat(11)] }] }, vl)).toBe('Variable "$t" is longer than 10 characters.');
  });

  it('never recurses deep, whatever it is given (a value built by code, not parsed)', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(variablesProblem({ t: deep }, { ...vl, maxDepth: 32 })).toBe('Variable "$t" nests deeper than 32 levels.');
  });
});

describe('multipartJsonFieldsProblem: JSON fields of an upload', () => {
  const field = (value: unknown, mimetype = 'application/json') => ({ type: 'field', mimetype, value });

  it('checks fields @fastify/multipart parsed as JSON, and only those', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(multipartJsonFieldsProblem({ tags: field(deep) }, { maxDepth: 32, maxItems: 100 })).toBe('Field "tags" nests deeper than 32 levels.');
    expect(multipartJsonFieldsProblem({ tags: [field(['a']), field(Array(101).fill('a'))] }, { maxDepth: 32, maxItems: 100 })).toBe(
      'Field "tags" is a list of more than 100 items.',
    );
    expect(multipartJsonFieldsProblem({ tags: field('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[', 'text/plain') }, { maxDepth: 32, maxItems: 100 })).toBeNull();
    expect(multipartJsonFieldsProblem({ tags: field(['a', 'b']), alt: field('x', 'text/plain') }, { maxDepth: 32, maxItems: 100 })).toBeNull();
  });
});

describe('scanDocument: bracket nesting of a GraphQL document before it is parsed', () => {
  it('counts { ( [ and stops at the first one past the limit', () => {
    expect(scanDocument('{ a { b(x: [[1]]) } }', 5)).toBe(-1);
    expect(scanDocument('{ a { b(x: [[[1]]]) } }', 5)).toBe(13);
    expect(scanDocument(`{ ${'a { '.repeat(100_000)}`, 64)).toBe(2 + 63 * 4 + 2);
  });

  it('skips comments, strings and block strings as the lexer does', () => {
    expect(scanDocument('{ a # {{{{{{{{{{\n b }', 2)).toBe(-1);
    expect(scanDocument('{ a(s: "{{{{{{\\"{{{{") }', 2)).toBe(-1);
    expect(scanDocument('{ a(s: """{{{{ \\""" {{{{ """) }', 2)).toBe(-1);
    // A string ends at a line break (the parser stops there): what follows is counted.
    expect(scanDocument('{ a(s: "{{{\n{{{{{{{{{{{{', 2)).toBeGreaterThan(-1);
    // Unterminated block string or comment at the end: nothing more to parse.
    expect(scanDocument('{ a(s: """{{{{{{{{{{{{', 2)).toBe(-1);
    expect(scanDocument('{ a # {{{{{{{{{{{{', 2)).toBe(-1);
  });
});
