import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { BOOTSTRAP_ROLES_SQL, OWNER_ROLE } from './roles.ts';

export interface EmbeddedPostgres {
  url: string;
  close(): Promise<void>;
}

let running: Promise<EmbeddedPostgres> | undefined;

/**
 * PGlite (WASM PostgreSQL) behind the wire protocol, so the same `pg` code and the same
 * migrations run as against a real server. PGlite is a single session: the whole process must
 * reach it through one pooled connection (see `embedded` in deps.ts), which serialises
 * transactions; its data lives under `dataDir`, so a restart keeps it.
 */
export function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  running ??= (async () => {
    const dir = resolve(dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    const db = await PGlite.create({ dataDir: dir, extensions: { vector } });
    await db.exec(BOOTSTRAP_ROLES_SQL);
    // pgvector, created here by the superuser as db:setup does on PostgreSQL: it is not a trusted
    // extension, so migrations (as the owner) could not, and kit.vector_column would fall back to
    // exact cosine without an index (kit/migrations/002_vectors.sql).
    await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
    await db.exec(`GRANT CREATE ON DATABASE postgres TO ${OWNER_ROLE}`);
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
    await server.start();
    const conn = server.getServerConn();
    return {
      url: `postgresql://postgres@${conn}/postgres`,
      async close() {
        await server.stop();
        await db.close();
        running = undefined;
      },
    };
  })();
  return running;
}
