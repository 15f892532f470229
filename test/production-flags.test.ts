import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { productionNodeFlags } from '../gateway/node-flags.ts';

const command = () => ['node', ...productionNodeFlags(), '--import', 'tsx', 'gateway/index.ts'];

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
    const result = spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
