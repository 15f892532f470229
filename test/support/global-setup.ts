import pg from 'pg';
import { BOOTSTRAP_ROLES_SQL } from '../../subgraphs/kit/db/roles.ts';
import { ADMIN_URL, postgresReachable, redisReachable, REDIS_URL } from './services.ts';

/** Once per run: create the database roles (cluster-wide), and say which backends tests use. */
export default async function setup() {
  const [postgres, redis] = await Promise.all([postgresReachable(), redisReachable()]);
  if (postgres) {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(BOOTSTRAP_ROLES_SQL);
    } finally {
      await admin.end();
    }
  }
  console.log(
    `[tests] PostgreSQL: ${postgres ? `real (${new URL(ADMIN_URL).host})` : 'not reachable, using embedded PGlite'}; ` +
      `Redis: ${redis ? `real (${new URL(REDIS_URL).host})` : 'not reachable, using in-memory Redis'}`,
  );
}
