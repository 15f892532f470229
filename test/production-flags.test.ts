import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PRODUCTION_ENTRY, productionNodeFlags } from '../gateway/node-flags.ts';

const command = () => ['node', ...productionNodeFlags(), PRODUCTION_ENTRY];

describe('the gateway production command', () => {
  it('is the same in package.json, docker/Dockerfile and docker/compose.yaml', () => {
    const dockerfile = readFileSync('docker/Dockerfile', 'utf8');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(cmd!)).toEqual(command());
    const compose = readFileSync('docker/compose.yaml', 'utf8');
    const gateway = compose.slice(compose.indexOf('\n  gateway:'));
    const line = /^\s+command: (\[.*\])$/m.exec(gateway)?.[1];
    expect(JSON.parse(line!)).toEqual(command());
  });

  it('uses node flags this node accepts', () => {
    const flags = productionNodeFlags();
    expect(flags).toContain('--heap-growing-percent=120');
    expect(flags).toContain('--max-semi-space-size=16');
    const result = spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it("loads Apollo's federation packages without their re-export getters (gateway/flat-exports.ts)", () => {
    // What the production process sees once gateway/server.ts has loaded: plain data properties,
    // and the gateway's executor working on them.
    const script = `
      const { createRequire } = await import('node:module');
      await import('./gateway/server.ts');
      const require = createRequire(process.cwd() + '/');
      const internals = require('@apollo/federation-internals');
      const getters = Object.keys(internals).filter((key) => 'get' in Object.getOwnPropertyDescriptor(internals, key));
      const planner = require('@apollo/query-planner');
      console.log(JSON.stringify({ getters: getters.length, names: Object.keys(internals).length, esModule: internals.__esModule, planner: typeof planner.QueryPlanner }));
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const seen = JSON.parse(result.stdout.trim().split('\n').pop()!);
    expect(seen).toMatchObject({ getters: 0, esModule: true, planner: 'function' });
    expect(seen.names).toBeGreaterThan(100);
  });
});

describe("the subgraphs' V8 settings (subgraphs/kit/v8-flags.ts)", () => {
  it('are imported first by every process entry that runs subgraphs', () => {
    for (const entry of ['subgraphs/kit/start-subgraph.ts', 'gateway/start-all.ts', 'test/bench/targets/supergraph-subgraphs.ts']) {
      const firstImport = /^import [^;]*;$/m.exec(readFileSync(entry, 'utf8'))?.[0];
      expect(firstImport, entry).toMatch(/^import '(\.\.\/)*(subgraphs\/kit\/|\.\/)v8-flags\.ts';$/);
    }
  });

  it('are flags this node knows (V8 reports an unknown one on stderr and ignores it)', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "import './subgraphs/kit/v8-flags.ts';"], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
