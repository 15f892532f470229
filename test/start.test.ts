import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bearer, gql, login } from './support/graphql.ts';
import { startAll, startAllEnv, stopProcess } from './support/start-all.ts';

/**
 * `npm start` on a machine with no PostgreSQL and no Redis: the whole supergraph on embedded
 * PGlite and in-memory Redis, demo data, and data that survives a restart.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'bizosaas-start-'));
const { env, gateway } = await startAllEnv({ DATA_DIR: dataDir });
const start = (): Promise<{ child: ChildProcess; output: string }> => startAll(env, 90_000);
const stop = stopProcess;

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
