// `npm run start:subgraph <name>`'s process entry: one subgraph in its own process
// (run-subgraph.ts), with the subgraphs' V8 settings (v8-flags.ts), after tracing when configured
// (telemetry/tracing.ts: before anything loads pg or ioredis). The service is named after the
// subgraph.
import './v8-flags.ts';
import { startTracing } from './telemetry/tracing.ts';

await startTracing(process.argv[2] ?? 'subgraph');
await import('./run-subgraph.ts');
