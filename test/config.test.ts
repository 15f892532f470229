import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../gateway/config.ts';
import { authSettings } from '../subgraphs/auth/settings.ts';
import { cmsSettings } from '../subgraphs/cms/settings.ts';
import { configSchema, parseConfig, parseEnv } from '../subgraphs/kit/config.ts';

describe('configuration', () => {
  it('has working defaults for a fresh machine', () => {
    const config = parseGatewayConfig({});
    expect(config).toMatchObject({ NODE_ENV: 'development', GATEWAY_PORT: 8001, SUBGRAPH_TIMEOUT_MS: 10_000, CACHE_TTL_SECONDS: 60 });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
  });

  it.each([
    ['GATEWAY_PORT', 'eighty'],
    ['DATABASE_URL', 'mysql://root@localhost/db'],
    ['REDIS_URL', 'not a url'],
    ['NODE_ENV', 'staging'],
    ['SUBGRAPH_TIMEOUT_MS', '5'],
    ['GATEWAY_TRUST_PROXY', 'yes please'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', 'intranet'],
    ['GATEWAY_SUBGRAPH_CONNECTIONS', '0'],
    ['CORS_ORIGINS', 'ftp://files.example'],
    ['GATEWAY_CONCURRENCY_MIN', '0'],
    ['GATEWAY_QUEUE_MAX', '-1'],
  ])('rejects %s=%s with one line naming the variable', (name, value) => {
    expect(() => parseGatewayConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name}: `));
  });

  const settingsOf = { auth: authSettings, cms: cmsSettings };
  it.each([
    ['auth', 'LOGIN_WINDOW_SECONDS', '0'],
    ['auth', 'ACCESS_TOKEN_TTL_SECONDS', 'a day'],
    ['cms', 'MEDIA_MAX_BYTES', '12'],
    ['cms', 'MEDIA_PUBLIC_URL', 'ftp://media.example'],
  ] as const)('a %s setting: rejects %s=%s with one line naming the variable', (subgraph, name, value) => {
    expect(() => parseEnv(settingsOf[subgraph], { [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name}: `));
  });

  it('keeps each process’s own settings out of the shared ones', () => {
    const own = [...Object.keys(authSettings.shape), ...Object.keys(cmsSettings.shape), 'GATEWAY_PORT', 'RATE_LIMIT_PER_MINUTE_IP', 'MAX_DEPTH'];
    expect(own.filter((name) => name in configSchema.shape)).toEqual([]);
    expect(parseConfig({ GATEWAY_PORT: 'eighty', LOGIN_WINDOW_SECONDS: 'never' })).not.toHaveProperty('GATEWAY_PORT');
  });

  it('reads trusted proxies as Fastify takes them: a flag, a hop count, or addresses, CIDRs and range names', () => {
    expect(parseConfig({}).TRUST_PROXY).toEqual(['loopback', 'linklocal', 'uniquelocal']);
    expect(parseGatewayConfig({}).GATEWAY_TRUST_PROXY).toBe(false);
    expect(parseConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(parseGatewayConfig({ GATEWAY_TRUST_PROXY: '2' }).GATEWAY_TRUST_PROXY).toBe(2);
    expect(parseGatewayConfig({ GATEWAY_TRUST_PROXY: '10.0.0.0/8, ::1,Loopback' }).GATEWAY_TRUST_PROXY).toEqual(['10.0.0.0/8', '::1', 'loopback']);
  });

  it('rejects an admission minimum above its maximum', () => {
    expect(() => parseGatewayConfig({ GATEWAY_CONCURRENCY_MIN: '64', GATEWAY_CONCURRENCY_MAX: '8' })).toThrow(
      /^Invalid configuration: GATEWAY_CONCURRENCY_MIN: must not be above GATEWAY_CONCURRENCY_MAX$/,
    );
  });

  it('takes a standing-queue target up to the queue timeout, and none by default (a tenth of the timeout)', () => {
    expect(parseGatewayConfig({}).GATEWAY_QUEUE_TARGET_MS).toBeUndefined();
    expect(parseGatewayConfig({ GATEWAY_QUEUE_TARGET_MS: '1000' }).GATEWAY_QUEUE_TARGET_MS).toBe(1000);
    expect(() => parseGatewayConfig({ GATEWAY_QUEUE_TARGET_MS: '1001' })).toThrow(
      /^Invalid configuration: GATEWAY_QUEUE_TARGET_MS: must not be above GATEWAY_QUEUE_TIMEOUT_MS$/,
    );
    expect(() => parseGatewayConfig({ GATEWAY_QUEUE_TARGET_MS: '0' })).toThrow(/^Invalid configuration: GATEWAY_QUEUE_TARGET_MS: /);
  });

  it('a bad subgraph setting stops that subgraph’s process with exit 1 and one clear line on stderr', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'subgraphs/kit/start-subgraph.ts', 'auth'], {
      env: { PATH: process.env.PATH, LOGIN_WINDOW_SECONDS: 'never' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Invalid configuration: LOGIN_WINDOW_SECONDS: /)]);
  });

  it('the auth subgraph in production without AUTH_PRIVATE_JWK stops with exit 1 and one line naming it (found when its server is built)', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'subgraphs/kit/start-subgraph.ts', 'auth'], {
      // A DATABASE_URL nothing listens on (never connected to: the key is checked first), so no embedded database starts.
      env: { PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_URL: 'postgresql://bizosaas_app@127.0.0.1:1/bizosaas' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual(['Invalid configuration: AUTH_PRIVATE_JWK: required when NODE_ENV=production']);
    expect(result.stdout).toBe('');
  });

  it('a bad value stops a process with exit 1 and one clear line on stderr', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'gateway/index.ts'], {
      env: { PATH: process.env.PATH, GATEWAY_PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: GATEWAY_PORT: /);
  });
});
