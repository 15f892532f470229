import {
  getNamedType,
  isAbstractType,
  isListType,
  isNonNullType,
  isObjectType,
  type ConstDirectiveNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';

/*
 * The nullability rule across subgraphs (ARCHITECTURE.md, "Nullability across subgraphs"),
 * checked on a composed supergraph: which subgraph resolves a field is read off its join
 * directives.
 */

const argOf = (directive: ConstDirectiveNode, name: string) => {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  return value && 'value' in value ? String(value.value) : undefined;
};
const directivesOf = (node: { directives?: readonly ConstDirectiveNode[] } | undefined | null, name: string) =>
  (node?.directives ?? []).filter((d) => d.name.value === name);

/** The subgraphs (join__Graph values) that define a type. */
const graphsOfType = (type: GraphQLObjectType) =>
  new Set(directivesOf(type.astNode, 'join__type').map((d) => argOf(d, 'graph')!));

/** The subgraphs that resolve a field: its non-external join__field graphs, else every graph of its type. */
function servedBy(type: GraphQLObjectType, field: GraphQLField<unknown, unknown>): Set<string> {
  const joins = directivesOf(field.astNode, 'join__field');
  if (!joins.length || joins.some((d) => !argOf(d, 'graph'))) return graphsOfType(type);
  return new Set(joins.filter((d) => argOf(d, 'external') !== 'true').map((d) => argOf(d, 'graph')!));
}

/**
 * Where the supergraph breaks the rule: a root field that is non-null, or a non-null position
 * (a field, or a list's items) that holds an object one of whose non-null fields another
 * subgraph resolves (that subgraph failing would null the position, then its parents).
 */
export function nullabilityProblems(schema: GraphQLSchema): string[] {
  const problems: string[] = [];
  const roots = [schema.getQueryType(), schema.getMutationType()].filter((t): t is GraphQLObjectType => Boolean(t));
  for (const root of roots) {
    for (const field of Object.values(root.getFields())) {
      if (isNonNullType(field.type)) problems.push(`${root.name}.${field.name}: a root field must be nullable`);
    }
  }
  const objectsOf = (name: string): GraphQLObjectType[] => {
    const type = schema.getType(name);
    if (isObjectType(type)) return [type];
    return type && isAbstractType(type) ? [...schema.getPossibleTypes(type)] : [];
  };
  /** The non-null fields of `name` (any of its possible types) that `graph` does not resolve. */
  const foreignRequired = (name: string, graph: string) =>
    objectsOf(name).flatMap((object) =>
      Object.values(object.getFields())
        .filter((f) => isNonNullType(f.type) && !servedBy(object, f).has(graph))
        .map((f) => `${object.name}.${f.name}`),
    );
  const walk = (where: string, type: GraphQLOutputType, graph: string, item: boolean) => {
    if (isNonNullType(type)) {
      const inner = type.ofType;
      if (!isListType(inner)) {
        const foreign = foreignRequired(getNamedType(inner).name, graph);
        if (foreign.length) problems.push(`${where}${item ? ' (its items)' : ''}: non-null, but another subgraph resolves ${foreign.join(', ')}`);
      }
      walk(where, inner, graph, item);
    } else if (isListType(type)) walk(where, type.ofType, graph, true);
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || type.name.startsWith('join__') || type.name.startsWith('link__')) continue;
    for (const field of Object.values(type.getFields())) {
      for (const graph of servedBy(type, field)) walk(`${type.name}.${field.name} (${graph})`, field.type, graph, false);
    }
  }
  return problems.sort();
}
