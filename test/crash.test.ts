import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from './support/ports.ts';
import { loadSubgraphs } from '../subgraphs/kit/registry.ts';
import { ADMIN_URL, createTestDatabase, postgresReachable } from './support/services.ts';

// A crash of a running process (an exception nothing catches, a rejection nothing handles) is one
// JSON line through its logger (pino, level fatal) and exit 1, never Node's plain-text stack:
// through the real entry points, with the failure injected by a preloaded module on SIGUSR2.

const realPostgres = await postgresReachable();
const dataDir = mkdtempSync(join(tmpdir(), 'bizosaas-crash-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts `entry`, waits for `ready` on its output, sends SIGUSR2, and resolves to how it ended. */
async function crash(entry: string[], env: Record<string, string>, ready: RegExp, how: 'throw' | 'reject') {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/support/crash-on-signal.ts', ...entry], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', LOG_LEVEL: 'warn', HOST: '127.0.0.1', DATA_DIR: dataDir, DEMO_DATA: 'false', CRASH_WITH: how, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (let i = 0; !ready.test(stdout); i++) {
    if (child.exitCode !== null || i > 1800) throw new Error(`not ready:\n${stdout}\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const before = stdout.length;
  const signalledAt = Date.now();
  child.kill('SIGUSR2');
  const code = await exited;
  // pino may flush a line it took before the signal (a warm-up warning) after the ready line:
  // only what was logged once the signal went out counts.
  const lines = stdout
    .slice(before)
    .trim()
    .split('\n')
    .filter((line) => !line.startsWith('{') || (JSON.parse(line) as { time?: number }).time! >= signalledAt);
  return { code, stderr, lines };
}

const expectOneFatalLine = (result: Awaited<ReturnType<typeof crash>>, service: string, how: 'throw' | 'reject') => {
  expect(result.code).toBe(1);
  expect(result.stderr).toBe('');
  expect(result.lines, result.lines.join("\n")).toHaveLength(1);
  const line = JSON.parse(result.lines[0]!);
  expect(line).toMatchObject({ level: 60, service, msg: 'uncaught exception: exiting', err: { type: 'Error', message: `crash test: ${how === 'throw' ? 'thrown' : 'rejected'}` } });
  expect(line.origin).toBe(how === 'throw' ? 'uncaughtException' : 'unhandledRejection');
  expect(line.err.stack).toContain('crash-on-signal');
};

describe('a crashing process logs one JSON line and exits 1', () => {
  // The saleor stand-in reads no table: any database does (PostgreSQL's own, else embedded PGlite).
  const database: Record<string, string> = realPostgres ? { DATABASE_URL: ADMIN_URL } : {};

  it.each(['throw', 'reject'] as const)('a subgraph (start-subgraph.ts): %s', async (how) => {
    const [port] = await freePorts(1);
    const result = await crash(['subgraphs/kit/start-subgraph.ts', 'saleor'], { SALEOR_PORT: String(port), ...database }, /saleor subgraph listening/, how);
    expectOneFatalLine(result, 'saleor', how);
  }, 120_000);

  it.each(['throw', 'reject'] as const)('the gateway (gateway/index.ts): %s', async (how) => {
    const [port, saleor] = await freePorts(2);
    const result = await crash(
      ['gateway/index.ts'],
      { GATEWAY_PORT: String(port), SALEOR_URL: `http://127.0.0.1:${saleor}/graphql`, APOLLO_TELEMETRY_DISABLED: 'true' },
      /gateway ready at/,
      how,
    );
    expectOneFatalLine(result, 'gateway', how);
  }, 120_000);

  // Every subgraph and the gateway in one process: on a scratch PostgreSQL database (PGlite would
  // work too, only slower).
  it.skipIf(!realPostgres)('everything in one process (start-all.ts, npm start): throw', async () => {
    const database = await createTestDatabase();
    try {
      const names = (await loadSubgraphs()).map((s) => s.name);
      const ports = await freePorts(names.length + 1);
      const env: Record<string, string> = { GATEWAY_PORT: String(ports[0]), DATABASE_URL: database.appUrl!, DATABASE_OWNER_URL: database.ownerUrl!, APOLLO_TELEMETRY_DISABLED: 'true' };
      names.forEach((name, i) => {
        env[`${name.toUpperCase()}_PORT`] = String(ports[i + 1]);
        env[`${name.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[i + 1]}/graphql`;
      });
      env.AUTH_JWKS_URL = `http://127.0.0.1:${env.AUTH_PORT}/.well-known/jwks.json`;
      const result = await crash(['gateway/start-all.ts'], env, /BizOSaaS supergraph is up/, 'throw');
      expectOneFatalLine(result, 'supergraph', 'throw');
    } finally {
      await database.drop();
    }
  }, 240_000);
});
