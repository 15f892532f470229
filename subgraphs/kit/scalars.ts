import { Kind, type DocumentNode } from 'graphql';

/**
 * Scalars every subgraph declares alike, answered alike by the kit (`scalar DateTime` in a
 * subgraph's SDL is enough; a subgraph's own resolver for it would win).
 *
 * DateTime: an ISO 8601 instant in UTC with milliseconds (`2026-12-07T10:03:22.000Z`), what
 * `JSON.stringify` wrote for the `Date`s resolvers return before the kit serialized them. It
 * does so now, as graphql-js completes each leaf: left to `JSON.stringify`, every `Date` was a
 * call from the C++ serializer back into `toJSON`. crm's REST leads page (50 rows, 200
 * timestamps, 27 KB), timed inside crm at scenario B's pace (2026-12-07): JSON.stringify took
 * 245 µs a response with Dates, 109 µs with the strings (`npm run bench:subgraph -- --request
 * rest-leads --rate 200`, JSON.stringify wrapped by a `--import` hook).
 * Strings pass as they are (an answer read back from a cache or a JSON column is already one).
 * Inputs are untouched: resolvers validate the strings clients send (crm's `validate.ts`).
 */
export function serializeDateTime(value: unknown): string {
  if (value instanceof Date) {
    // (`toISOString` throws a RangeError on an invalid date; `JSON.stringify` wrote null.)
    if (Number.isNaN(value.getTime())) throw new TypeError('DateTime cannot represent an invalid date');
    return value.toISOString();
  }
  if (typeof value === 'string') return value;
  throw new TypeError(`DateTime cannot represent a value of type ${value === null ? 'null' : typeof value}`);
}

const KIT_SCALARS: Record<string, { serialize(value: unknown): unknown }> = {
  DateTime: { serialize: serializeDateTime },
};

/** `resolvers` with the kit's scalars the SDL declares and the subgraph does not resolve itself. */
export function withKitScalars<T extends Record<string, unknown>>(typeDefs: DocumentNode, resolvers: T): T {
  const declared = typeDefs.definitions.flatMap((d) => (d.kind === Kind.SCALAR_TYPE_DEFINITION ? [d.name.value] : []));
  const added = Object.fromEntries(declared.filter((name) => KIT_SCALARS[name] && !(name in resolvers)).map((name) => [name, KIT_SCALARS[name]]));
  return { ...resolvers, ...added };
}
