import type { Tx } from '../../kit/db/database.ts';
import { CURRENT_TENANT } from '../../kit/db/tenant.ts';

/*
 * The daily run quota of a tenant (AGENTS_DAILY_RUNS), counted in agents.daily_usage per UTC day,
 * in the transaction that queues the run: the upsert takes the day's row lock, so two runs queued
 * at once never both take the last one, and a run whose transaction rolls back is not counted.
 */

/** Today's day in UTC, as the database sees it (daily_usage.day). */
const TODAY = `(now() AT TIME ZONE 'UTC')::date`;

/** Counts one run against today's quota; false (nothing counted) when `limit` runs are already counted. */
export async function takeDailyRun(tx: Tx, limit: number): Promise<boolean> {
  const { rows } = await tx.query(
    `INSERT INTO agents.daily_usage (tenant_id, day, runs) VALUES (${CURRENT_TENANT}, ${TODAY}, 1)
     ON CONFLICT (tenant_id, day) DO UPDATE SET runs = agents.daily_usage.runs + 1 WHERE agents.daily_usage.runs < $1
     RETURNING runs`,
    [limit],
  );
  return rows.length === 1;
}

/** Runs counted today. */
export async function dailyRuns(tx: Tx): Promise<number> {
  const { rows } = await tx.query<{ runs: number }>(`SELECT runs FROM agents.daily_usage WHERE day = ${TODAY}`);
  return rows[0]?.runs ?? 0;
}
