import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../subgraphs/kit/config.ts';

describe('configuration', () => {
  it('has working defaults for a fresh machine', () => {
    const config = parseConfig({});
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
    expect(() => parseConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name}: `));
  });

  it('reads trusted proxies as Fastify takes them: a flag, a hop count, or addresses, CIDRs and range names', () => {
    expect(parseConfig({}).TRUST_PROXY).toEqual(['loopback', 'linklocal', 'uniquelocal']);
    expect(parseConfig({}).GATEWAY_TRUST_PROXY).toBe(false);
    expect(parseConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(parseConfig({ GATEWAY_TRUST_PROXY: '2' }).GATEWAY_TRUST_PROXY).toBe(2);
    expect(parseConfig({ GATEWAY_TRUST_PROXY: '10.0.0.0/8, ::1,Loopback' }).GATEWAY_TRUST_PROXY).toEqual(['10.0.0.0/8', '::1', 'loopback']);
  });

  it('rejects an admission minimum above its maximum', () => {
    expect(() => parseConfig({ GATEWAY_CONCURRENCY_MIN: '64', GATEWAY_CONCURRENCY_MAX: '8' })).toThrow(
      /^Invalid configuration: GATEWAY_CONCURRENCY_MIN: must not be above GATEWAY_CONCURRENCY_MAX$/,
    );
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
