import {
  Kind,
  parse,
  print,
  type FragmentDefinitionNode,
  type GraphQLEnumType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { PlanNode, QueryPlan } from '@apollo/query-planner';

/*
 * Pass-through (GATEWAY_PASSTHROUGH_SUBGRAPHS): when one fetch answers a whole query exactly as
 * the client asked it, its data is the response, instead of Apollo's result shaping copying it
 * object by object into the operation's shape (and the garbage that makes): scenario B's REST
 * leads page, 17-20% of the gateway's CPU.
 *
 * Shaping is what protects clients from a subgraph that answers outside the supergraph's schema
 * (a field not asked for, a null or a value its type refuses): so this is for subgraphs that are
 * spec-compliant GraphQL servers of the same team (our own, graphql-js: their answers already
 * have the operation's shape, their nulls already propagated), never for a third party's
 * (Saleor's answers keep being checked). And only where the answer must be the same:
 * - the plan is one query fetch from the root: no entity fetches, no `@requires`, no rewrites;
 * - the client's operation has no directives (no `@skip`/`@include` to apply) and no
 *   introspection field, and its selections, fragments written out in place, print exactly as
 *   the fetch's: same fields, aliases, arguments and order (Apollo's planner may add `__typename`
 *   to an entity reference, or write a literal its own way, `id: "2"` as `id: 2`: such a query
 *   differs from its fetch, and is shaped);
 * - every field's type is an object, a scalar or an enum (not an interface or union), and no enum
 *   has a value the supergraph hides (`@inaccessible`: shaping would null it);
 * - the fetch answered without errors (an error anywhere goes through shaping, as before).
 * The supergraph's nullability never forbids a null its subgraph allows (composition merges a
 * field's types into the least restrictive), so a subgraph's answer is already valid for it.
 */

/** What the patched `executeQueryPlan` (patches/@apollo+gateway) hands a plan's one data source. */
export interface OperationOfPlan {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  fragments: Record<string, FragmentDefinitionNode>;
}

/** The supergraph, API schema's elements `@inaccessible` hides included (the enum values it hides). */
export type SupergraphTypes = Pick<GraphQLSchema, 'getType'>;

type FetchNode = Extract<PlanNode, { kind: 'Fetch' }>;

/** Per plan (Apollo caches a plan per query text and operation name; a new schema, new plans). */
const verdicts = new WeakMap<QueryPlan, boolean>();

/** Whether `plan`'s data can be the response as it is (see above); decided once per plan. */
export function answersAsAsked(plan: QueryPlan, operation: OperationOfPlan, supergraph: SupergraphTypes): boolean {
  let verdict = verdicts.get(plan);
  if (verdict === undefined) {
    verdict = judge(plan, operation, supergraph);
    verdicts.set(plan, verdict);
  }
  return verdict;
}

function judge(plan: QueryPlan, { schema, operation, fragments }: OperationOfPlan, supergraph: SupergraphTypes): boolean {
  const node = plan.node;
  if (!node || node.kind !== 'Fetch' || !isPlainFetch(node)) return false;
  if (operation.operation !== 'query' || operation.directives?.length) return false;
  const query = schema.getQueryType();
  const asked = query && inlined(operation.selectionSet, fragments);
  if (!query || !asked || !plainSelections(asked)) return false;
  const fetched = node.operationDocumentNode ?? parse(node.operation);
  const [definition, ...others] = fetched.definitions;
  if (others.length > 0 || definition?.kind !== Kind.OPERATION_DEFINITION) return false;
  if (print(definition.selectionSet) !== print(asked)) return false;
  return typesPassThrough(schema, query, asked, supergraph);
}

/**
 * The selections with fragments written out in place (what the planner sends a subgraph), or
 * null where a fragment has directives. Only ever compared with the fetch's and walked over
 * object types, where a fragment's fields all apply: a field a fragment repeats prints twice
 * here and once in the fetch, which then differs (and is shaped).
 */
function inlined(set: SelectionSetNode, fragments: Record<string, FragmentDefinitionNode>): SelectionSetNode | null {
  const selections: SelectionNode[] = [];
  for (const selection of set.selections) {
    if (selection.directives?.length) return null;
    if (selection.kind === Kind.FIELD) {
      const inner = selection.selectionSet && inlined(selection.selectionSet, fragments);
      if (selection.selectionSet && !inner) return null;
      selections.push(inner ? { ...selection, selectionSet: inner } : selection);
      continue;
    }
    const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments[selection.name.value] : selection;
    if (!fragment || fragment.directives?.length) return null;
    const inner = inlined(fragment.selectionSet, fragments);
    if (!inner) return null;
    selections.push(...inner.selections);
  }
  return { kind: Kind.SELECTION_SET, selections };
}

function isPlainFetch(node: FetchNode): boolean {
  return (
    node.operationKind === 'query' &&
    !node.requires?.length &&
    !node.inputRewrites?.length &&
    !node.outputRewrites?.length &&
    !(node as { contextRewrites?: unknown[] }).contextRewrites?.length
  );
}

/** Fields only, no directives, no introspection but `__typename`, all the way down. */
function plainSelections(set: SelectionSetNode): boolean {
  return set.selections.every(
    (s) =>
      s.kind === Kind.FIELD &&
      !s.directives?.length &&
      (!s.name.value.startsWith('__') || s.name.value === '__typename') &&
      (!s.selectionSet || plainSelections(s.selectionSet)),
  );
}

/**
 * The kind of a schema type by its tag, not graphql-js' `isObjectType` & co: those test
 * `instanceof`, and the schema is Apollo's, built by the CommonJS graphql (under vitest this
 * module gets the ES module one, whose classes differ).
 */
const kindOf = (type: GraphQLNamedType) => (type as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag];

function namedType(type: GraphQLOutputType): GraphQLNamedType {
  let t: GraphQLOutputType = type;
  while ('ofType' in t) t = t.ofType;
  return t;
}

function typesPassThrough(schema: GraphQLSchema, parent: GraphQLObjectType, set: SelectionSetNode, supergraph: SupergraphTypes): boolean {
  for (const selection of set.selections) {
    if (selection.kind !== Kind.FIELD || selection.name.value === '__typename') continue;
    const field = parent.getFields()[selection.name.value];
    if (!field) return false;
    const type = namedType(field.type);
    const kind = kindOf(type);
    if (kind === 'GraphQLEnumType') {
      const all = supergraph.getType(type.name);
      if (!all || kindOf(all) !== 'GraphQLEnumType' || (all as GraphQLEnumType).getValues().length !== (type as GraphQLEnumType).getValues().length) return false;
    } else if (kind === 'GraphQLObjectType') {
      if (!selection.selectionSet || !typesPassThrough(schema, type as GraphQLObjectType, selection.selectionSet, supergraph)) return false;
    } else if (kind !== 'GraphQLScalarType') {
      return false; // an interface or a union: its objects' shapes depend on their types
    }
  }
  return true;
}
