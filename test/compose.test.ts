import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

// docker/compose.yaml without a Docker engine (none in CI; Debian's docker-compose 1.29 is too old
// for it): it parses with its anchors and merge keys, every service runs something, every
// dependency and volume it names exists, every variable it reads is in docker/.env.example, only
// the gateway is published beyond loopback; and issue 18, 7: the `admin` profile's Adminer.

const dir = join(import.meta.dirname, '..', 'docker');
const text = readFileSync(join(dir, 'compose.yaml'), 'utf8');
const compose = parse(text, { merge: true }) as {
  name: string;
  services: Record<string, any>;
  volumes: Record<string, unknown>;
};
const services = compose.services;

describe('docker/compose.yaml', () => {
  it('parses, and every service has an image or a build and valid dependencies and volumes', () => {
    expect(compose.name).toBe('bizosaas');
    for (const [name, service] of Object.entries(services)) {
      expect(service.image ?? service.build, name).toBeTruthy();
      for (const dependency of Object.keys(service.depends_on ?? {})) expect(Object.keys(services), `${name} depends on ${dependency}`).toContain(dependency);
      for (const volume of service.volumes ?? []) {
        const source = String(volume).split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) expect(Object.keys(compose.volumes), `${name}: volume ${source}`).toContain(source);
      }
    }
  });

  it('a service outside a profile depends on no service of the admin profile', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.profiles) continue;
      for (const dependency of Object.keys(service.depends_on ?? {})) {
        expect(services[dependency].profiles ?? [], `${name} -> ${dependency}`).not.toContain('admin');
      }
    }
  });

  it('every variable it reads is in docker/.env.example', () => {
    const example = readFileSync(join(dir, '.env.example'), 'utf8');
    const defined = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    const read = new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
    expect([...read].filter((name) => !defined.has(name))).toEqual([]);
  });

  it('publishes only the gateway beyond loopback', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        const published = String(port).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
        if (name !== 'gateway') expect(published, name).toMatch(/^127\.0\.0\.1:/);
      }
    }
  });
});

describe('profile admin: Adminer as the read-only role', () => {
  const adminer = services.adminer;

  it("is the official Adminer image, pinned, in the admin profile only, on 127.0.0.1:8005", () => {
    expect(adminer.image).toMatch(/^adminer:\d+\.\d+\.\d+$/);
    expect(adminer.profiles).toEqual(['admin']);
    expect(adminer.ports).toEqual(['127.0.0.1:8005:8080']);
    expect(adminer.environment.ADMINER_DEFAULT_SERVER).toBe('postgres');
    expect(adminer.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' }, 'db-setup': { condition: 'service_completed_successfully' } });
    expect(adminer).toMatchObject({ read_only: true, cap_drop: ['ALL'] });
  });

  it('db-setup gives the read-only role its password; the documented login is that role', () => {
    expect(services['db-setup'].environment.POSTGRES_READONLY_PASSWORD).toBe('${POSTGRES_READONLY_PASSWORD:-}');
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('username=bizosaas_readonly');
    expect(text).toContain('username=bizosaas_readonly');
  });
});
