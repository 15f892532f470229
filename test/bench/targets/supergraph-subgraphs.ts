/**
 * Scenario B's subgraphs: the subgraphs of the registry (auth, crm, cms, saleor stand-in) against
 * the PostgreSQL and Redis of the environment (DATABASE_URL, DATABASE_OWNER_URL, REDIS_URL,
 * REDIS_PREFIX), on the ports given; writes `{"<name>": "<url>"}` to --ready-file once they listen.
 *
 * - `--prepare`: migrate and write the demo data (DEMO_DATA=true), then exit; run once first.
 * - `--only <name>`: serve that subgraph alone (one process per subgraph, as docker/compose.yaml
 *   deploys them); without it, every subgraph in this one process (as `npm start` runs them).
 *
 *   node tmp/bench-build-<pid>/test/bench/targets/supergraph-subgraphs.js --ports '{"auth":N,...}' [--only NAME] --ready-file FILE
 */
import '../../../subgraphs/kit/v8-flags.ts';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { SubgraphServer } from '../../../subgraphs/kit/server.ts';
import { startTracing } from '../../../subgraphs/kit/telemetry/tracing.ts';

const { values } = parseArgs({
  options: { ports: { type: 'string' }, 'ready-file': { type: 'string' }, only: { type: 'string' }, prepare: { type: 'boolean', default: false } },
});
// Tracing first when OTEL_EXPORTER_OTLP_ENDPOINT is set (as start-subgraph.ts does), never for --prepare.
if (!values.prepare) await startTracing(values.only ?? 'supergraph');
const { loadConfig } = await import('../../../subgraphs/kit/config.ts');
const { createDeps, migrateDatabase, seedDemoData, sharedDeps } = await import('../../../subgraphs/kit/deps.ts');
const { loadSubgraphs } = await import('../../../subgraphs/kit/registry.ts');
const { createSubgraphServer } = await import('../../../subgraphs/kit/server.ts');
const config = loadConfig(process.env);
const shared = await sharedDeps(config);
const all = await loadSubgraphs();
if (values.prepare) {
  await migrateDatabase(config, shared.db, all.flatMap((s) => (s.migrations ? [s.migrations] : [])));
  await seedDemoData(config, all);
  await shared.db.close();
  process.exit(0);
}
const ports = JSON.parse(values.ports!) as Record<string, number>;
const subgraphs = values.only ? all.filter((s) => s.name === values.only) : all;
if (!subgraphs.length) throw new Error(`no subgraph ${values.only}`);
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
