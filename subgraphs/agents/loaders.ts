import { accountEmailLoader } from '../kit/accounts.ts';
import DataLoader from 'dataloader';
import type { Context } from '../kit/context.ts';
import { ONE_STATEMENT, type TxRunner } from '../kit/db/database.ts';
import { rowsById, rowsByParent } from '../kit/loaders.ts';
import type { SubjectType } from './analysts/types.ts';
import type { AgentsSettings } from './settings.ts';
import * as store from './store.ts';

const MAX_BATCH = 500;

/**
 * The newest rows of each parent, `limit` of them, for a field with a `first` argument: one
 * loader per size, whose batches read that many rows of every parent asked for in one statement.
 */
function latestOf<K, V>(
  read: (keys: readonly K[], limit: number) => Promise<V[]>,
  parentOf: (row: V) => string,
  keyOf: (key: K) => string,
): (limit: number) => DataLoader<K, V[], string> {
  const loaders = new Map<number, DataLoader<K, V[], string>>();
  return (limit) => {
    let loader = loaders.get(limit);
    if (!loader) {
      loader = new DataLoader<K, V[], string>(
        async (keys) => {
          const groups = new Map<string, V[]>();
          for (const row of await read(keys, limit)) {
            const key = parentOf(row);
            const list = groups.get(key);
            if (list) list.push(row);
            else groups.set(key, [row]);
          }
          return keys.map((key) => groups.get(keyOf(key)) ?? []);
        },
        { maxBatchSize: MAX_BATCH, cacheKeyFn: keyOf },
      );
      loaders.set(limit, loader);
    }
    return loader;
  };
}

const subjectKey = (subject: store.SubjectKey) => `${subject.type}:${subject.id}`;

/** Insights' subjects of these types: anything else (an unknown type) names none. */
const SUBJECT_TYPES = new Set<SubjectType>(['Lead', 'Deal', 'ContentPage', 'Product']);

function insightsOfSubjects(tx: TxRunner) {
  return latestOf<store.SubjectKey, store.InsightRow>(
    async (subjects, limit) => {
      const known = subjects.filter((s) => SUBJECT_TYPES.has(s.type) && s.id.length > 0 && s.id.length <= 200);
      return known.length ? tx((t) => store.latestInsightsOfSubjects(t, known, limit), ONE_STATEMENT) : [];
    },
    (row) => `${row.subject_type}:${row.subject_id}`,
    subjectKey,
  );
}

/**
 * Per-request DataLoaders: every read by id, and every list of a parent (a run's insights, an
 * agent's latest runs, the insights about a Lead), is one statement per batch.
 */
export function createLoaders(ctx: Pick<Context, 'tx'>) {
  return {
    agent: rowsById(ctx.tx, store.agentsByIds, (row) => row.id),
    /** Owners' emails (kit/accounts.ts), for `owner { email }` without auth. */
    accountEmail: accountEmailLoader(ctx.tx),
    run: rowsById(ctx.tx, store.runsByIds, (row) => row.id),
    insight: rowsById(ctx.tx, store.insightsByIds, (row) => row.id),
    /** A run's insights in the order written. */
    insightsOfRun: rowsByParent(ctx.tx, store.insightsOfRuns, (row) => row.run_id),
    /** An agent's newest runs: `latestRuns(n).load(agentId)`. */
    latestRuns: latestOf<string, store.RunRow>(
      (ids, limit) => ctx.tx((t) => store.latestRunsOfAgents(t, ids, limit), ONE_STATEMENT),
      (row) => row.agent_id!,
      (id) => id,
    ),
    /** The newest insights not dismissed about an entity of another subgraph: `insightsOfSubject(n).load({ type, id })`. */
    insightsOfSubject: insightsOfSubjects(ctx.tx),
  };
}

export type AgentsLoaders = ReturnType<typeof createLoaders>;
export type AgentsContext = Context<AgentsLoaders, AgentsSettings>;
