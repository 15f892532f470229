import type { InputError } from '../errors.ts';

/**
 * PostgreSQL errors (SQLSTATE) that input can cause: a constraint the database checks, a value
 * it cannot store. https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export const SQLSTATE = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
  stringTooLong: '22001',
  numericOutOfRange: '22003',
  datetimeOutOfRange: '22008',
  invalidTextRepresentation: '22P02',
  invalidDatetimeFormat: '22007',
} as const;

/** Payload errors by constraint name (a unique index, a foreign key, a check). */
export type ConstraintErrors<C extends string> = Readonly<Record<string, InputError<C>>>;

/** How a subgraph's database errors read as payload errors: build with `databaseErrors`. */
export interface DatabaseErrorRules<C extends string> {
  /** By constraint name: the input field at fault and what to tell the client. */
  constraints: ConstraintErrors<C>;
  /** NOT NULL violations by column (the database column name). */
  columns: ConstraintErrors<C>;
  /** By SQLSTATE, for what the two above do not name. A NOT NULL violation's field is its column. */
  states: ConstraintErrors<C>;
}

/** The codes of a subgraph's error enum for each kind of database error. */
export interface DatabaseErrorCodes<C extends string> {
  unique: C;
  foreignKey: C;
  check: C;
  notNull: C;
  /** Values the column cannot store; without these codes those errors stay internal errors. */
  tooLong?: C;
  outOfRange?: C;
  malformed?: C;
}

/** What a subgraph names beyond its codes: its constraints and NOT NULL columns, its own messages. */
export interface DatabaseErrorNames<C extends string> {
  constraints?: ConstraintErrors<C>;
  columns?: ConstraintErrors<C>;
  /** Messages of the general errors, in place of the kit's. */
  messages?: Partial<Record<keyof DatabaseErrorCodes<C>, string>>;
}

const MESSAGES: Record<keyof DatabaseErrorCodes<string>, string> = {
  unique: 'This already exists.',
  foreignKey: 'A referenced object does not exist.',
  check: 'The input breaks a rule.',
  notNull: 'This field is required.',
  tooLong: 'A value is too long.',
  outOfRange: 'A value is out of range.',
  malformed: 'A value is malformed.',
};

const STATES: Record<keyof DatabaseErrorCodes<string>, readonly string[]> = {
  unique: [SQLSTATE.uniqueViolation],
  foreignKey: [SQLSTATE.foreignKeyViolation],
  check: [SQLSTATE.checkViolation],
  notNull: [SQLSTATE.notNullViolation],
  tooLong: [SQLSTATE.stringTooLong],
  outOfRange: [SQLSTATE.numericOutOfRange, SQLSTATE.datetimeOutOfRange],
  malformed: [SQLSTATE.invalidTextRepresentation, SQLSTATE.invalidDatetimeFormat],
};

/**
 * A subgraph's rules for database errors: its codes for each kind, and, for the constraints and
 * NOT NULL columns that name an input field, that field and a message.
 *
 *   const CRM_ERRORS = databaseErrors<CrmErrorCode>(
 *     { unique: 'DUPLICATE', foreignKey: 'NOT_FOUND', check: 'INVALID', notNull: 'REQUIRED' },
 *     { constraints: { leads_owner_fkey: { field: 'ownerId', code: 'NOT_FOUND', message: 'No such member in this tenant.' } } },
 *   );
 */
export function databaseErrors<C extends string>(
  codes: DatabaseErrorCodes<C>,
  named: DatabaseErrorNames<C> = {},
): DatabaseErrorRules<C> {
  const states: Record<string, InputError<C>> = {};
  for (const kind of Object.keys(STATES) as (keyof DatabaseErrorCodes<C>)[]) {
    const code = codes[kind];
    if (code === undefined) continue;
    const message = named.messages?.[kind] ?? MESSAGES[kind];
    for (const state of STATES[kind]) states[state] = { field: null, message, code };
  }
  return { constraints: named.constraints ?? {}, columns: named.columns ?? {}, states };
}

/** What node-postgres' DatabaseError carries. */
interface PgError {
  code?: unknown;
  constraint?: unknown;
  column?: unknown;
}

/**
 * The payload error of a database error caused by the input (`constraints` first: one
 * mutation's names for its constraints), or undefined for anything else: a real failure.
 */
export function inputErrorOf<C extends string>(
  error: unknown,
  rules: DatabaseErrorRules<C>,
  constraints?: ConstraintErrors<C>,
): InputError<C> | undefined {
  const { code, constraint, column } = (error ?? {}) as PgError;
  if (typeof code !== 'string') return undefined;
  if (typeof constraint === 'string') {
    const named = constraints?.[constraint] ?? rules.constraints[constraint];
    if (named) return { ...named };
  }
  const notNull = code === SQLSTATE.notNullViolation && typeof column === 'string' ? column : null;
  if (notNull !== null && rules.columns[notNull]) return { ...rules.columns[notNull] };
  const general = rules.states[code];
  if (!general) return undefined;
  return notNull !== null && general.field === null ? { ...general, field: notNull } : { ...general };
}
