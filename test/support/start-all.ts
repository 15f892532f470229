import { spawn, type ChildProcess } from 'node:child_process';
import { loadSubgraphs } from '../../subgraphs/kit/registry.ts';
import { freePorts } from './ports.ts';

/**
 * `npm start`'s process (gateway/start-all.ts: every subgraph and the gateway in one process) as
 * the process tests start it: a free port for the gateway and each subgraph, and the output
 * collected until it says it is up.
 */

/** The environment of one `npm start` process on free ports (plus `extra`), and its gateway's GraphQL URL. */
export async function startAllEnv(extra: Record<string, string>): Promise<{ env: Record<string, string>; gateway: string }> {
  const names = (await loadSubgraphs()).map((s) => s.name);
  const ports = await freePorts(names.length + 1);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'development',
    GATEWAY_PORT: String(ports[0]),
    LOG_LEVEL: 'warn',
    APOLLO_TELEMETRY_DISABLED: 'true',
    ...extra,
  };
  names.forEach((name, i) => {
    env[`${name.toUpperCase()}_PORT`] = String(ports[i + 1]);
    env[`${name.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[i + 1]}/graphql`;
  });
  env.AUTH_JWKS_URL = `http://127.0.0.1:${env.AUTH_PORT}/.well-known/jwks.json`;
  return { env, gateway: `http://127.0.0.1:${ports[0]}/graphql` };
}

/** Starts `npm start`'s process with `env`; resolves once it printed its logins, with its output so far. */
export function startAll(env: Record<string, string>, timeoutMs = 120_000): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/start-all.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not up after ${timeoutMs / 1000} s:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Demo logins')) {
        clearTimeout(timer);
        resolve({ child, output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
}

/** SIGTERM (SIGKILL after 10 s); resolves once it exited. */
export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}
