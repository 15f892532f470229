import { existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The code runs from one of two trees: the TypeScript sources (tsx: `npm start`, tests, tools) or
// the production build (`npm run build`: the same tree compiled to JavaScript under build/, which
// production runs without a TypeScript loader). Code is loaded from the tree this file is in;
// data files (schema/, supergraph.yaml, migrations, package.json) are always read from the
// repository, where the build does not copy them.

const here = fileURLToPath(import.meta.url);

/** Root of the running code tree: the repository, or build/ in it. */
export const CODE_ROOT = join(dirname(here), '../..');

/** Extension of the running code's modules: `.ts` from source, `.js` from the build. */
export const CODE_EXT = extname(here);

/** The repository root: the nearest folder up with a package.json. */
export const REPO_ROOT = findPackageRoot(CODE_ROOT);

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** A path in the repository (data files: schema/, migrations, supergraph.yaml). */
export const repoPath = (relative: string) => join(REPO_ROOT, relative);
