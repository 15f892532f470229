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
 * rest-leads --rate 200`, JSON.stringify wrapped by a `--import` hook). `isoString` below then
 * took crm's CPU for that page from 2.28 to 2.01 ms a request against `toISOString` (same
 * command, `--rounds 6`, a temporary switch, every round; a slow hour of the host).
 * Strings pass as they are (an answer read back from a cache or a JSON column is already one);
 * anything else is an error at the field, an invalid date and PostgreSQL's `infinity` (which pg
 * reads as the number Infinity) included, where `JSON.stringify` wrote null. Nothing stores it.
 * Inputs are untouched: resolvers validate the strings clients send (crm's `validate.ts`).
 */
export function serializeDateTime(value: unknown): string {
  if (value instanceof Date) {
    // (`toISOString` throws a RangeError on an invalid date; `JSON.stringify` wrote null.)
    if (Number.isNaN(value.getTime())) throw new TypeError('DateTime cannot represent an invalid date');
    return isoString(value);
  }
  if (typeof value === 'string') return value;
  throw new TypeError(`DateTime cannot represent a value of type ${value === null ? 'null' : typeof value}`);
}

const DAY_MS = 86_400_000;
/** Years 0000 to 9999: `toISOString`'s four-digit form (outside it, a signed six-digit year). */
const FOUR_DIGIT_YEARS = { from: -62_167_219_200_000, to: 253_402_300_799_999 };
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** 'YYYY-MM-DDT' by day since the epoch (bounded: a page's timestamps span few days). */
const dayPrefixes = new Map<number, string>();

/**
 * `date.toISOString()`, the same string, about six times faster: V8 formats it in C++ with
 * printf (about 670 ns a call here, against 110), and a page of 50 leads has 200 timestamps. The
 * date part comes from `toISOString` itself once per day, the time of day from arithmetic.
 */
export function isoString(date: Date): string {
  const ms = date.getTime();
  if (!(ms >= FOUR_DIGIT_YEARS.from && ms <= FOUR_DIGIT_YEARS.to)) return date.toISOString();
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size >= 4096) dayPrefixes.clear();
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  let rest = ms - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${prefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[rest - seconds * 1000]}Z`;
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
