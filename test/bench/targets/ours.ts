/**
 * Target (a): our gateway (gateway/server.ts) started the way production starts it, from the
 * environment the runner sets: NODE_ENV=production, LOG_LEVEL=warn, real Redis for the rate
 * limits (with limits far above the load, so they count but never throttle). Our gateway has no
 * response cache of its own (caching is a subgraph setting; CACHE_TTL_SECONDS=0 says it anyway).
 * The supergraph and subgraph URLs come from the benchmark fixture; this launcher is the only
 * place the harness touches our gateway.
 *
 *   node tmp/bench-build-<pid>/test/bench/targets/ours.js --port N --supergraph FILE --subgraphs '{"name":"url"}'
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startTracing } from '../../../subgraphs/kit/telemetry/tracing.ts';

// Tracing first when OTEL_EXPORTER_OTLP_ENDPOINT is set (as gateway/index.ts does): the gateway after it.
await startTracing('gateway');
const { createGateway } = await import('../../../gateway/server.ts');
const { loadGatewayConfig: loadConfig } = await import('../../../gateway/config.ts');

const { values } = parseArgs({
  options: { port: { type: 'string' }, supergraph: { type: 'string' }, subgraphs: { type: 'string' } },
});
const gateway = await createGateway({
  config: loadConfig(process.env),
  supergraphSdl: readFileSync(values.supergraph!, 'utf8'),
  subgraphUrls: JSON.parse(values.subgraphs!) as Record<string, string>,
});
await gateway.listen(Number(values.port), '127.0.0.1');
process.once('SIGTERM', () => void gateway.close().finally(() => process.exit(0)));
