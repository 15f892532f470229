import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PRODUCTION_ENTRY, productionNodeFlags } from '../gateway/node-flags.ts';
import { v8FlagsFor } from '../subgraphs/kit/v8-flags.ts';

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
    const entries = {
      'subgraphs/kit/start-subgraph.ts': './v8-flags.ts',
      'gateway/start-all.ts': '../subgraphs/kit/v8-flags.ts',
      'test/bench/targets/supergraph-subgraphs.ts': '../../../subgraphs/kit/v8-flags.ts',
    };
    for (const [entry, path] of Object.entries(entries)) {
      const firstImport = /^import [^;]*;$/m.exec(readFileSync(entry, 'utf8'))?.[0];
      expect(firstImport, entry).toBe(`import '${path}';`);
    }
  });

  it('turn allocation-site pretenuring off unless the command line set it, in any spelling V8 takes', () => {
    expect(v8FlagsFor([])).toEqual(['--no-allocation-site-pretenuring']);
    expect(v8FlagsFor(['--heap-growing-percent=120', '--cpu-prof'])).toEqual(['--no-allocation-site-pretenuring']);
    for (const explicit of ['--allocation-site-pretenuring', '--no-allocation-site-pretenuring', '--noallocation-site-pretenuring', '-allocation-site-pretenuring', '--no_allocation_site_pretenuring']) {
      expect(v8FlagsFor([explicit]), explicit).toEqual([]);
    }
  });

  it('are flags this node knows (V8 reports an unknown one on stderr and ignores it)', () => {
    const script = "import { v8FlagsFor } from './subgraphs/kit/v8-flags.ts'; import { setFlagsFromString } from 'node:v8'; for (const f of v8FlagsFor([])) setFlagsFromString(f);";
    const result = spawnSync(process.execPath, ['--allocation-site-pretenuring', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
