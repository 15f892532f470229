import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { BOOTSTRAP_ROLES_SQL } from '../../subgraphs/kit/db/roles.ts';
import { buildDemoTemplate } from './demo-template.ts';
import { ADMIN_URL, postgresReachable, redisReachable, REDIS_URL } from './services.ts';

/**
 * Once per run: create the database roles (cluster-wide), build the demo database test files
 * copy (demo-template.ts), and say which backends tests use. Returns the teardown.
 */
export default async function setup(project: TestProject) {
  const [postgres, redis] = await Promise.all([postgresReachable(), redisReachable()]);
  let demo: Awaited<ReturnType<typeof buildDemoTemplate>> | null = null;
  if (postgres) {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(BOOTSTRAP_ROLES_SQL);
    } finally {
      await admin.end();
    }
    demo = await buildDemoTemplate();
  }
  project.provide('demoTemplate', demo?.template ?? null);
  console.log(
    `[tests] PostgreSQL: ${postgres ? `real (${new URL(ADMIN_URL).host}), demo database ${demo!.template.name}` : 'not reachable, using embedded PGlite'}; ` +
      `Redis: ${redis ? `real (${new URL(REDIS_URL).host})` : 'not reachable, using in-memory Redis'}`,
  );
  return async () => {
    await demo?.drop();
  };
}
