import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Saleor 3.23's federation SDL: the read-only fixture in the workplace's `shared/saleor/`, beside
 * the repository (never copied into it). A clone made elsewhere (CI clones `.` into a scratch
 * folder) finds it beside the repository it was cloned from; BIZOSAAS_SHARED_DIR overrides both.
 */
const FILE = join('saleor', 'saleor-3.23-service-sdl.graphql');
const REPO = fileURLToPath(new URL('../../', import.meta.url));

function originCheckout(): string | null {
  try {
    const url = execFileSync('git', ['config', '--get', 'remote.origin.url'], { cwd: REPO, encoding: 'utf8' }).trim();
    const path = url.startsWith('file://') ? fileURLToPath(url) : url;
    // `git clone .` records the origin as `<path>/.`: resolve() normalises it.
    return isAbsolute(path) ? resolve(path) : null;
  } catch {
    return null;
  }
}

export function realSaleorSdlPath(): string {
  const origin = originCheckout();
  const candidates = [
    process.env.BIZOSAAS_SHARED_DIR,
    join(dirname(resolve(REPO)), 'shared'),
    origin ? join(dirname(origin), 'shared') : undefined,
  ].flatMap((dir) => (dir ? [join(dir, FILE)] : []));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`Saleor's SDL fixture not found (looked at ${candidates.join(', ')}); set BIZOSAAS_SHARED_DIR to the shared folder`);
  return found;
}

export const readRealSaleorSdl = () => readFileSync(realSaleorSdlPath(), 'utf8');
