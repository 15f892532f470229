import { describe, expect, it } from 'vitest';
import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlanner, type PlanNode } from '@apollo/query-planner';
import { parse } from 'graphql';
import { composeSdl } from '../gateway/compose.ts';
import { mergedDocument, mergedVariables, splitAnswer } from '../gateway/fetch-merge.ts';
import { stagePlanNode } from '../gateway/plan-stages.ts';
import { TEST_QUERY } from './bench/fixtures/federation/query.ts';
import { SDL, SUBGRAPH_NAMES } from './bench/fixtures/federation/schemas.ts';

/**
 * The two halves of fetch merging without a network: plans in stages (gateway/plan-stages.ts)
 * on the public federation benchmark's supergraph, and the merged document and its answer split
 * back (gateway/fetch-merge.ts). gateway-fetch-merge.test.ts covers them through the gateway.
 */
const composed = composeSdl(SUBGRAPH_NAMES.map((name) => ({ name, url: `http://127.0.0.1/${name}`, sdl: SDL[name] })));
const supergraph = Supergraph.build(composed.supergraphSdl!);
const planner = new QueryPlanner(supergraph);
const planOf = (query: string) => planner.buildQueryPlan(operationFromDocument(supergraph.schema, parse(query))).node as PlanNode;

const subgraphOf = (node: PlanNode): string => (node.kind === 'Flatten' ? subgraphOf(node.node) : node.kind === 'Fetch' ? node.serviceName : node.kind);

/** For each leaf (a Flatten or Fetch), the leaves that run before it in some Sequence: what it depends on. */
function dependencies(root: PlanNode): Map<PlanNode, Set<PlanNode>> {
  const result = new Map<PlanNode, Set<PlanNode>>();
  const walk = (node: PlanNode, before: Set<PlanNode>): PlanNode[] => {
    if (node.kind === 'Sequence') {
      const seen = new Set(before);
      const leaves: PlanNode[] = [];
      for (const child of node.nodes) {
        const own = walk(child, new Set(seen));
        for (const leaf of own) seen.add(leaf);
        leaves.push(...own);
      }
      return leaves;
    }
    if (node.kind === 'Parallel') return node.nodes.flatMap((child) => walk(child, before));
    result.set(node, before);
    return [node];
  };
  walk(root, new Set());
  return result;
}

/** The staged plan's stages: leaves per step of its top Sequence. */
function stagesOf(node: PlanNode): PlanNode[][] {
  const steps = node.kind === 'Sequence' ? node.nodes : [node];
  return steps.map((step) => (step.kind === 'Parallel' ? step.nodes : [step]));
}

describe('query plans in stages', () => {
  it("TestQuery: Apollo's 16 fetches in 4 stages, 6 requests once a stage's fetches to one subgraph merge", () => {
    const plan = planOf(TEST_QUERY);
    const original = dependencies(plan);
    expect(original.size).toBe(16);
    const stages = stagesOf(stagePlanNode(plan));
    expect(stages.map((stage) => stage.map(subgraphOf).sort())).toEqual([
      ['accounts', 'products'],
      ['reviews', 'reviews'],
      ['accounts', 'accounts', 'products', 'products', 'products'],
      Array(7).fill('inventory'),
    ]);
    expect(stages.reduce((sum, stage) => sum + new Set(stage.map(subgraphOf)).size, 0)).toBe(6);
    // Every fetch still comes after everything it depended on.
    const stageOf = new Map(stages.flatMap((stage, i) => stage.map((leaf) => [leaf, i] as const)));
    expect(stageOf.size).toBe(16);
    for (const [leaf, before] of original) for (const earlier of before) expect(stageOf.get(earlier)!).toBeLessThan(stageOf.get(leaf)!);
  });

  it('leaves a plan alone when its stages would merge nothing', () => {
    const plan = planOf('{ topProducts { name reviews { body } } }');
    expect(stagePlanNode(plan)).toBe(plan);
    const single = planOf('{ users { id } }');
    expect(stagePlanNode(single)).toBe(single);
  });
});

describe('merged fetches', () => {
  const a = 'query A($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { reviews { ...R } } } } fragment R on Review { id body }';
  const b = 'query B($representations: [_Any!]!, $n: Int) { _entities(representations: $representations) { ... on Product { reviews(first: $n) { ...R } } } } fragment R on Review { id }';
  const c = 'query C { top: topProducts { ...P } } fragment P on Product { upc ...Q } fragment Q on Product { name }';

  it('one operation: root fields aliased per fetch, variables renamed, fragments shared when identical and renamed when not', () => {
    const merged = mergedDocument([a, b, c, c])!;
    const document = parse(merged.query);
    expect(document.definitions.filter((d) => d.kind === 'OperationDefinition')).toHaveLength(1);
    expect(merged.operationName).toBe('A__merged_4');
    expect(merged.query).toContain('_0__entities: _entities(representations: $_0_representations)');
    expect(merged.query).toContain('_1__entities: _entities(representations: $_1_representations)');
    expect(merged.query).toContain('reviews(first: $_1_n)');
    expect(merged.query).toContain('_2_top: topProducts');
    expect(merged.query).toContain('_3_top: topProducts');
    // R differs between a and b: b's is renamed. P spreads Q (whose name could have differed), so
    // the second c's P gets a name of its own; Q spreads nothing and is shared.
    expect(merged.query).toContain('fragment R on Review');
    expect(merged.query).toContain('fragment R_1 on Review');
    expect(merged.query).toMatch(/_3_top: topProducts \{\s*\.\.\.P_3\s*\}/);
    expect(merged.query).toMatch(/fragment P_3 on Product \{\s*upc\s*\.\.\.Q\s*\}/);
    expect(merged.query).not.toContain('Q_3');
    expect(mergedVariables([{ query: a, variables: { representations: [1] } }, { query: b, variables: { representations: [2], n: 3 } }])).toEqual({
      _0_representations: [1],
      _1_representations: [2],
      _1_n: 3,
    });
  });

  it('refuses what it cannot merge: a mutation, a document that does not parse, a root fragment', () => {
    expect(mergedDocument([a, 'mutation M { x }'])).toBeNull();
    expect(mergedDocument([a, '{ broken'])).toBeNull();
    expect(mergedDocument([a, '{ ... on Query { users { id } } }'])).toBeNull();
  });

  it("splits the answer: each fetch its own fields and its own errors, their paths its own", () => {
    const merged = mergedDocument([a, b])!;
    const answer = {
      data: { _0__entities: [{ reviews: [] }], _1__entities: [null] },
      errors: [{ message: 'product failed', path: ['_1__entities', 0, 'reviews'] }],
      extensions: { cost: 1 },
    };
    expect(splitAnswer(answer, merged)).toEqual([
      { data: { _entities: [{ reviews: [] }] }, extensions: { cost: 1 } },
      { data: { _entities: [null] }, errors: [{ message: 'product failed', path: ['_entities', 0, 'reviews'] }], extensions: { cost: 1 } },
    ]);
  });

  it('no split where the answer cannot be told apart per fetch (each fetch is then sent alone)', () => {
    const merged = mergedDocument([a, b])!;
    // One fetch's failure took everyone's data; a request-level error; malformed bodies.
    expect(splitAnswer({ data: null, errors: [{ message: 'x', path: ['_0__entities'] }] }, merged)).toBeNull();
    expect(splitAnswer({ data: { _0__entities: [], _1__entities: [] }, errors: [{ message: 'too complex' }] }, merged)).toBeNull();
    expect(splitAnswer({ data: 'x' as never }, merged)).toBeNull();
    expect(splitAnswer({ data: {}, errors: {} as never }, merged)).toBeNull();
    expect(splitAnswer({ data: {}, errors: ['no object'] }, merged)).toBeNull();
  });
});
