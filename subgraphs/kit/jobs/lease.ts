import type { Database } from '../db/database.ts';
import { APP_ROLE } from '../db/roles.ts';
import type { SubgraphDeps } from '../deps.ts';
import { JobSystem } from './system.ts';

/** The job system of a process's database: PostgreSQL through its own pool as the app role, PGlite through the one connection. */
export function createJobSystem(deps: Pick<SubgraphDeps, 'db' | 'config' | 'log'>): JobSystem {
  return deps.config.DATABASE_URL
    ? new JobSystem({ database: deps.db, url: deps.config.DATABASE_URL, log: deps.log })
    : new JobSystem({ database: deps.db, role: APP_ROLE, log: deps.log });
}

export interface JobsLease {
  jobs: JobSystem;
  /** The last lease of a process's job system released stops it (waiting for its handlers). */
  release(): Promise<void>;
}

const shared = new Map<Database, { jobs: JobSystem; leases: number }>();

/**
 * The process's one job system (per database, so every subgraph `npm start` runs shares it),
 * created on first use. Background work takes a lease when it starts and releases it when it
 * stops; the last release stops the job system, so a process that stops its servers stops it.
 */
export function useJobs(deps: Pick<SubgraphDeps, 'db' | 'config' | 'log'>): JobsLease {
  let entry = shared.get(deps.db);
  if (!entry) {
    entry = { jobs: createJobSystem(deps), leases: 0 };
    shared.set(deps.db, entry);
  }
  entry.leases++;
  const held = entry;
  let released = false;
  return {
    jobs: held.jobs,
    async release() {
      if (released) return;
      released = true;
      if (--held.leases > 0) return;
      if (shared.get(deps.db) === held) shared.delete(deps.db);
      await held.jobs.stop();
    },
  };
}
