import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, isProduction, type Config } from './config.ts';

/** The shortest AUTH_DELEGATION_SECRET accepted (32 characters: 192 bits of base64url and more). */
export const DELEGATION_SECRET_MIN_LENGTH = 32;

/**
 * The secret the agents subgraph presents to the auth subgraph's `POST /internal/delegate`
 * (AUTH_DELEGATION_SECRET, the same value in both processes). Required in production; in
 * development both processes read DATA_DIR/keys/delegation-secret, which the first to need it
 * creates (like the development signing key), so `npm start` and separately started processes
 * on one machine agree without configuration. Throws ConfigError naming the variable.
 */
export function delegationSecret(config: Pick<Config, 'NODE_ENV' | 'DATA_DIR'>, configured: string | undefined): string {
  if (configured) {
    if (configured.length < DELEGATION_SECRET_MIN_LENGTH) {
      throw new ConfigError(`Invalid configuration: AUTH_DELEGATION_SECRET: at least ${DELEGATION_SECRET_MIN_LENGTH} characters`);
    }
    return configured;
  }
  if (isProduction(config as Config)) {
    throw new ConfigError('Invalid configuration: AUTH_DELEGATION_SECRET: required when NODE_ENV=production');
  }
  return developmentSecret(resolve(config.DATA_DIR, 'keys', 'delegation-secret'));
}

function developmentSecret(path: string): string {
  const existing = readSecret(path);
  if (existing) return existing;
  mkdirSync(dirname(path), { recursive: true });
  // Written aside, then linked into place: link fails if another process got there first, and a
  // reader never sees a half-written file. The loser reads the winner's secret.
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, randomBytes(32).toString('base64url'), { mode: 0o600 });
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
  return readSecret(path)!;
}

function readSecret(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim() || null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
