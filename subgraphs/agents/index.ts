import type { SubgraphDeps } from '../kit/deps.ts';
import { defineSubgraph, type BackgroundTask } from '../kit/server.ts';
import { createLoaders } from './loaders.ts';
import { startPageIndexer } from './pages-index.ts';
import { permissions } from './permissions.ts';
import { resolvers } from './resolvers.ts';
import { startRunWorker } from './runs/worker.ts';
import { seedDemoAgents } from './seed.ts';
import { agentsSettings, type AgentsSettings } from './settings.ts';

/** Both of the subgraph's workers: agent runs (runs/) and the content page index (pages-index.ts). */
function startWorkers(deps: SubgraphDeps<AgentsSettings>): BackgroundTask {
  const tasks = [startRunWorker(deps), startPageIndexer(deps)];
  return {
    async stop() {
      await Promise.all(tasks.map((task) => task.stop()));
    },
  };
}

/**
 * Agents (replaces the CrewAI service): agents that analyse the tenant's own data through the
 * supergraph and write insights, as durable runs on the kit's job system, with similarity search
 * over insights and the tenant's published pages.
 */
export default defineSubgraph({
  name: 'agents',
  port: 8010,
  resolvers,
  permissions,
  // Its tables reference auth.memberships: auth's migrations and demo data come first.
  dependsOn: ['auth'],
  settings: agentsSettings,
  createLoaders,
  seed: seedDemoAgents,
  background: startWorkers,
  // No whole-response cache: runs change (status, progress, insights) in the background, where no
  // mutation bumps the cache generation, and a poll of `agentRun` must see them at once.
  responseCache: false,
});
