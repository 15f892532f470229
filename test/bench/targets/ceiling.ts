/**
 * Scenario C's target: a bare node:http server that answers every request with the exact bytes
 * scenario A's query must produce. It does no GraphQL at all, so no Node gateway can beat it on
 * this machine; in practice it measures the load generator and the loopback.
 *
 *   node tmp/bench-build-<pid>/test/bench/targets/ceiling.js --port N
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { expectedTestQueryResponse } from '../fixtures/federation/direct.ts';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const body = Buffer.from(expectedTestQueryResponse());
const server = createServer((req, res) => {
  req.resume(); // read and drop the request body
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
