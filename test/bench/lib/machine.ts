import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { HAS_TASKSET, ROOT } from './processes.ts';

export interface MachineInfo {
  cpus: number;
  model: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  taskset: boolean;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    model: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    taskset: HAS_TASKSET,
  };
}

/** Installed versions of what the numbers depend on (read from node_modules, not package.json ranges). */
export function packageVersions(): Record<string, string> {
  const names = [
    'autocannon',
    'graphql',
    '@apollo/gateway',
    '@apollo/server',
    '@apollo/subgraph',
    '@apollo/composition',
    'fastify',
    'undici',
    '@graphql-hive/gateway',
    '@graphql-hive/gateway-runtime',
    '@graphql-hive/router-runtime',
    '@graphql-hive/router-query-planner',
  ];
  return Object.fromEntries(
    names.map((name) => {
      try {
        return [name, String(JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version)];
      } catch {
        return [name, 'not installed'];
      }
    }),
  );
}

/**
 * The commit the measured code was compiled from (and whether the tree differed from it), read
 * once: the first call is when the run compiles its build (processes.ts), so edits made while a
 * long run goes on do not mark its report.
 */
let revision: string | undefined;
export function gitRevision(): string {
  return (revision ??= readGitRevision());
}

function readGitRevision(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'gateway', 'subgraphs', 'test/bench', 'package.json'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${commit} + uncommitted changes` : commit;
  } catch {
    return 'unknown';
  }
}

/** 1, 5 and 15 minute load averages. On 2 CPUs anything near or above 2 means the run competed for CPU. */
export const loadAverage = () => loadavg().map((n) => Math.round(n * 100) / 100) as [number, number, number];
