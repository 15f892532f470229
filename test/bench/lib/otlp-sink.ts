/**
 * An OTLP/HTTP receiver that accepts and discards, for measuring tracing's cost:
 *
 *   npx tsx test/bench/lib/otlp-sink.ts [--port 4318]
 *   BENCH_VARIANT_ENV="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318" npm run bench -- --scenario A --targets ours,ours-variant
 *
 * Answers every POST with 200 `{}` once its body is read; prints the requests and bytes received
 * every 10 s and on exit (Ctrl-C), so a run shows that spans did arrive.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '4318' } } });
let requests = 0;
let bytes = 0;
const server = createServer((request, response) => {
  request.on('data', (chunk: Buffer) => (bytes += chunk.length));
  request.on('end', () => {
    requests++;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
const report = () => console.log(`otlp-sink: ${requests} requests, ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
setInterval(report, 10_000).unref();
process.once('SIGINT', () => (report(), process.exit(0)));
process.once('SIGTERM', () => (report(), process.exit(0)));
server.listen(Number(values.port), '127.0.0.1', () => console.log(`otlp-sink on http://127.0.0.1:${values.port}`));
