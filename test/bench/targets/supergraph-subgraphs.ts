/**
 * Scenario B's subgraphs: every subgraph of the registry (auth, crm, cms, saleor stand-in) in
 * this one process, as gateway/start-all.ts starts them, on the ports given, against the
 * PostgreSQL and Redis of the environment (DATABASE_URL, DATABASE_OWNER_URL, REDIS_URL,
 * REDIS_PREFIX). Migrates and writes the demo data (DEMO_DATA=true) first, then writes
 * `{"<name>": "<url>"}` to --ready-file once every subgraph listens.
 *
 *   node --import tsx test/bench/targets/supergraph-subgraphs.ts --ports '{"auth":N,...}' --ready-file FILE
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../../subgraphs/kit/config.ts';
import { createDeps, migrateDatabase, seedDemoData, sharedDeps } from '../../../subgraphs/kit/deps.ts';
import { loadSubgraphs } from '../../../subgraphs/kit/registry.ts';
import { createSubgraphServer, type SubgraphServer } from '../../../subgraphs/kit/server.ts';

const { values } = parseArgs({ options: { ports: { type: 'string' }, 'ready-file': { type: 'string' } } });
const ports = JSON.parse(values.ports!) as Record<string, number>;
const config = loadConfig(process.env);
const shared = await sharedDeps(config);
const subgraphs = await loadSubgraphs();
await migrateDatabase(config, shared.db, subgraphs.flatMap((s) => (s.migrations ? [s.migrations] : [])));
await seedDemoData(config, subgraphs);
const servers: SubgraphServer[] = [];
const urls: Record<string, string> = {};
for (const subgraph of subgraphs) {
  const port = ports[subgraph.name];
  if (port === undefined) throw new Error(`no port for subgraph ${subgraph.name}`);
  const server = await createSubgraphServer(subgraph, await createDeps(config, subgraph.name));
  urls[subgraph.name] = await server.listen(port, '127.0.0.1');
  servers.push(server);
}
writeFileSync(values['ready-file']!, JSON.stringify(urls));
process.once('SIGTERM', () =>
  void (async () => {
    for (const server of servers) await server.close();
    await shared.db.close();
  })().finally(() => process.exit(0)),
);
