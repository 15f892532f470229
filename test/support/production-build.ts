import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { repoPath } from '../../subgraphs/kit/paths.ts';

/**
 * Compiles the gateway and subgraphs as `npm run build` does (tsconfig.build.json), into a folder
 * of its own under tmp/ (so test files never share one), and returns it with a remover. Tests that
 * start processes the way production starts them run the JavaScript from here, with plain node.
 */
export function productionBuild(): { dir: string; remove(): void } {
  const dir = repoPath(`tmp/test-build-${process.pid}`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', repoPath('tsconfig.build.json'), '--outDir', dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}${result.stderr}`);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
