import cluster, { type Worker } from 'node:cluster';
import { logFatalErrors } from '../subgraphs/kit/crash.ts';
import { createLogger } from '../subgraphs/kit/logger.ts';
import { stopTracing } from '../subgraphs/kit/telemetry/tracing.ts';
import { loadGatewayConfig } from './config.ts';
import { reloadOnSighup } from './hot-reload.ts';
import { createGateway } from './server.ts';
import { warmUpGateway } from './warm-up.ts';

// `npm run start:gateway` (through index.ts): the gateway on GATEWAY_PORT (8001); SIGINT/SIGTERM drain and exit.
// GATEWAY_WORKERS=n (or `auto`, one per core) runs n gateway processes on the same port
// (node:cluster): the primary only forks, restarts a worker that dies and, on SIGTERM, drains them all.
const config = loadGatewayConfig();
const log = createLogger(config, 'gateway');
logFatalErrors(log);
/** A worker that dies sooner than this after its start is restarted after a pause (no crash loop). */
const RESTART_PAUSE_MS = 1_000;

if (config.GATEWAY_WORKERS > 1 && cluster.isPrimary) {
  let stopping = false;
  const started = new Map<Worker, number>();
  const fork = () => started.set(cluster.fork(), Date.now());
  for (let i = 0; i < config.GATEWAY_WORKERS; i++) fork();
  let listening = 0;
  cluster.on('listening', (worker, address) => {
    process.stdout.write(`gateway worker ${worker.process.pid} listening\n`);
    if (++listening === config.GATEWAY_WORKERS) {
      process.stdout.write(`gateway ready at http://${config.HOST}:${address.port}/graphql (${config.GATEWAY_WORKERS} workers)\n`);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    const since = started.get(worker) ?? 0;
    started.delete(worker);
    if (stopping) {
      if (started.size === 0) process.exit(0);
      return;
    }
    log.error({ worker: worker.process.pid, code, signal }, `gateway worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    if (Date.now() - since < RESTART_PAUSE_MS) setTimeout(fork, RESTART_PAUSE_MS).unref();
    else fork();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      if (started.size === 0) process.exit(0);
      // Each worker drains (closes its listener, finishes in-flight requests) and exits.
      for (const worker of started.keys()) worker.process.kill('SIGTERM');
    });
  }
  // SIGHUP reloads the supergraph (gateway/hot-reload.ts): in every worker.
  process.on('SIGHUP', () => {
    for (const worker of started.keys()) worker.process.kill('SIGHUP');
  });
} else {
  const gateway = await createGateway({ config, log });
  reloadOnSighup(gateway.reloadSupergraph); // `kill -HUP <pid>`: the supergraph again (gateway/hot-reload.ts)
  // Before it listens, so /health and /ready answer once what its first requests would build is built.
  await warmUpGateway(gateway, log, config.AUTH_JWKS_URL);
  const url = await gateway.listen();
  if (cluster.isPrimary) process.stdout.write(`gateway ready at ${url}/graphql\n`);
  // (A worker can get both: Ctrl-C reaches the whole process group, and the primary passes SIGTERM on.)
  let closing: Promise<void> | undefined;
  const stop = () => void (closing ??= gateway.close().then(stopTracing).then(() => process.exit(0)));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
}
