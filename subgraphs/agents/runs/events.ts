import type { Tx, TxRunner } from '../../kit/db/database.ts';
import type { SubgraphDeps } from '../../kit/deps.ts';
import { runEventsChannel, type RunEventMessage } from './channel.ts';
import * as store from './store.ts';
import type { RunEventInput, RunEventRow } from './store.ts';

/*
 * A run's events: every status change, progress step, insight and log line is a row of
 * agents.run_events (seq 1, 2, 3, ... per run), written in the transaction that made the change,
 * and, once that transaction has committed, published on Redis for the gateway's SSE route
 * (which replays the stored rows first, so a publish lost to a Redis hiccup costs a live
 * follower nothing that a reconnect does not bring back).
 */

export type EventDeps = Pick<SubgraphDeps, 'redis' | 'config' | 'log'>;

export { runEventsChannel };

/** The events one transaction appended, to publish once it has committed. */
export class RunEventBatch {
  readonly written: RunEventRow[] = [];

  /** Appends an event to the run's (the run row is locked first, so seqs never collide). */
  async append(tx: Tx, runId: string, event: RunEventInput): Promise<RunEventRow> {
    const row = await store.appendEvent(tx, runId, event);
    this.written.push(row);
    return row;
  }
}

/** The message published for one event: `{tenantId, runId, event}`, the shape the gateway reads. */
export const eventMessage = (tenantId: string, row: RunEventRow) =>
  JSON.stringify(<RunEventMessage>{
    tenantId,
    runId: row.run_id,
    event: {
      seq: row.seq,
      at: row.at instanceof Date ? row.at.toISOString() : row.at,
      type: row.type,
      status: row.status,
      progress: row.progress,
      message: row.message,
      data: row.data,
    },
  });

/** Publishes committed events, in order; a failure is logged (the rows are the record). */
export async function publishEvents(deps: EventDeps, tenantId: string, rows: readonly RunEventRow[]): Promise<void> {
  for (const row of rows) {
    try {
      await deps.redis.publish(runEventsChannel(deps.config.REDIS_PREFIX, row.run_id), eventMessage(tenantId, row));
    } catch (error) {
      deps.log.warn({ tenant: tenantId, run: row.run_id, seq: row.seq, err: (error as Error).message }, 'agents: a run event was not published');
      return;
    }
  }
}

/**
 * Runs `fn` in one transaction of `runner` (the tenant's), with a batch to append run events to;
 * publishes them after the commit (nothing is published when it rolls back).
 */
export async function withRunEvents<T>(
  deps: EventDeps,
  tenantId: string,
  runner: TxRunner,
  fn: (tx: Tx, events: RunEventBatch) => Promise<T>,
): Promise<T> {
  const events = new RunEventBatch();
  const result = await runner((tx) => fn(tx, events));
  await publishEvents(deps, tenantId, events.written);
  return result;
}
