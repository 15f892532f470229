import {
  Kind,
  parse,
  print,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type VariableDefinitionNode,
} from 'graphql';

/**
 * Several query fetches to one subgraph as one GraphQL operation (GATEWAY_FETCH_MERGE), and its
 * answer split back into the answers each fetch would have had.
 *
 * Fetch `i`'s root fields get the alias `_i_<response key>` and its variables the name
 * `_i_<name>`; its fragments keep their names where they are identical to another fetch's and
 * get `_i` appended where they differ. Any GraphQL server answers that (aliases and variables are
 * the language's own), so it works for Saleor as for our subgraphs, unlike batched HTTP requests.
 * The merged document is built once per combination of fetch documents (plans are cached, so the
 * same few combinations come back) and kept in a bounded map.
 */

export interface FetchPayload {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

export interface SubgraphAnswer {
  data?: Record<string, unknown> | null;
  errors?: unknown[];
  extensions?: Record<string, unknown>;
}

interface MergedDocument {
  query: string;
  operationName: string;
  /** Per fetch: merged response key -> the fetch's own response key. */
  keys: Map<string, string>[];
  /** Merged root response key -> the fetch it belongs to. */
  owner: Map<string, number>;
}

const MAX_DOCUMENTS = 500;
/** A fragment spread (`...Name`), not an inline fragment (`... on Type`). */
const SPREAD = /\.\.\.\s*(?!on\b)[_A-Za-z]/;
const documents = new Map<string, MergedDocument | null>();

/** The merged document for these fetches' documents, or null when they cannot be merged. */
export function mergedDocument(queries: readonly string[]): MergedDocument | null {
  const cacheKey = queries.join('\u0000');
  let merged = documents.get(cacheKey);
  if (merged === undefined) {
    merged = buildMerged(queries);
    if (documents.size >= MAX_DOCUMENTS) documents.clear();
    documents.set(cacheKey, merged);
  }
  return merged;
}

/**
 * Never merge these fetch documents again: the subgraph refused their merged request as a whole
 * (a limit only the sum crosses, a non-2xx answer). Each is then sent alone, as it would be anyway
 * after the refusal, without paying for the refused request first on every operation.
 */
export function refuseMerge(queries: readonly string[]): void {
  if (documents.size >= MAX_DOCUMENTS) documents.clear();
  documents.set(queries.join('\u0000'), null);
}

function buildMerged(queries: readonly string[]): MergedDocument | null {
  let parsed: DocumentNode[];
  try {
    parsed = queries.map((query) => parse(query, { noLocation: true }));
  } catch {
    return null;
  }
  const operations: OperationDefinitionNode[] = [];
  const fragments = new Map<string, { printed: string; definition: FragmentDefinitionNode }>();
  const definitions: DefinitionNode[] = [];
  const variableDefinitions: VariableDefinitionNode[] = [];
  const selections: FieldNode[] = [];
  const keys: Map<string, string>[] = [];
  const owner = new Map<string, number>();
  for (const [i, document] of parsed.entries()) {
    const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const op = ops[0];
    // One plain query per fetch, root selections all fields: what Apollo's planner writes.
    if (ops.length !== 1 || !op || op.operation !== 'query' || op.directives?.length) return null;
    if (!op.selectionSet.selections.every((s) => s.kind === Kind.FIELD)) return null;
    operations.push(op);
    const renameVariables = <T extends object>(node: T): T =>
      visit(node as never, { Variable: (v) => ({ ...v, name: { ...v.name, value: `_${i}_${v.name.value}` } }) }) as T;
    // Fragments first: their final names decide the spreads' names. A fragment identical to one
    // another fetch brought (and spreading no other fragment, whose name could differ) is shared.
    const fragmentNames = new Map<string, string>();
    const added: FragmentDefinitionNode[] = [];
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.FRAGMENT_DEFINITION) continue;
      const renamed = renameVariables(definition);
      const printed = print(renamed);
      const name = definition.name.value;
      const existing = fragments.get(name);
      if (existing && existing.printed === printed && !SPREAD.test(printed)) {
        fragmentNames.set(name, name);
        continue;
      }
      let unique = name;
      if (existing) for (unique = `${name}_${i}`; fragments.has(unique); unique += '_');
      fragmentNames.set(name, unique);
      fragments.set(unique, { printed, definition: renamed });
      added.push({ ...renamed, name: { ...renamed.name, value: unique } });
    }
    const respread = <T extends object>(node: T): T =>
      visit(node as never, {
        FragmentSpread: (s) => ({ ...s, name: { ...s.name, value: fragmentNames.get(s.name.value) ?? s.name.value } }),
      }) as T;
    for (const definition of added) fragments.get(definition.name.value)!.definition = respread(definition);
    for (const definition of op.variableDefinitions ?? []) variableDefinitions.push(renameVariables(definition));
    const own = new Map<string, string>();
    for (const selection of op.selectionSet.selections as FieldNode[]) {
      const key = selection.alias?.value ?? selection.name.value;
      const mergedKey = `_${i}_${key}`;
      own.set(mergedKey, key);
      owner.set(mergedKey, i);
      selections.push(respread(renameVariables({ ...selection, alias: { kind: Kind.NAME, value: mergedKey } })));
    }
    keys.push(own);
  }
  const operationName = `${operations[0]!.name?.value ?? 'Fetch'}__merged_${operations.length}`;
  definitions.push({
    kind: Kind.OPERATION_DEFINITION,
    operation: operations[0]!.operation,
    name: { kind: Kind.NAME, value: operationName },
    variableDefinitions,
    directives: [],
    selectionSet: { kind: Kind.SELECTION_SET, selections },
  });
  for (const { definition } of fragments.values()) definitions.push(definition);
  return { query: print({ kind: Kind.DOCUMENT, definitions }), operationName, keys, owner };
}

/** The variables of the merged operation: fetch `i`'s `name` as `_i_name`. */
export function mergedVariables(payloads: readonly FetchPayload[]): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  payloads.forEach((payload, i) => {
    if (payload.variables) for (const name in payload.variables) variables[`_${i}_${name}`] = payload.variables[name];
  });
  return variables;
}

interface ErrorLike {
  path?: readonly (string | number)[];
  [key: string]: unknown;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The merged answer as each fetch's own: its root fields under their own keys, the errors whose
 * path starts in its fields (the path rewritten to its own key), the extensions. Null when the
 * answer cannot be told apart per fetch: `data` null (a failure of one fetch's non-null field
 * took everyone's data), an error with no path into one fetch's fields (a request-level error:
 * a limit the merged request crossed, a variable refused), or a malformed body. The caller then
 * sends each fetch on its own, so a merged request never fails a fetch that alone would succeed.
 */
export function splitAnswer(answer: SubgraphAnswer, merged: MergedDocument): SubgraphAnswer[] | null {
  if (!isPlainObject(answer.data)) return null;
  if (answer.errors !== undefined && !Array.isArray(answer.errors)) return null;
  const data = answer.data;
  const parts: SubgraphAnswer[] = merged.keys.map((keys) => {
    // (No prototype: a response key `__proto__` or `constructor` is a field like any other.)
    const own: Record<string, unknown> = Object.create(null);
    for (const [mergedKey, key] of keys) if (Object.hasOwn(data, mergedKey)) own[key] = data[mergedKey];
    return answer.extensions ? { data: own, extensions: answer.extensions } : { data: own };
  });
  for (const error of answer.errors ?? []) {
    const path = isPlainObject(error) ? (error as ErrorLike).path : undefined;
    const head = Array.isArray(path) ? path[0] : undefined;
    const owner = typeof head === 'string' ? merged.owner.get(head) : undefined;
    if (owner === undefined) return null;
    (parts[owner]!.errors ??= []).push({ ...(error as ErrorLike), path: [merged.keys[owner]!.get(head as string)!, ...path!.slice(1)] });
  }
  return parts;
}
