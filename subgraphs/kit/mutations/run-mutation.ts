import type { Tx, TxRunner } from '../db/database.ts';
import { inputErrorOf, type ConstraintErrors, type DatabaseErrorRules } from './database-errors.ts';
import { failed, ok, type Outcome } from './outcome.ts';
import { Rejected } from './rejected.ts';

/**
 * Runs a mutation's writes in one transaction (`tx`: the request's `ctx.tx`, or another tenant's
 * runner). A `Rejected` thrown inside (see `reject`), or a database error the input caused (a
 * unique, foreign key, check or NOT NULL violation, read by `rules`), rolls all of it back and
 * comes back as the outcome's errors; anything else is a real failure and throws.
 * `constraints` names this mutation's own fields for constraints, before `rules`.
 *
 *   return runMutation(ctx.tx, CRM_ERRORS, (tx) => store.insertLead(tx, values));
 */
export async function runMutation<T, C extends string>(
  tx: TxRunner,
  rules: DatabaseErrorRules<C>,
  fn: (tx: Tx) => Promise<T>,
  constraints?: ConstraintErrors<C>,
): Promise<Outcome<T, C>> {
  try {
    // No TxOptions: a write must see each statement's result before it commits.
    return ok(await tx(fn));
  } catch (error) {
    if (error instanceof Rejected) return failed((error as Rejected<C>).errors);
    const inputError = inputErrorOf(error, rules, constraints);
    if (inputError) return failed([inputError]);
    throw error;
  }
}

/**
 * `runMutation` with a subgraph's rules bound, the way its mutations call it:
 *
 *   export const write = mutationRunner(CRM_ERRORS);
 *   return write(ctx.tx, (tx) => store.insertLead(tx, values));
 */
export const mutationRunner =
  <C extends string>(rules: DatabaseErrorRules<C>) =>
  <T>(tx: TxRunner, fn: (tx: Tx) => Promise<T>, constraints?: ConstraintErrors<C>): Promise<Outcome<T, C>> =>
    runMutation(tx, rules, fn, constraints);
