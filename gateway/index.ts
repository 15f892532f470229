// The gateway's process entry (`npm run start:gateway`, the image's CMD). Tracing first, when
// configured: its instrumentations must be in place before anything loads pg or ioredis
// (subgraphs/kit/telemetry/tracing.ts). Then the gateway itself (run-gateway.ts).
import { startTracing } from '../subgraphs/kit/telemetry/tracing.ts';

await startTracing('gateway');
await import('./run-gateway.ts');
