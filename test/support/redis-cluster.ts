import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { freePorts } from './ports.ts';

export interface LocalRedisCluster {
  /** `host:port` of each master: what REDIS_CLUSTER_NODES takes. */
  nodes: string[];
  /** A client of the cluster for the test's own reads. */
  client: Cluster;
  /** Keys matching `pattern` on every master. */
  keys(pattern: string): Promise<string[]>;
  stop(): Promise<void>;
}

const run = (command: string, args: string[]) => spawnSync(command, args, { encoding: 'utf8', timeout: 20_000 });

/**
 * A Redis Cluster of three masters (no replicas) on free ports of 127.0.0.1: `redis-server`
 * processes in cluster mode (data in a temporary folder, nothing on disk kept), joined with
 * `redis-cli --cluster create`. Fails with a clear message when redis-server or redis-cli is not
 * installed (.ci/run installs them).
 */
export async function startRedisCluster(): Promise<LocalRedisCluster> {
  for (const binary of ['redis-server', 'redis-cli']) {
    const found = run(binary, ['--version']);
    if (found.error || found.status !== 0) {
      throw new Error(`${binary} is not installed: the Redis Cluster test needs it (apt-get install redis-server; .ci/run installs it)`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'bizosaas-redis-cluster-'));
  // Client ports and cluster-bus ports (the bus's default, port + 10000, may not be free or valid).
  const ports = await freePorts(6);
  const processes: ChildProcess[] = [];
  const nodes = ports.slice(0, 3).map((port) => `127.0.0.1:${port}`);
  const stopProcesses = async () => {
    for (const child of processes) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(processes.map((child) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : null)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) {
      const port = ports[i]!;
      const child = spawn(
        'redis-server',
        [
          '--bind', '127.0.0.1', '--port', String(port), '--cluster-enabled', 'yes', '--cluster-port', String(ports[i + 3]),
          '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '5000',
          '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      processes.push(child);
    }
    for (const node of nodes) await waitFor(() => ping(node), `redis-server ${node} did not start`);
    const created = run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const node of nodes) await waitFor(() => clusterOk(node), `cluster not ok on ${node}`);
  } catch (error) {
    await stopProcesses();
    throw error;
  }
  const client = new Cluster(nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
  return {
    nodes,
    client,
    async keys(pattern) {
      const found = await Promise.all(client.nodes('master').map((node) => node.keys(pattern)));
      return found.flat().sort();
    },
    async stop() {
      client.disconnect();
      await stopProcesses();
    },
  };
}

async function waitFor(check: () => Promise<boolean>, message: string, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(message);
}

async function withNode<T>(node: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(Number(node.split(':')[1]), '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

const ping = (node: string) => withNode(node, async (redis) => (await redis.ping()) === 'PONG');
const clusterOk = (node: string) => withNode(node, async (redis) => (await redis.cluster('INFO')).includes('cluster_state:ok'));
