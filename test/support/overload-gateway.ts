/**
 * A gateway in a process of its own over one fake subgraph that cannot keep up, for the overload
 * tests (test/gateway-overload.test.ts): the load generator and the measurements stay outside the
 * process under load, and its RSS is its own.
 *
 *   node --import tsx test/support/overload-gateway.ts '{"kind":"slow","ms":200,"capacity":4,"env":{...}}'
 *
 * - kind "slow": each fetch waits `ms` (no CPU), at most `capacity` at once (the rest wait in the
 *   subgraph): a subgraph that serves capacity / ms operations a second however many it is sent.
 * - kind "cpu": the subgraph runs in the gateway's process (as `npm start` runs them) and each
 *   fetch keeps the CPU busy for `ms`: the gateway process's CPU is the bottleneck.
 * `env` is the gateway's environment (its settings). Prints one JSON line, {"base","pid"}, once listening.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { createGateway } from '../../gateway/server.ts';
import { ANONYMOUS } from '../../subgraphs/kit/principal.ts';
import { composeFakes, startFakeSubgraph } from './gateway-fakes.ts';

export interface OverloadJob {
  kind: 'slow' | 'cpu';
  ms: number;
  capacity?: number;
  env: Record<string, string>;
}

const job = JSON.parse(process.argv[2]!) as OverloadJob;

const SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Query { work: String }
`;

let free = job.capacity ?? Infinity;
const waiters: (() => void)[] = [];
const acquire = async () => {
  if (free > 0) return void free--;
  await new Promise<void>((resolve) => waiters.push(resolve));
};
const release = () => {
  const next = waiters.shift();
  if (next) next();
  else free++;
};

const work =
  job.kind === 'slow'
    ? async () => {
        await acquire();
        try {
          await sleep(job.ms);
        } finally {
          release();
        }
        return 'done';
      }
    : () => {
        const until = performance.now() + job.ms;
        while (performance.now() < until);
        return 'done';
      };

const subgraph = await startFakeSubgraph('work', SDL, { Query: { work } });
const gateway = await createGateway({
  config: parseGatewayConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...job.env }),
  supergraphSdl: await composeFakes([subgraph]),
  subgraphUrls: { work: subgraph.url },
  verifyToken: async () => ANONYMOUS,
});
const base = await gateway.listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ base, pid: process.pid })}\n`);
const stop = () => void Promise.all([gateway.close(), subgraph.close()]).finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
