import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { repoPath } from '../../subgraphs/kit/paths.ts';

/**
 * Compiles a TypeScript project (a tsconfig that extends tsconfig.build.json, as `npm run build`
 * does) into `outDir`, a folder of the caller's own under tmp/ (so test files and benchmark runs
 * never share one), and returns a remover for it.
 */
export function compileInto(tsconfig: string, outDir: string): () => void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', repoPath(tsconfig), '--outDir', outDir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`compiling ${tsconfig} failed:\n${result.stdout}${result.stderr}`);
  return () => rmSync(outDir, { recursive: true, force: true });
}

/**
 * The gateway and subgraphs compiled as `npm run build` compiles them. Tests that start processes
 * the way production starts them run the JavaScript from here, with plain node.
 */
export function productionBuild(): { dir: string; remove(): void } {
  const dir = repoPath(`tmp/test-build-${process.pid}`);
  return { dir, remove: compileInto('tsconfig.build.json', dir) };
}
