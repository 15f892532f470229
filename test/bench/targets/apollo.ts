/**
 * Target (b): plain @apollo/gateway behind @apollo/server's startStandaloneServer, defaults only,
 * as the reference benchmark's apollo-gateway/index.ts runs it (one process here: the reference
 * forks one worker per available CPU, which is one under `taskset -c 1`).
 *
 *   node tmp/bench-build-<pid>/test/bench/targets/apollo.js --port N --supergraph FILE
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

// No anonymous telemetry from a benchmark (and this machine must not call out).
process.env.APOLLO_TELEMETRY_DISABLED = 'true';

const { values } = parseArgs({ options: { port: { type: 'string' }, supergraph: { type: 'string' } } });
const gateway = new ApolloGateway({ supergraphSdl: readFileSync(values.supergraph!, 'utf8') });
const server = new ApolloServer({ gateway });
await startStandaloneServer(server, { listen: { port: Number(values.port), host: '127.0.0.1' } });
process.once('SIGTERM', () => void server.stop().finally(() => process.exit(0)));
