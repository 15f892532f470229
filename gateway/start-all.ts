// `npm start`'s process entry: every subgraph and the gateway in one process (run-all.ts), with the
// subgraphs' V8 settings (subgraphs/kit/v8-flags.ts), after tracing when configured
// (subgraphs/kit/telemetry/tracing.ts: before anything loads pg or ioredis).
import '../subgraphs/kit/v8-flags.ts';
import { startTracing } from '../subgraphs/kit/telemetry/tracing.ts';

await startTracing('supergraph');
await import('./run-all.ts');
