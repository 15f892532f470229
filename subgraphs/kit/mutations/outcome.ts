import { inputError, type InputError } from '../errors.ts';

/**
 * What a mutation comes to: its value, or the input errors that stopped it (with nothing
 * written). `C` is the subgraph's error code enum (CrmErrorCode, CmsErrorCode, AuthErrorCode).
 */
export type Outcome<T, C extends string = string> = { value: T; errors: [] } | { value: null; errors: InputError<C>[] };

/** A mutation that did what it was asked: `ok(row)`. */
export const ok = <T>(value: T): { value: T; errors: [] } => ({ value, errors: [] });

/** A mutation refused for these errors: `failed(problems.list)`. */
export const failed = <C extends string>(errors: InputError<C>[]): { value: null; errors: InputError<C>[] } => ({ value: null, errors });

/** A mutation refused for one error: `fail('email', 'Enter a valid email address.', 'INVALID')`. */
export const fail = <C extends string>(field: string | null, message: string, code: C) => failed([inputError(field, message, code)]);
