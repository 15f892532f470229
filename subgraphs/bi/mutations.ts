import type { Outcome as KitOutcome } from '../kit/mutations/outcome.ts';
import { subgraphMutations } from '../kit/mutations/subgraph-mutations.ts';
import type { BiErrorCode } from './__generated__/resolvers-types.ts';

// How the bi subgraph's writes end (charts.ts, dashboards.ts): `write` runs each in one
// transaction, and a broken rule (`reject`) or a database constraint the input breaks rolls all
// of it back and comes back as payload errors. The checks run before the writes; the named
// constraints cover what only the database can see (a slug another request took first).

export type Outcome<T> = KitOutcome<T, BiErrorCode>;

export const { write, reject, fail } = subgraphMutations<BiErrorCode>(
  { unique: 'DUPLICATE', foreignKey: 'NOT_FOUND', check: 'INVALID', notNull: 'REQUIRED', tooLong: 'TOO_LONG', outOfRange: 'TOO_LARGE', malformed: 'INVALID' },
  {
    constraints: {
      dashboards_slug_key: { field: 'slug', code: 'DUPLICATE', message: 'A dashboard with this slug exists: choose another slug.' },
      dashboard_charts_pkey: { field: 'charts', code: 'DUPLICATE', message: 'A chart is on the dashboard once.' },
      dashboard_charts_chart_fkey: { field: 'charts', code: 'NOT_FOUND', message: 'No such chart.' },
      dashboard_charts_dashboard_fkey: { field: 'id', code: 'NOT_FOUND', message: 'No such dashboard.' },
    },
  },
);
