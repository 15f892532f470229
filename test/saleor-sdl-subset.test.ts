import { readRealSaleorSdl } from './support/saleor-sdl.ts';
import { readFileSync } from 'node:fs';
import {
  buildASTSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isRequiredArgument,
  isRequiredInputField,
  isScalarType,
  isUnionType,
  Kind,
  parse,
  print,
  visit,
  type ConstDirectiveNode,
  type GraphQLArgument,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../subgraphs/kit/paths.ts';

/*
 * The stand-in must be a strict subset of Saleor 3.23's federation SDL: whatever a client or a
 * subgraph relies on in the stand-in must mean the same thing against a real Saleor. Omitting is
 * allowed; inventing a name or changing a type (nullability included) is not.
 */


// Both files use federation directives without declaring them (Federation v1 style).
const build = (sdl: string) => buildASTSchema(parse(sdl), { assumeValidSDL: true });
const real = build(readRealSaleorSdl());
const ours = build(readFileSync(repoPath('schema/saleor.graphql'), 'utf8'));

const BUILT_IN = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);

function ownTypes(schema: GraphQLSchema): GraphQLNamedType[] {
  return Object.values(schema.getTypeMap()).filter((t) => !t.name.startsWith('__') && !BUILT_IN.has(t.name));
}

const keysOf = (type: GraphQLNamedType) =>
  (type.astNode?.directives ?? [])
    .filter((d: ConstDirectiveNode) => d.name.value === 'key')
    .map((d) => print(d))
    .sort();

function argProblems(where: string, mine: readonly GraphQLArgument[], theirs: readonly GraphQLArgument[]): string[] {
  const problems: string[] = [];
  for (const arg of mine) {
    const match = theirs.find((a) => a.name === arg.name);
    if (!match) problems.push(`${where}(${arg.name}): argument not in Saleor`);
    else {
      if (String(arg.type) !== String(match.type)) {
        problems.push(`${where}(${arg.name}): ${String(arg.type)} but Saleor has ${String(match.type)}`);
      }
      if (arg.defaultValue !== undefined && JSON.stringify(arg.defaultValue) !== JSON.stringify(match.defaultValue)) {
        problems.push(`${where}(${arg.name}): default differs from Saleor's`);
      }
      if ((arg.deprecationReason ?? null) !== (match.deprecationReason ?? null)) {
        problems.push(`${where}(${arg.name}): deprecation differs from Saleor's`);
      }
    }
  }
  // Leaving out an argument Saleor requires would change what a valid request is.
  for (const arg of theirs) {
    if (isRequiredArgument(arg) && !mine.some((a) => a.name === arg.name)) {
      problems.push(`${where}(${arg.name}): Saleor requires this argument`);
    }
  }
  return problems;
}

function inputFieldProblems(
  where: string,
  mine: Record<string, GraphQLInputField>,
  theirs: Record<string, GraphQLInputField>,
): string[] {
  const problems: string[] = [];
  for (const field of Object.values(mine)) {
    const match = theirs[field.name];
    if (!match) problems.push(`${where}.${field.name}: input field not in Saleor`);
    else {
      if (String(field.type) !== String(match.type)) {
        problems.push(`${where}.${field.name}: ${String(field.type)} but Saleor has ${String(match.type)}`);
      }
      if ((field.deprecationReason ?? null) !== (match.deprecationReason ?? null)) {
        problems.push(`${where}.${field.name}: deprecation differs from Saleor's`);
      }
    }
  }
  for (const field of Object.values(theirs)) {
    if (isRequiredInputField(field) && !mine[field.name]) problems.push(`${where}.${field.name}: Saleor requires this field`);
  }
  return problems;
}

function typeProblems(type: GraphQLNamedType): string[] {
  const match = real.getType(type.name);
  if (!match) return [`${type.name}: type not in Saleor`];
  if (match.constructor !== type.constructor) return [`${type.name}: a different kind of type in Saleor`];
  const problems: string[] = [];

  if (isObjectType(type) || isInterfaceType(type)) {
    const theirs = match as typeof type;
    const theirInterfaces = theirs.getInterfaces().map((i) => i.name);
    for (const iface of type.getInterfaces()) {
      if (!theirInterfaces.includes(iface.name)) problems.push(`${type.name}: Saleor's does not implement ${iface.name}`);
    }
    const theirFields = theirs.getFields();
    for (const field of Object.values(type.getFields())) {
      const where = `${type.name}.${field.name}`;
      const theirField = theirFields[field.name];
      if (!theirField) {
        problems.push(`${where}: field not in Saleor`);
        continue;
      }
      if (String(field.type) !== String(theirField.type)) {
        problems.push(`${where}: ${String(field.type)} but Saleor has ${String(theirField.type)}`);
      }
      if ((field.deprecationReason ?? null) !== (theirField.deprecationReason ?? null)) {
        problems.push(`${where}: deprecation differs from Saleor's`);
      }
      problems.push(...argProblems(where, field.args, theirField.args));
    }
    // Entity keys decide what the query planner sends: they must be exactly Saleor's.
    if (JSON.stringify(keysOf(type)) !== JSON.stringify(keysOf(match))) {
      problems.push(`${type.name}: @key ${keysOf(type).join(' ')} but Saleor has ${keysOf(match).join(' ')}`);
    }
  } else if (isInputObjectType(type)) {
    problems.push(...inputFieldProblems(type.name, type.getFields(), (match as typeof type).getFields()));
  } else if (isEnumType(type)) {
    const theirs = match as typeof type;
    for (const value of type.getValues()) {
      const theirValue = theirs.getValue(value.name);
      if (!theirValue) problems.push(`${type.name}.${value.name}: enum value not in Saleor`);
      else if ((value.deprecationReason ?? null) !== (theirValue.deprecationReason ?? null)) {
        problems.push(`${type.name}.${value.name}: deprecation differs from Saleor's`);
      }
    }
  } else if (isUnionType(type)) {
    const members = (match as typeof type).getTypes().map((t) => t.name);
    for (const member of type.getTypes()) {
      if (!members.includes(member.name)) problems.push(`${type.name}: member ${member.name} not in Saleor`);
    }
  } else if (!isScalarType(type)) {
    problems.push(`${(type as GraphQLNamedType).name}: unexpected kind of type`);
  }
  return problems;
}

describe('schema/saleor.graphql is a subset of Saleor 3.23', () => {
  it('has every type, field, argument, input field and enum value with Saleor’s exact type', () => {
    const types = ownTypes(ours);
    expect(types.length).toBeGreaterThan(0); // (no types would have no problems either)
    expect(types.flatMap(typeProblems)).toEqual([]);
  });

  it('serves what the design names, with Saleor’s entity keys', () => {
    const query = ours.getQueryType()!.getFields();
    for (const name of ['products', 'product', 'productVariant', 'category', 'categories', 'collection', 'collections', 'orders', 'order', 'user']) {
      expect(query[name], name).toBeDefined();
    }
    expect(keysOf(ours.getType('Product')!)).toEqual(['@key(fields: "id channel")']);
    expect(keysOf(ours.getType('ProductVariant')!)).toEqual(['@key(fields: "id channel")']);
    expect(keysOf(ours.getType('Collection')!)).toEqual(['@key(fields: "id channel")']);
    expect(keysOf(ours.getType('User')!)).toEqual(['@key(fields: "email")', '@key(fields: "id")']);
    expect(keysOf(ours.getType('Order')!)).toEqual(['@key(fields: "id")']);
    expect(keysOf(ours.getType('Category')!)).toEqual(['@key(fields: "id")']);
  });

  it('is Federation v1 style like Saleor’s: no schema @link, no @doc', () => {
    const document = parse(readFileSync(repoPath('schema/saleor.graphql'), 'utf8'));
    const kinds = document.definitions.map((d) => d.kind);
    expect(kinds).not.toContain(Kind.SCHEMA_EXTENSION);
    expect(kinds).not.toContain(Kind.SCHEMA_DEFINITION);
    const used = new Set<string>();
    visit(document, { Directive: (node) => void used.add(node.name.value) });
    expect([...used].sort()).toEqual(['deprecated', 'key']);
  });

  it('catches a changed type (the checker itself works)', () => {
    const broken = build('type Product @key(fields: "id channel") { id: ID! name: String rating: Int madeUp: String }');
    const problems = ownTypes(broken).flatMap(typeProblems);
    expect(problems).toEqual([
      'Product.name: String but Saleor has String!',
      'Product.rating: Int but Saleor has Float',
      'Product.madeUp: field not in Saleor',
    ]);
  });
});
