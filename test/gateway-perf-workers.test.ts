import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';

// GATEWAY_WORKERS: gateway/index.ts as production starts it, with two cluster workers on one port.
// Behaviour only (start, answer, restart a killed worker, drain on SIGTERM); nothing is timed.

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let child: ChildProcess | undefined;
let output = '';
const waitFor = async (pattern: RegExp, from = 0): Promise<RegExpMatchArray> => {
  for (let i = 0; i < 600; i++) {
    const match = output.slice(from).match(pattern);
    if (match) return match;
    if (child?.exitCode !== null) throw new Error(`gateway exited:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${pattern} in:\n${output}`);
};
const workerPids = () => [...output.matchAll(/gateway worker (\d+) listening/g)].map((m) => Number(m[1]));

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  for (const pid of workerPids()) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
});

describe('GATEWAY_WORKERS', () => {
  it('forks the workers on one port, restarts one that dies, and drains them all on SIGTERM', async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'gateway/index.ts'], {
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', HOST: '127.0.0.1', GATEWAY_PORT: String(port), GATEWAY_WORKERS: '2', REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

    await waitFor(/gateway ready at http:\/\/127\.0\.0\.1:\d+\/graphql \(2 workers\)/);
    const [first, second] = workerPids();
    expect(first).not.toBe(second);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);

    const mark = output.length;
    process.kill(first!, 'SIGKILL');
    await waitFor(new RegExp(`gateway worker ${first} exited`), mark);
    await waitFor(/gateway worker \d+ listening/, mark);
    const replacement = workerPids().at(-1)!;
    expect(replacement).not.toBe(first);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(isAlive(second!)).toBe(false);
    expect(isAlive(replacement)).toBe(false);
  }, 60_000);
});
