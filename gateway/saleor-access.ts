import type { ApolloGateway } from '@apollo/gateway';
import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  parse,
  type ConstDirectiveNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Principal } from '../subgraphs/kit/principal.ts';
import type { GatewayContext } from './context.ts';

/*
 * Saleor's App-only data through the gateway (ARCHITECTURE.md, "Saleor").
 *
 * The gateway sends Saleor the App token (SALEOR_APP_TOKEN) on every fetch, whoever the caller
 * is: Saleor cannot tell our callers apart, so it answers every fetch with the App's rights. The
 * gateway therefore decides, before planning, which of Saleor's root fields a caller may select:
 * - the public catalog, as in Saleor's storefront API (SALEOR_PUBLIC_ROOT_FIELDS): anyone;
 * - every other root field Saleor serves (`orders`, `order`, `user` in the stand-in; with a real
 *   Saleor also its customers, staff, checkouts and every mutation the App may run): only a
 *   platform administrator (the access token's `platform_admin` claim).
 * Any other caller's operation is refused whole, before a fetch: UNAUTHENTICATED (401) when
 * anonymous, FORBIDDEN (403) for a member. Deny by default: a Saleor root field added to the
 * supergraph (a newer Saleor, a real one in place of the stand-in) is closed until it is listed.
 *
 * Saleor's User and Order entities are also reached through our `Account.saleorUser`: the auth
 * subgraph links only the caller's own account (or any, for a platform administrator), so a
 * member sees their own Saleor orders and nobody else's. Scoping Saleor's orders to a tenant by
 * its channel is not built (BI's work).
 */

/** Saleor root fields anyone may select: the catalog, public in Saleor's storefront API too. */
export const SALEOR_PUBLIC_ROOT_FIELDS: ReadonlySet<string> = new Set([
  'Query.products',
  'Query.product',
  'Query.productVariant',
  'Query.categories',
  'Query.category',
  'Query.collections',
  'Query.collection',
]);

const argument = (directive: ConstDirectiveNode, name: string) => directive.arguments?.find((a) => a.name.value === name)?.value;

/**
 * The root fields of a supergraph (Fed 2 `@join__*` SDL) that the subgraph named `saleor`
 * serves and that are not public, per root type name (`Query`, `Mutation`, `Subscription`).
 */
export function restrictedSaleorRootFields(supergraphSdl: string): Map<string, Set<string>> {
  const document = parse(supergraphSdl);
  let saleor: string | undefined;
  const roots = new Map<string, string>([
    ['Query', 'Query'],
    ['Mutation', 'Mutation'],
    ['Subscription', 'Subscription'],
  ]);
  for (const definition of document.definitions) {
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'join__Graph') {
      for (const value of definition.values ?? []) {
        const graph = value.directives?.find((d) => d.name.value === 'join__graph');
        const name = graph && argument(graph, 'name');
        if (name?.kind === Kind.STRING && name.value === 'saleor') saleor = value.name.value;
      }
    }
    if (definition.kind === Kind.SCHEMA_DEFINITION) {
      roots.clear();
      for (const { operation, type } of definition.operationTypes) roots.set(type.name.value, operation[0]!.toUpperCase() + operation.slice(1));
    }
  }
  const restricted = new Map<string, Set<string>>();
  if (!saleor) return restricted;
  const graphsOf = (directives: readonly ConstDirectiveNode[] | undefined, name: string) =>
    (directives ?? [])
      .filter((d) => d.name.value === name)
      .map((d) => argument(d, 'graph'))
      .flatMap((graph) => (graph?.kind === Kind.ENUM ? [graph.value] : []));
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const root = roots.get(definition.name.value);
    if (!root) continue;
    const typeGraphs = graphsOf(definition.directives, 'join__type');
    for (const field of definition.fields ?? []) {
      const fieldGraphs = graphsOf(field.directives, 'join__field');
      const graphs = fieldGraphs.length ? fieldGraphs : typeGraphs;
      if (!graphs.includes(saleor) || SALEOR_PUBLIC_ROOT_FIELDS.has(`${root}.${field.name.value}`)) continue;
      if (!restricted.has(definition.name.value)) restricted.set(definition.name.value, new Set());
      restricted.get(definition.name.value)!.add(field.name.value);
    }
  }
  return restricted;
}

/** The names of the fields an operation selects at its root, through fragments. */
function rootFieldNames(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, names = new Set<string>(), seen = new Set<string>()) {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) names.add(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT) rootFieldNames(selection.selectionSet, fragments, names, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) rootFieldNames(fragment.selectionSet, fragments, names, seen);
    }
  }
  return names;
}

function refusal(principal: Principal, fields: string[]): GraphQLError {
  const list = fields.map((f) => `\`${f}\``).join(', ');
  const anonymous = !principal.accountId;
  return new GraphQLError(
    `Saleor's ${list} ${fields.length > 1 ? 'are' : 'is'} open to platform administrators only${anonymous ? ': log in as one' : ''}. ` +
      "Your own Saleor orders are at viewer { account { saleorUser { orders } } }.",
    { extensions: anonymous ? { code: 'UNAUTHENTICATED', http: { status: 401 } } : { code: 'FORBIDDEN', http: { status: 403 } } },
  );
}

/**
 * The rule, as an Apollo Server plugin: after validation, before planning, an operation that
 * selects a restricted Saleor root field is refused unless the caller is a platform administrator.
 * The restricted fields are read from each supergraph the gateway loads.
 */
export function saleorAccess(gateway: ApolloGateway): ApolloServerPlugin<GatewayContext> {
  let restricted = new Map<string, Set<string>>();
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    restricted = restrictedSaleorRootFields(coreSupergraphSdl);
  });
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, schema, contextValue }) {
          if (!operation || contextValue.principal.platformAdmin) return;
          const fields = restricted.get(schema.getRootType(operation.operation)?.name ?? '');
          if (!fields) return;
          const selected = [...rootFieldNames(operation.selectionSet, fragmentsOf(document))].filter((name) => fields.has(name));
          if (selected.length) throw refusal(contextValue.principal, selected);
        },
      };
    },
  };
}

const fragmentsOf = (document: DocumentNode) =>
  new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
