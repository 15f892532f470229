import { buildSchema, execute, getArgumentValues, parse, type FieldNode, type GraphQLObjectType, type OperationDefinitionNode } from 'graphql';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/** Both builds: Node itself loads the CommonJS one for `import 'graphql'`, vitest the ES module one. */
type Values = { getArgumentValues: typeof getArgumentValues };
const ES_MODULE = 'graphql/execution/values.mjs';
const commonJs = createRequire(import.meta.url)('graphql/execution/values.js') as Values;
const esModule = (await import(ES_MODULE)) as Values;
/** The whole of each build: a schema built by one cannot be executed by the other. */
type Build = typeof import('graphql');
const GRAPHQL_ES_MODULE = 'graphql/index.mjs';
const graphqlCommonJs = createRequire(import.meta.url)('graphql') as Build;
const graphqlEsModule = (await import(GRAPHQL_ES_MODULE)) as Build;

/*
 * patches/graphql+16.15.0.patch: getArgumentValues answers a field without arguments at once.
 * graphql-js calls it for every field it resolves; indexing the (empty) argument nodes took 4%
 * of crm's CPU on a leads page.
 */
describe('graphql-js patch: arguments of a field that takes none', () => {
  const schema = buildSchema('type Query { leads(first: Int = 2, status: String!): [Lead!]! } type Lead { id: ID! name: String }');
  const query = schema.getQueryType() as GraphQLObjectType;
  const lead = schema.getType('Lead') as GraphQLObjectType;

  it('is an empty object without prototype, read without looking at the field node (the patch is applied)', () => {
    const untouchable = new Proxy({} as FieldNode, {
      get() {
        throw new Error('the field node was read');
      },
    });
    for (const build of [commonJs.getArgumentValues, esModule.getArgumentValues]) {
      const values = build(lead.getFields().name!, untouchable);
      expect(Object.getPrototypeOf(values)).toBeNull();
      expect(Object.keys(values)).toEqual([]);
    }
  });

  it('leaves fields with arguments as graphql-js coerces them: defaults, variables, a missing required one', async () => {
    const seen: unknown[] = [];
    const rootValue = {
      leads: (args: Record<string, unknown>) => {
        seen.push({ ...args });
        return [{ id: '1', name: 'Ada' }];
      },
    };
    const ok = await execute({ schema, rootValue, document: parse('query ($s: String!) { leads(status: $s) { id name } }'), variableValues: { s: 'NEW' } });
    expect(ok).toEqual({ data: { leads: [{ id: '1', name: 'Ada' }] } });
    expect(seen).toEqual([{ first: 2, status: 'NEW' }]);
    const field = (parse('{ leads { id } }').definitions[0] as OperationDefinitionNode).selectionSet.selections[0] as FieldNode;
    expect(() => getArgumentValues(query.getFields().leads!, field)).toThrow('Argument "status" of required type "String!" was not provided.');
  });
});

/*
 * patches/graphql+16.15.0.patch: results are built in objects that inherit nothing, as
 * Object.create(null) made them, but that V8 keeps in fast mode (Object.create(null) objects are
 * dictionary-mode: slower to fill and to JSON.stringify; crm's REST leads page took 13% less CPU).
 */
describe('graphql-js patch: result objects', () => {
  const sdl = 'type Query { note: Note later: Note } type Mutation { touch: Note } type Note { id: ID! text: String }';
  const note = { id: '1', text: 'hi' };
  const rootValue = { note, later: async () => note, touch: async () => note };
  const aliases = '__proto__: text constructor: id toString: text hasOwnProperty: id valueOf: text id';
  const expected = '{"__proto__":"hi","constructor":"1","toString":"hi","hasOwnProperty":"1","valueOf":"hi","id":"1"}';

  it('inherit nothing, keep every alias as an own field in order, on every path (sync, async, serial), in both builds', async () => {
    for (const build of [graphqlCommonJs, graphqlEsModule]) {
      const schema = build.buildSchema(sdl);
      for (const [text, field] of [
        [`{ note { ${aliases} } }`, 'note'],
        [`{ later { ${aliases} } }`, 'later'],
        [`mutation { touch { ${aliases} } }`, 'touch'],
      ] as const) {
        const result = await build.execute({ schema, rootValue, document: build.parse(text) });
        expect(result.errors).toBeUndefined();
        const data = result.data as Record<string, Record<string, unknown>>;
        expect(JSON.stringify(data)).toBe(`{"${field}":${expected}}`);
        for (const object of [data, data[field]!]) {
          // Nothing inherited: no Object.prototype in the chain (its prototype is an empty object without one).
          expect(Object.getPrototypeOf(Object.getPrototypeOf(object))).toBeNull();
          expect(Object.getOwnPropertyNames(Object.getPrototypeOf(object))).toEqual([]);
        }
        expect(Object.keys(data[field]!)).toEqual(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'id']);
        expect('isPrototypeOf' in data[field]!).toBe(false);
      }
    }
  });
});
