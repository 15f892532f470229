import { exitOnConfigError, loadConfig, orExit, subgraphPort } from './config.ts';
import { logFatalErrors } from './crash.ts';
import { createDeps, parseSettings } from './deps.ts';
import { createLogger } from './logger.ts';
import { stopTracing } from './telemetry/tracing.ts';
import { loadSubgraph } from './registry.ts';
import { createSubgraphServer } from './server.ts';
import { warmUpSubgraph } from './warm-up.ts';

// `npm run start:subgraph <name>` (through start-subgraph.ts): one subgraph in its own process (how docker/ deploys them).
// Migrations are not run here: `npm run db:migrate` does that once per deploy.
const name = process.argv[2];
if (!name) {
  console.error('usage: npm run start:subgraph <name>');
  process.exit(1);
}
const config = loadConfig();
logFatalErrors(createLogger(config, name));
const definition = await loadSubgraph(name).catch(exitOnConfigError);
// Its own settings too, before anything starts: a bad value is one line and exit 1.
orExit(() => parseSettings(definition, process.env));
const deps = await createDeps(config, name);
// A setting its server checks when built (auth's AUTH_PRIVATE_JWK) is one line and exit 1 too.
const server = await createSubgraphServer(definition, deps).catch(exitOnConfigError);
// Before it listens, so /health answers once what its first request would build is built.
await warmUpSubgraph(server, definition, deps);
const url = await server.listen(subgraphPort(name, definition.port), config.HOST);
console.log(`${name} subgraph listening on ${url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void server.close().then(stopTracing).then(() => process.exit(0)));
