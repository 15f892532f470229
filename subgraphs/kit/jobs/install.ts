import type pg from 'pg';
import PgBoss from 'pg-boss';
import { APP_ROLE } from '../db/roles.ts';
import { WAKEUP_CHANNEL } from './wakeups.ts';

/** pg-boss's PostgreSQL schema (its tables, types and functions). */
export const JOBS_SCHEMA = 'pgboss';

/**
 * Installs or upgrades pg-boss's schema, then grants the app role what working jobs needs. Run by
 * `migrate()` as the owner role (like every migration): the owner owns pg-boss's tables, and the
 * processes, which connect as the app role, never run DDL.
 *
 * The app role gets DML on pg-boss's tables (send, fetch, complete, fail, cancel, maintenance and
 * cron all are INSERT/UPDATE/DELETE on `pgboss.job`, `archive`, `queue`, `schedule`, `version`)
 * and may create a queue through `pgboss.create_queue`, made SECURITY DEFINER here: a queue is a
 * partition of `pgboss.job`, and attaching one takes the owner of that table. Nothing else:
 * no table of any subgraph, no `delete_queue`. pg-boss's tables carry no tenant rows (a job holds
 * ids, its tenant among them; the handler reads the rows under RLS), so they have no RLS.
 *
 * And a trigger that wakes the workers (wakeups.ts): a job row that becomes fetchable, now or at
 * its start_after (sent, retried: pg-boss's fail re-inserts the row; resumed; sent by a
 * schedule), notifies its queue's name and how long until it is due. Row triggers of a
 * partitioned table are cloned onto every partition, those that create_queue attaches later too.
 */
export async function installJobSchema(client: pg.ClientBase): Promise<void> {
  const boss = new PgBoss({
    db: { executeSql: (text, values) => client.query(text, values?.length ? values : undefined) },
    schema: JOBS_SCHEMA,
    migrate: true,
    supervise: false,
    schedule: false,
  });
  boss.on('error', () => undefined);
  // start() with migrate: creates the schema or applies pg-boss's own migrations, under its
  // advisory lock (two migrating processes do not race); nothing is polled.
  await boss.start();
  await boss.stop({ graceful: false, close: false, wait: true });
  await client.query(`
    GRANT USAGE ON SCHEMA ${JOBS_SCHEMA} TO ${APP_ROLE};
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${JOBS_SCHEMA} TO ${APP_ROLE};
    ALTER FUNCTION ${JOBS_SCHEMA}.create_queue(text, json) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
    REVOKE ALL ON FUNCTION ${JOBS_SCHEMA}.create_queue(text, json), ${JOBS_SCHEMA}.delete_queue(text) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION ${JOBS_SCHEMA}.create_queue(text, json) TO ${APP_ROLE};
    -- The queue pg-boss's cron moves due schedules through. Its timekeeper creates it when it
    -- starts, swallowing any error: two processes starting at once could deadlock on it and be
    -- left without cron. Here, once, it cannot.
    SELECT ${JOBS_SCHEMA}.create_queue('__pgboss__send-it', '{"policy":"standard"}');

    CREATE OR REPLACE FUNCTION ${JOBS_SCHEMA}.kit_wake_workers() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
      PERFORM pg_notify('${WAKEUP_CHANNEL}', NEW.name || ' ' || GREATEST(0, ceil(extract(epoch FROM NEW.start_after - now()) * 1000))::bigint);
      RETURN NULL;
    END $$;
    CREATE OR REPLACE TRIGGER kit_wake_workers AFTER INSERT OR UPDATE OF state ON ${JOBS_SCHEMA}.job
      FOR EACH ROW WHEN (NEW.state < 'active') EXECUTE FUNCTION ${JOBS_SCHEMA}.kit_wake_workers();
  `);
}
