import type pg from 'pg';
import type PgBoss from 'pg-boss';
import type { Tx } from '../db/database.ts';

/**
 * How pg-boss reaches PostgreSQL: its `db` option takes any object with `executeSql(text,
 * values)`. Three of them: a caller's tenant transaction (a job enqueued with the row it belongs
 * to), a pool of the job system's own (PostgreSQL), and the process's single embedded connection
 * (PGlite).
 */
export type JobDb = PgBoss.Db;

/** Runs pg-boss's statements inside the caller's transaction (`send`/`cancel` with `tx`). */
export const txDb = (tx: Tx): JobDb & { inTransaction: true } => ({
  inTransaction: true,
  executeSql: (text, values) => tx.query(text, values?.length ? values : undefined),
});

/**
 * A pool checked out per statement. pg-boss sends parameterless text with several statements
 * (its migrations and maintenance are `BEGIN; ...; COMMIT` in one string): the simple protocol runs
 * them, and a failure part-way would leave the connection inside an aborted transaction, so it
 * is rolled back before the connection goes back to the pool.
 *
 * `role`: switch to it for the statement (embedded PGlite, whose one session is a superuser: the
 * job system works as the app role there too, so the grants are the same as on PostgreSQL).
 */
export function poolDb(pool: pg.Pool, role?: string): JobDb & { idle(): Promise<void> } {
  const inFlight = new Set<Promise<unknown>>();
  const run = async (text: string, values?: unknown[]) => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      if (role) await client.query(`SET ROLE ${role}`);
      return await client.query(text, values?.length ? values : undefined);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      if (role) await client.query('RESET ROLE').catch((error: Error) => (broken = error));
      client.release(broken);
    }
  };
  return {
    executeSql(text, values) {
      const running = run(text, values);
      inFlight.add(running);
      void running.catch(() => undefined).finally(() => inFlight.delete(running));
      return running as Promise<{ rows: any[] }>;
    },
    /** Resolves once no statement is running (before the pool closes). */
    async idle() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}
