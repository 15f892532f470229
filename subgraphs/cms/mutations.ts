import type { Outcome as KitOutcome } from '../kit/mutations/outcome.ts';
import { STANDARD_ERROR_CODES, subgraphMutations } from '../kit/mutations/subgraph-mutations.ts';
import type { CmsErrorCode } from './__generated__/resolvers-types.ts';

// How the CMS's writes end (pages.ts, snippets.ts, media.ts): `write` runs each in one
// transaction, and a broken rule (`reject`) or a database constraint the input breaks rolls all
// of it back and comes back as payload errors. The checks run before the writes (a sibling's
// slug, a snippet's key); the named constraints cover the writes that race past them.

export type Outcome<T> = KitOutcome<T, CmsErrorCode>;

export const { write, reject } = subgraphMutations<CmsErrorCode>(STANDARD_ERROR_CODES, {
  constraints: {
    pages_url_path_key: { field: 'slug', code: 'UNIQUE', message: 'A page with this path exists.' },
    snippets_key_key: { field: 'key', code: 'UNIQUE', message: 'This key is taken.' },
  },
});
