import { databaseErrors } from '../kit/mutations/database-errors.ts';
import type { Outcome as KitOutcome } from '../kit/mutations/outcome.ts';
import { reject as rejectWith } from '../kit/mutations/rejected.ts';
import { mutationRunner } from '../kit/mutations/run-mutation.ts';
import type { AuthErrorCode } from './__generated__/resolvers-types.ts';

// How the auth subgraph's account and member changes end (members.ts): each write runs in one
// transaction, and a broken rule (`reject`) or a constraint the input breaks rolls all of it back
// and comes back as payload errors.

export type Outcome<T> = KitOutcome<T, AuthErrorCode>;

/**
 * Database errors as payload errors. The writes check first (ON CONFLICT DO NOTHING for a taken
 * slug or an existing member); these cover what races past the checks.
 */
const AUTH_ERRORS = databaseErrors<AuthErrorCode>(
  { unique: 'UNIQUE', foreignKey: 'NOT_FOUND', check: 'INVALID', notNull: 'REQUIRED' },
  {
    constraints: {
      tenants_slug_key: { field: 'slug', code: 'UNIQUE', message: 'This slug is taken.' },
      accounts_email_key: { field: 'email', code: 'UNIQUE', message: 'An account with this email exists.' },
    },
  },
);

/** Runs an auth write in one transaction (kit runMutation with the auth subgraph's database errors). */
export const write = mutationRunner(AUTH_ERRORS);

/** Throws to roll the write back and answer with this error. */
export const reject: (field: string | null, message: string, code: AuthErrorCode) => never = rejectWith;
