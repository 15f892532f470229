import { databaseErrors, type DatabaseErrorCodes, type DatabaseErrorNames } from './database-errors.ts';
import { fail, type Outcome } from './outcome.ts';
import { reject } from './rejected.ts';
import { mutationRunner } from './run-mutation.ts';

/**
 * The codes most subgraphs' error enums use for database errors (cms and auth do; crm says
 * DUPLICATE for a unique violation).
 */
export const STANDARD_ERROR_CODES = { unique: 'UNIQUE', foreignKey: 'NOT_FOUND', check: 'INVALID', notNull: 'REQUIRED' } as const;

/**
 * A subgraph's mutation helpers with its error code enum `C` bound, built once in its
 * mutations.ts from how its database errors read (see `databaseErrors`):
 *
 *   export const { write, reject, fail } = subgraphMutations<CmsErrorCode>(STANDARD_ERROR_CODES, {
 *     constraints: { snippets_key_key: { field: 'key', code: 'UNIQUE', message: 'This key is taken.' } },
 *   });
 *
 * `write(ctx.tx, (tx) => ...)` runs a mutation's writes in one transaction (kit runMutation);
 * `reject(field, message, code)` inside it rolls back and answers with that error; `fail(...)`
 * answers with an error before anything runs. The compiler checks every code against `C`.
 */
export function subgraphMutations<C extends string>(
  codes: DatabaseErrorCodes<C>,
  named: DatabaseErrorNames<C> = {},
) {
  return {
    write: mutationRunner(databaseErrors(codes, named)),
    reject: reject as (field: string | null, message: string, code: C) => never,
    fail: fail as (field: string | null, message: string, code: C) => Outcome<never, C>,
  };
}
