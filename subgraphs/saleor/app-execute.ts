import { buildASTSchema, execute, parse, type DocumentNode, type ExecutionResult, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { loadSchema } from '../kit/schema.ts';
import { createLoaders } from './loaders.ts';
import { resolvers } from './resolvers.ts';

/*
 * Runs a GraphQL operation against the stand-in's own schema and resolvers with the App's rights,
 * in process: how Saleor builds a subscription webhook's payload ("payload generation will use
 * resolvers/permissions that are normally used in our API", with the App's permissions), and how
 * the bi seed reads the stand-in's orders before any server listens.
 *
 * The schema is built with the `graphql` this module imports (buildASTSchema; the federation
 * directives stay unchecked) rather than @apollo/subgraph's, whose CommonJS copy of graphql is
 * another instance under ESM; resolvers are looked up by type and field name.
 */

let schema: GraphQLSchema | undefined;
const documents = new Map<string, DocumentNode>();

type ResolverMap = Record<string, Record<string, unknown>>;

const fieldResolver: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
  const resolver = (resolvers as unknown as ResolverMap)[info.parentType.name]?.[info.fieldName];
  if (typeof resolver === 'function') return resolver(source, args, context, info);
  const value = (source as Record<string, unknown> | null)?.[info.fieldName];
  return typeof value === 'function' ? value.call(source, args, context, info) : value;
};

export async function executeAsApp<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<ExecutionResult<T>> {
  schema ??= buildASTSchema(loadSchema('saleor'), { assumeValidSDL: true });
  let document = documents.get(query);
  if (!document) documents.set(query, (document = parse(query)));
  const result = await execute({
    schema,
    document,
    variableValues: variables,
    // The resolvers read only their loaders from the context (the App may read every order).
    contextValue: { loaders: createLoaders() },
    fieldResolver,
  });
  return result as ExecutionResult<T>;
}
