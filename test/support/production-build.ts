import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
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

/** `npm run build`'s command: TypeScript's build mode on tsconfig.build.json (package.json). */
export const BUILD_SCRIPT = 'tsc -b tsconfig.build.json';

/**
 * The gateway and subgraphs compiled as `npm run build` compiles them (`tsc -b` on
 * tsconfig.build.json, here through a tsconfig of its own that only moves the output). Tests that
 * start processes the way production starts them run the JavaScript from here, with plain node.
 * `build()` runs the build again and returns what tsc said (`--verbose`).
 */
export function productionBuild(): { dir: string; build(): string; remove(): void } {
  const dir = repoPath(`tmp/test-build-${process.pid}`);
  const tsconfig = `${dir}.tsconfig.json`;
  mkdirSync(repoPath('tmp'), { recursive: true });
  writeFileSync(tsconfig, JSON.stringify({ extends: repoPath('tsconfig.build.json'), compilerOptions: { outDir: dir } }));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = () => {
    const result = spawnSync(process.execPath, [tsc, '-b', tsconfig, '--verbose'], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`npm run build (tsc -b) failed:\n${result.stdout}${result.stderr}`);
    return result.stdout;
  };
  try {
    build();
  } catch (error) {
    rmSync(tsconfig, { force: true });
    throw error;
  }
  return {
    dir,
    build,
    remove() {
      rmSync(dir, { recursive: true, force: true });
      rmSync(tsconfig, { force: true });
    },
  };
}
