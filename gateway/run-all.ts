import { resolve } from 'node:path';
import { demoDataEnabled, exitOnConfigError, orExit, subgraphPort } from '../subgraphs/kit/config.ts';
import { logFatalErrors } from '../subgraphs/kit/crash.ts';
import { createLogger } from '../subgraphs/kit/logger.ts';
import { stopTracing } from '../subgraphs/kit/telemetry/tracing.ts';
import { loadGatewayConfig } from './config.ts';
import { createDeps, migrateDatabase, parseSettings, seedDemoData, sharedDeps } from '../subgraphs/kit/deps.ts';
import { loadSubgraphs } from '../subgraphs/kit/registry.ts';
import { createSubgraphServer, type SubgraphServer } from '../subgraphs/kit/server.ts';
import { DEMO_ACCOUNTS } from '../subgraphs/auth/seed.ts';
import { reloadOnSighup } from './hot-reload.ts';
import { createGateway } from './server.ts';
import { warmUpGateway } from './warm-up.ts';
import { warmUpSubgraph } from '../subgraphs/kit/warm-up.ts';

// `npm start` (through start-all.ts): every subgraph and the gateway in one process. With no DATABASE_URL / REDIS_URL
// it runs on embedded PGlite (data in DATA_DIR, kept across restarts) and in-memory Redis.
const config = loadGatewayConfig();
const log = createLogger(config, 'supergraph');
logFatalErrors(log);
const shared = await sharedDeps(config);
// In dependency order; a cycle or an unknown name in dependsOn stops here, in one line.
const subgraphs = (await loadSubgraphs().catch(exitOnConfigError)).filter((s) => !(s.name === 'saleor' && config.SALEOR_API_URL));

// Every subgraph's own settings before anything is migrated or started (one line and exit 1).
for (const subgraph of subgraphs) orExit(() => parseSettings(subgraph, process.env));

await migrateDatabase(config, shared.db, subgraphs.flatMap((s) => (s.migrations ? [s.migrations] : [])));
await seedDemoData(config, subgraphs);

const servers: SubgraphServer[] = [];
const lines: string[] = [];
for (const subgraph of subgraphs) {
  const deps = await createDeps(config, subgraph.name);
  // A setting a server checks when built (auth's AUTH_PRIVATE_JWK) is one line and exit 1 too.
  const server = await createSubgraphServer(subgraph, deps).catch(exitOnConfigError);
  // Before it listens (see subgraphs/kit/warm-up.ts).
  await warmUpSubgraph(server, subgraph, deps);
  try {
    lines.push(`  ${subgraph.name.padEnd(8)} ${await server.listen(subgraphPort(subgraph.name, subgraph.port), config.HOST)}`);
  } catch (error) {
    log.fatal({ subgraph: subgraph.name, err: error }, `cannot start the ${subgraph.name} subgraph`);
    process.exit(1);
  }
  servers.push(server);
}
const gateway = await createGateway({ config, redis: shared.redis });
reloadOnSighup(gateway.reloadSupergraph); // `kill -HUP <pid>`: the supergraph again (gateway/hot-reload.ts)
await warmUpGateway(gateway, createLogger(config, 'gateway'), config.AUTH_JWKS_URL);
const base = await gateway.listen(config.GATEWAY_PORT, config.HOST);

const where = shared.embedded.postgres ? `embedded PGlite in ${resolve(config.DATA_DIR, 'pglite')}` : 'PostgreSQL (DATABASE_URL)';
console.log(`
BizOSaaS supergraph is up.
  GraphQL:   ${base}/graphql   (POST)
  IDE:       ${base}/graphql   (open in a browser${config.NODE_ENV === 'production' ? '; off in production' : ''})
  Legacy:    ${base}/api/brain/*   (OpenAPI: ${base}/api/brain/openapi.json)
  Health:    ${base}/health  ${base}/ready  ${base}/metrics
Subgraphs:
${lines.join('\n')}
Data: ${where}; cache: ${shared.embedded.redis ? 'in-memory' : 'Redis (REDIS_URL)'}
${demoDataEnabled(config) ? `Demo logins (password "${config.DEMO_PASSWORD}"):\n${DEMO_ACCOUNTS.map((a) => `  ${a.email.padEnd(22)} ${a.role} of ${a.tenant}`).join('\n')}` : ''}
`);

async function shutdown() {
  await gateway.close();
  for (const server of servers) await server.close();
  await shared.db.close();
  await stopTracing();
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown());
