import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSubgraphs } from '../subgraphs/kit/registry.ts';
import { bearer, gql, login } from './support/graphql.ts';
import { freePorts } from './support/ports.ts';

/**
 * `npm start` on a machine with no PostgreSQL and no Redis: the whole supergraph on embedded
 * PGlite and in-memory Redis, demo data, and data that survives a restart.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'bizosaas-start-'));
const names = (await loadSubgraphs()).map((s) => s.name);
const ports = await freePorts(names.length + 1);
const env: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  NODE_ENV: 'development',
  DATA_DIR: dataDir,
  GATEWAY_PORT: String(ports[0]),
  LOG_LEVEL: 'warn',
  APOLLO_TELEMETRY_DISABLED: 'true',
};
names.forEach((name, i) => {
  env[`${name.toUpperCase()}_PORT`] = String(ports[i + 1]);
  env[`${name.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[i + 1]}/graphql`;
});
env.AUTH_JWKS_URL = `http://127.0.0.1:${env.AUTH_PORT}/.well-known/jwks.json`;
const gateway = `http://127.0.0.1:${ports[0]}/graphql`;

function start(): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/start-all.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not up after 90 s:\n${output}`)), 90_000);
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

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

let running: ChildProcess | undefined;
afterAll(async () => {
  if (running) await stop(running);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start with nothing installed (embedded PGlite, in-memory Redis)', () => {
  it('starts everything, prints the URLs and logins, serves a joined query, and keeps data across a restart', async () => {
    const first = await start();
    running = first.child;
    expect(first.output).toContain(gateway);
    expect(first.output).toContain('owner@acme.example');
    expect(first.output).toContain('embedded PGlite');

    const token = await login(gateway, 'owner@acme.example');
    const joined = await gql(
      gateway,
      '{ viewer { account { email } tenant { saleorChannel } } products(first: 3, channel: "acme-channel") { totalCount edges { node { name } } } }',
      {},
      bearer(token),
    );
    expect(joined.errors).toBeUndefined();
    expect(joined.data!.viewer.account.email).toBe('owner@acme.example');
    expect(joined.data!.products.edges).toHaveLength(3);

    const invite = await gql(
      gateway,
      'mutation { inviteMember(input: { email: "kept@acme.example", role: VIEWER, password: "kept-across-restarts" }) { errors { code } } }',
      {},
      bearer(token),
    );
    expect(invite.data!.inviteMember.errors).toEqual([]);
    await stop(first.child);

    const second = await start();
    running = second.child;
    expect(await login(gateway, 'kept@acme.example', { password: 'kept-across-restarts' })).toBeTruthy();
    // The development signing key was kept too: a token from the first run still verifies.
    const viewer = await gql(gateway, '{ viewer { account { email } } }', {}, bearer(token));
    expect(viewer.data!.viewer.account.email).toBe('owner@acme.example');
  }, 240_000);
});
