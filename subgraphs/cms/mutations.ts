import { databaseErrors } from '../kit/mutations/database-errors.ts';
import type { Outcome as KitOutcome } from '../kit/mutations/outcome.ts';
import { reject as rejectWith } from '../kit/mutations/rejected.ts';
import { mutationRunner } from '../kit/mutations/run-mutation.ts';
import type { CmsErrorCode } from './__generated__/resolvers-types.ts';

// How the CMS's writes end (pages.ts, snippets.ts, media.ts): each runs in one transaction, and a
// broken rule (`reject`) or a database constraint the input breaks rolls all of it back and comes
// back as payload errors.

export type Outcome<T> = KitOutcome<T, CmsErrorCode>;

/**
 * Database errors as payload errors. The checks run before the writes (a sibling's slug, a
 * snippet's key); these cover the writes that race past them.
 */
const CMS_ERRORS = databaseErrors<CmsErrorCode>(
  { unique: 'UNIQUE', foreignKey: 'NOT_FOUND', check: 'INVALID', notNull: 'REQUIRED' },
  {
    constraints: {
      pages_url_path_key: { field: 'slug', code: 'UNIQUE', message: 'A page with this path exists.' },
      snippets_key_key: { field: 'key', code: 'UNIQUE', message: 'This key is taken.' },
    },
  },
);

/** Runs a CMS write in one transaction (kit runMutation with the CMS's database errors). */
export const write = mutationRunner(CMS_ERRORS);

/** Throws to roll the write back and answer with this error. */
export const reject: (field: string | null, message: string, code: CmsErrorCode) => never = rejectWith;
