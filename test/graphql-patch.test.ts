import { buildSchema, execute, getArgumentValues, parse, type FieldNode, type GraphQLObjectType, type OperationDefinitionNode } from 'graphql';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/** Both builds: Node itself loads the CommonJS one for `import 'graphql'`, vitest the ES module one. */
type Values = { getArgumentValues: typeof getArgumentValues };
const ES_MODULE = 'graphql/execution/values.mjs';
const commonJs = createRequire(import.meta.url)('graphql/execution/values.js') as Values;
const esModule = (await import(ES_MODULE)) as Values;

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
