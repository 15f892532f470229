import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from '../../../subgraphs/kit/paths.ts';
import { compileInto } from '../../support/production-build.ts';
import { gitRevision } from './machine.ts';

/** Repository root: every child runs from here, so relative paths resolve. */
export const ROOT = REPO_ROOT;

/**
 * Every child runs compiled JavaScript with plain node, as production runs the gateway and the
 * subgraphs (`npm run build`): no TypeScript loader thread in any measured process (it costs
 * about 40 MiB of RSS, and tsx turns source maps on, which makes every `new Error().stack`
 * dearer). test/bench/tsconfig.json compiles the launchers, the workers and everything they
 * import into a folder of this run's own, once, on the first spawn.
 */
const BUILD_DIR = join(ROOT, `tmp/bench-build-${process.pid}`);
let built = false;
function compiled(script: string, buildDir = BUILD_DIR): string {
  if (!built) {
    gitRevision(); // the revision of the tree being compiled, for the report
    process.once('exit', compileInto('test/bench/tsconfig.json', BUILD_DIR));
    built = true;
  }
  return join(buildDir, relative(ROOT, script)).replace(/\.ts$/, '.js');
}

/**
 * A copy of this run's build with some compiled files replaced (`files`: repository path of the
 * .ts file -> its JavaScript), for a variant of a target within one run (`SpawnOptions.build`).
 */
export function variantBuild(name: string, files: Record<string, string>): string {
  compiled(join(ROOT, 'package.json'));
  const dir = `${BUILD_DIR}-${name}`;
  cpSync(BUILD_DIR, dir, { recursive: true });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const [path, code] of Object.entries(files)) {
    const target = compiled(join(ROOT, path), dir);
    if (!existsSync(dirname(target))) throw new Error(`variant ${name}: ${path} is not part of the build`);
    writeFileSync(target, code);
  }
  return dir;
}

/**
 * CPU layout on a 2-core machine (BENCHMARKS.md, "Method"): the process under test alone on CPU 1,
 * everything else (subgraphs, load generator) on CPU 0. Without taskset nothing is pinned and the
 * report says so.
 */
export const GATEWAY_CPU = 1;
export const SUPPORT_CPU = 0;
export const HAS_TASKSET = existsSync('/usr/bin/taskset') || existsSync('/bin/taskset');

export interface Child {
  name: string;
  /** The node process itself (taskset execs, so the pid we spawn is node's). */
  pid: number;
  process: ChildProcess;
  /** Last lines of its output, for the error message when it dies. */
  tail(): string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  /** A .ts file of the repository (run compiled, see `compiled`). */
  script: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  cpu: number | null;
  /** Node flags before the script (e.g. `--cpu-prof`). */
  nodeFlags?: string[];
  /** IPC channel (the load worker). */
  ipc?: boolean;
  /** A build directory other than this run's (variantBuild). */
  build?: string;
}

const live = new Set<Child>();

/**
 * BENCH_CHILD_LOG=<path prefix>: every child's whole output also goes to `<prefix>.<pid>` (with
 * `NODE_FLAGS:--trace-gc` or `--trace-opt` in a variant, V8's traces of the process measured).
 */
const CHILD_LOG = process.env.BENCH_CHILD_LOG;

/** Spawns `node <compiled script>` pinned to one CPU; stdout and stderr are kept as a short tail. */
export function spawnNode(options: SpawnOptions): Child {
  const nodeArgs = [...(options.nodeFlags ?? []), compiled(options.script, options.build), ...(options.args ?? [])];
  const [command, args] =
    HAS_TASKSET && options.cpu !== null
      ? ['taskset', ['-c', String(options.cpu), process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
    if (CHILD_LOG) appendFileSync(`${CHILD_LOG}.${child.pid}`, chunk);
  };
  // Always drained: a full pipe would block a chatty child (and skew its numbers).
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const handle: Child = {
    name: options.name,
    pid: child.pid!,
    process: child,
    tail: () => tail,
    async stop() {
      live.delete(handle);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(handle);
  child.once('exit', () => live.delete(handle));
  return handle;
}

/** Stops every child this process started (on exit, error or Ctrl-C). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop()));
}

export function isAlive(child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null;
}

/** Polls `probe` until it resolves true; fails early with the child's output if it exits. */
export async function waitUntil(child: Child, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(child)) throw new Error(`${child.name} exited during start-up:\n${child.tail()}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${child.name} not ready after ${timeoutMs / 1000} s:\n${child.tail()}`);
}
