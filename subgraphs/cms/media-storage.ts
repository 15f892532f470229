import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Where the bytes of media assets live. Keys are `<tenant id>/<asset id>` (both UUIDs, checked),
 * so a key can never reach outside the store. The database row is the source of truth for the
 * asset; storage only holds bytes.
 */
export interface MediaStorage {
  /** Streams `body` to `key`; the object appears only when the stream completed. */
  put(key: string, body: Readable): Promise<void>;
  /** A stream of the bytes, or null when the object does not exist. */
  get(key: string): Promise<Readable | null>;
  /** Idempotent. */
  delete(key: string): Promise<void>;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const KEY = new RegExp(`^${UUID}/${UUID}$`);

export const mediaKey = (tenantId: string, assetId: string) => {
  const key = `${tenantId}/${assetId}`.toLowerCase();
  if (!KEY.test(key)) throw new Error('invalid media key');
  return key;
};

/**
 * The default: files under `<root>/<tenant>/<asset>` (root is `DATA_DIR/media`). A write goes to
 * a temporary file renamed into place once complete, so a failed or cut-off upload leaves no
 * object behind.
 */
export class DiskMediaStorage implements MediaStorage {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string) {
    if (!KEY.test(key)) throw new Error('invalid media key');
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error('invalid media key');
    return path;
  }

  async put(key: string, body: Readable) {
    const path = this.path(key);
    const partial = `${path}.${process.pid}.${Date.now()}.part`;
    await mkdir(dirname(path), { recursive: true });
    try {
      await pipeline(body, createWriteStream(partial, { flags: 'wx' }));
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async get(key: string) {
    const path = this.path(key);
    try {
      if (!(await stat(path)).isFile()) return null;
    } catch {
      return null;
    }
    return createReadStream(path);
  }

  async delete(key: string) {
    await rm(this.path(key), { force: true });
  }
}

/** The storage of a process: the disk under DATA_DIR (S3-compatible storage is not built yet). */
export function createMediaStorage(config: { DATA_DIR: string }): MediaStorage {
  return new DiskMediaStorage(resolve(config.DATA_DIR, 'media'));
}
