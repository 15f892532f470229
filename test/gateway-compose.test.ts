import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { composeSdl, installedCompositionVersion } from '../gateway/compose.ts';
import { healthUrl, readSupergraphConfig, resolveSubgraphUrls, SUPERGRAPH_YAML, supergraphYaml } from '../gateway/supergraph.ts';
import { loadSubgraphs, subgraphNames } from '../subgraphs/kit/registry.ts';
import { AUTH_SDL } from './support/gateway-fakes.ts';

describe('supergraph.yaml', () => {
  it('is what `npm run compose` writes from the subgraph definitions (names, ports and schema files in one place)', async () => {
    const definitions = await loadSubgraphs();
    expect(readFileSync(SUPERGRAPH_YAML, 'utf8'), 'run `npm run compose` and commit supergraph.yaml').toBe(
      supergraphYaml(definitions, installedCompositionVersion()),
    );
  });

  it('each subgraph is named as its folder and listens on a port of its own', async () => {
    const definitions = await loadSubgraphs();
    expect(definitions.map((d) => d.name).sort()).toEqual(subgraphNames());
    const ports = definitions.map((d) => d.port);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('lists saleor and auth with their routing URLs and schema files', () => {
    const { federationVersion, subgraphs } = readSupergraphConfig();
    expect(federationVersion).toMatch(/^=2\.\d+\.\d+$/);
    const byName = Object.fromEntries(subgraphs.map((s) => [s.name, s]));
    expect(byName.saleor?.routingUrl).toBe('http://127.0.0.1:8000/graphql');
    expect(byName.auth?.routingUrl).toBe('http://127.0.0.1:8007/graphql');
    expect(byName.auth?.schemaFile).toMatch(/schema\/auth\.graphql$/);
  });

  it('<NAME>_URL overrides a routing URL; SALEOR_API_URL (a real Saleor) wins for saleor', () => {
    const { subgraphs } = readSupergraphConfig();
    const urls = resolveSubgraphUrls(subgraphs, { AUTH_URL: 'http://auth.internal:9000/graphql', SALEOR_URL: 'http://standin:8000/graphql' });
    expect(urls.auth).toBe('http://auth.internal:9000/graphql');
    expect(urls.saleor).toBe('http://standin:8000/graphql');
    const real = resolveSubgraphUrls(subgraphs, { SALEOR_URL: 'http://standin:8000/graphql', SALEOR_API_URL: 'https://shop.example/graphql/' });
    expect(real.saleor).toBe('https://shop.example/graphql/');
    expect(() => resolveSubgraphUrls(subgraphs, { AUTH_URL: 'not a url' })).toThrow(/AUTH_URL/);
  });

  it('derives each subgraph health URL from its GraphQL URL', () => {
    expect(healthUrl('http://127.0.0.1:8007/graphql')).toBe('http://127.0.0.1:8007/health');
    expect(healthUrl('https://shop.example/graphql/')).toBe('https://shop.example/health/');
  });
});

describe('composition', () => {
  it('reports composition errors instead of throwing', () => {
    const clash = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      type Query { echo: Int }`;
    const result = composeSdl([
      { name: 'a', url: 'http://a/graphql', sdl: AUTH_SDL },
      { name: 'b', url: 'http://b/graphql', sdl: clash },
    ]);
    expect(result.supergraphSdl).toBeUndefined();
    expect(result.errors.length).toBeGreaterThan(0);
    expect(composeSdl([{ name: 'a', url: 'http://a/graphql', sdl: 'type Query {' }]).errors).toHaveLength(1);
  });
});
