import type { GraphQLObjectType, GraphQLNamedType, GraphQLSchema } from 'graphql';
import type { IMiddlewareTypeMap } from 'graphql-middleware';
import { allow, deny, rule, shield, and, or, not, chain } from 'graphql-shield';
import type { IRules } from 'graphql-shield';
import type { Role } from './principal.ts';
import type { Context } from './context.ts';
import { forbidden, unauthenticated } from './errors.ts';

export { allow, deny, and, or, not, chain };
export type Permissions = IRules;

/*
 * Rules that look only at the caller (its token) are `contextual`: evaluated once per request.
 * A rule that looks at a row must use `strict` or `no_cache`, never `contextual`.
 */

export const isAuthenticated = rule({ cache: 'contextual' })((_parent, _args, ctx: Context) =>
  ctx.principal.accountId ? true : unauthenticated(),
);

/** A member of the token's tenant with one of `roles`. */
export const hasRole = (...roles: Role[]) =>
  rule(`hasRole(${roles.join(',')})`, { cache: 'contextual' })((_parent, _args, ctx: Context) => {
    if (!ctx.principal.accountId) return unauthenticated();
    return ctx.principal.roles.some((r) => roles.includes(r)) ? true : forbidden();
  });

/** The role ladder (ARCHITECTURE.md, "Tenancy and auth"): reading is open to every member. */
export const isMember = hasRole('owner', 'admin', 'editor', 'analyst', 'viewer');
export const isEditor = hasRole('owner', 'admin', 'editor');
export const isAnalyst = hasRole('owner', 'admin', 'analyst');
export const isAdmin = hasRole('owner', 'admin');
export const isOwner = hasRole('owner');

type FieldMiddleware = (
  resolve: (parent: unknown, args: unknown, ctx: unknown, info: unknown) => unknown,
  parent: unknown,
  args: unknown,
  ctx: object,
  info: unknown,
) => unknown;
type Rule = IRules & { cache?: unknown };

// By tag, not instanceof: the schema comes from @apollo/subgraph's copy of graphql (CommonJS),
// which is not the instance an ES module import of 'graphql' gets under some loaders.
const isObjectType = (type: GraphQLNamedType | undefined): type is GraphQLObjectType =>
  Object.prototype.toString.call(type) === '[object GraphQLObjectType]';

const isFieldMap = (x: unknown): x is Record<string, Rule> =>
  typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype;

/** The named type a field returns, through lists and non-nulls. */
const namedTypeOf = (type: GraphQLObjectType, field: string): GraphQLNamedType | undefined => {
  let t: unknown = type.getFields()[field]?.type;
  while (t && typeof t === 'object' && 'ofType' in t && (t as { ofType: unknown }).ofType) t = (t as { ofType: unknown }).ofType;
  return t as GraphQLNamedType | undefined;
};

/** A Relay edge: `node` and `cursor`. Its node type, or undefined when it is not an edge. */
const edgeNode = (type: GraphQLNamedType | undefined) =>
  isObjectType(type) && type.getFields().cursor ? namedTypeOf(type, 'node') : undefined;

/**
 * Rules for the types that only wrap others, so that `permissions.ts` lists root fields and the
 * types that carry data, not every Connection, Edge and payload:
 * - `PageInfo`: allow (cursors and flags of a list its field already guarded).
 * - an edge (`node` + `cursor`) and a connection (`edges` of such edges): the rule of the node's
 *   type (its type rule or its `'*'`) when that rule judges only the caller (`contextual`) or is
 *   allow, so `totalCount` stays as closed as the nodes. A rule that looks at a row cannot judge a
 *   list (there is no row): the list is then allowed and every node is judged as a row. A node
 *   type without a rule leaves its wrappers without one too: denied.
 * - a mutation's payload (the type a Mutation field returns, with an `errors` field) and the
 *   item type of its `errors`: allow; the mutation field has its own rule, and the objects in the payload keep theirs.
 * A type named in `permissions` keeps the rule given there.
 */
function wrapperRules(schema: GraphQLSchema, permissions: Record<string, unknown>): Record<string, Rule> {
  const derived: Record<string, Rule> = {};
  const typeRule = (name: string): Rule | undefined => {
    const rules = permissions[name];
    return isFieldMap(rules) ? rules['*'] : (rules as Rule | undefined);
  };
  const listRule = (node: GraphQLNamedType | undefined): Rule | undefined => {
    const rule = node && typeRule(node.name);
    if (rule === undefined) return undefined;
    return rule === allow || (rule as { cache?: unknown }).cache === 'contextual' ? rule : allow;
  };
  if (isObjectType(schema.getType('PageInfo'))) derived.PageInfo = allow;
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    const node = edgeNode(type) ?? edgeNode(type.getFields().edges ? namedTypeOf(type, 'edges') : undefined);
    const rule = listRule(node);
    if (rule) derived[type.name] = rule;
  }
  const mutation = schema.getMutationType();
  for (const field of Object.keys(mutation?.getFields() ?? {})) {
    const payload = namedTypeOf(mutation!, field);
    // A payload has `errors`; a mutation that returns an entity itself leaves the entity's rule alone.
    const error = isObjectType(payload) && payload.getFields().errors ? namedTypeOf(payload, 'errors') : undefined;
    if (!isObjectType(error) || permissions[payload!.name] !== undefined) continue;
    derived[payload!.name] = allow;
    derived[error.name] ??= allow;
  }
  return derived;
}

/**
 * The rule of every field of every object type: the field's own rule, else its type's `'*'`,
 * else its type's rule, else (for a type that only wraps others) the rule `wrapperRules`
 * derives, else deny. Names in `permissions` that the schema lacks are errors.
 */
function rulePerField(schema: GraphQLSchema, listed: Record<string, unknown>): Record<string, Record<string, Rule>> {
  const types = schema.getTypeMap();
  const unknown: string[] = [];
  const perField: Record<string, Record<string, Rule>> = {};
  for (const [typeName, typeRules] of Object.entries(listed)) {
    const type = types[typeName];
    if (!isObjectType(type)) unknown.push(typeName);
    else if (isFieldMap(typeRules)) unknown.push(...Object.keys(typeRules).filter((f) => f !== '*' && !type.getFields()[f]).map((f) => `${typeName}.${f}`));
  }
  if (unknown.length) throw new Error(`Permissions name what the schema does not have: ${unknown.join(', ')}`);
  const permissions = { ...wrapperRules(schema, listed), ...listed };
  for (const type of Object.values(types)) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    const typeRules = permissions[type.name];
    const fields: Record<string, Rule> = {};
    for (const field of Object.keys(type.getFields())) {
      fields[field] = (isFieldMap(typeRules) ? typeRules[field] ?? typeRules['*'] : (typeRules as Rule | undefined)) ?? deny;
    }
    perField[type.name] = fields;
  }
  return perField;
}

/** The caller's rules that passed in this request (a contextual rule's answer cannot change within it). */
const PASSED = Symbol('passedContextualRules');
const passedRules = (ctx: object): Set<Rule> => ((ctx as { [PASSED]?: Set<Rule> })[PASSED] ??= new Set());

/**
 * graphql-shield's own middleware, made cheap where its answer is already known:
 * - `allow` fields are not wrapped at all;
 * - a field whose `contextual` rule already passed in this request calls its resolver directly.
 * graphql-shield still decides every first use of a rule (and every other kind of rule): its
 * middleware is async, so without this every field of every row became a promise (running
 * without graphql-shield at all saved 19% of a leads page's CPU in the CRM subgraph; this keeps
 * most of that).
 */
function fastPath(rule: Rule, middleware: unknown): unknown {
  if (typeof middleware !== 'function' || (rule as { cache?: unknown }).cache !== 'contextual') return middleware;
  const shieldMiddleware = middleware as FieldMiddleware;
  return ((resolve, parent, args, ctx, info) => {
    const passed = passedRules(ctx);
    if (passed.has(rule)) return resolve(parent, args, ctx, info);
    return shieldMiddleware(
      (p, a, c, i) => {
        passed.add(rule);
        return resolve(p, a, c, i);
      },
      parent,
      args,
      ctx,
      info,
    );
  }) satisfies FieldMiddleware;
}

/**
 * The permission middleware of a subgraph (for graphql-middleware's `applyMiddleware`):
 * graphql-shield with deny by default. `_service` (composition) and `_entities` (the gateway's
 * entity fetches) are allowed explicitly: the entity types' own rules still apply to every
 * field, and `__resolveReference` reads through the tenant transaction.
 */
export function permissionMiddleware(schema: GraphQLSchema, permissions: Permissions): IMiddlewareTypeMap {
  const tree = permissions as Record<string, unknown>;
  const query = (tree.Query ?? {}) as Record<string, unknown>;
  // `_entities` exists only in a subgraph that has entity types.
  const entities = schema.getQueryType()?.getFields()._entities ? { _entities: allow } : {};
  const perField = rulePerField(schema, { ...tree, Query: { ...query, _service: allow, ...entities }, _Service: allow });
  const generated = shield(perField as IRules, {
    fallbackRule: deny,
    fallbackError: () => forbidden(),
    allowExternalErrors: true,
    debug: false,
  }).generate(schema) as Record<string, Record<string, unknown>>;
  const result: Record<string, Record<string, unknown>> = {};
  for (const [typeName, fields] of Object.entries(perField)) {
    const wrapped: Record<string, unknown> = {};
    for (const [field, rule] of Object.entries(fields)) {
      if (rule !== allow) wrapped[field] = fastPath(rule, generated[typeName]![field]);
    }
    result[typeName] = wrapped;
  }
  return result as IMiddlewareTypeMap;
}
