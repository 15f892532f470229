/**
 * Scenario B's gateway: our gateway (gateway/server.ts) over the real supergraph (composed from
 * schema/, as production does), configured from the environment the scenario sets
 * (NODE_ENV=production, LOG_LEVEL=warn, real Redis, rate limits far above the load), with the
 * subgraph URLs given. Tokens are checked against the auth subgraph's JWKS, as in production.
 *
 *   node tmp/bench-build-<pid>/test/bench/targets/supergraph-gateway.js --port N --subgraphs '{"name":"url"}'
 */
import { parseArgs } from 'node:util';
import { startTracing } from '../../../subgraphs/kit/telemetry/tracing.ts';

// Tracing first when OTEL_EXPORTER_OTLP_ENDPOINT is set (as gateway/index.ts does): the gateway after it.
await startTracing('gateway');
const { createGateway } = await import('../../../gateway/server.ts');
const { loadGatewayConfig: loadConfig } = await import('../../../gateway/config.ts');

const { values } = parseArgs({ options: { port: { type: 'string' }, subgraphs: { type: 'string' } } });
const gateway = await createGateway({
  config: loadConfig(process.env),
  subgraphUrls: JSON.parse(values.subgraphs!) as Record<string, string>,
});
await gateway.listen(Number(values.port), '127.0.0.1');
process.once('SIGTERM', () => void gateway.close().finally(() => process.exit(0)));
