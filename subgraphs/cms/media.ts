import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { fileTypeFromBuffer } from 'file-type';
import { imageSize } from 'image-size';
import { CacheGenerations } from '../kit/cache.ts';
import type { Config } from '../kit/config.ts';
import type { CmsSettings } from './settings.ts';
import type { SubgraphDeps } from '../kit/deps.ts';
import { inputError } from '../kit/errors.ts';
import { jsonLimitsOf, multipartJsonFieldsProblem } from '../kit/json-limits.ts';
import type { Role } from '../kit/principal.ts';
import { isUuid } from '../kit/formats.ts';
import type { CmsInputError } from './blocks.ts';
import type { MediaAssetUpdateInput } from './__generated__/resolvers-types.ts';
import type { CmsContext } from './loaders.ts';
import { createMediaStorage, mediaKey, type MediaStorage } from './media-storage.ts';
import { fail, ok, type Outcome } from './pages.ts';
import * as store from './store.ts';

/*
 * The media library's HTTP side, on the CMS subgraph itself (the gateway's
 * `/api/brain/wagtail/media` will forward here):
 *   POST /media                                   multipart upload, editors and up (JWT)
 *   GET  /media/<tenant>/<asset id>/<filename>    the bytes, public, cached for a year
 * The type is detected from the bytes (file-type) against an allow-list, whatever the name or
 * the declared content type say; the size limit is MEDIA_MAX_BYTES; the SHA-256 is computed
 * while streaming to storage, never holding the whole file in memory.
 *
 * Visibility: like Wagtail's media of published pages, bytes are public to whoever has the URL,
 * and the URL holds the asset's random UUID, so it cannot be guessed or listed. Metadata
 * (`mediaAssets`, `mediaAsset`) needs a member of the tenant.
 */

/** Detected MIME type -> kind. SVG is deliberately absent (script in an image). */
export const ALLOWED_TYPES: Readonly<Record<string, 'image' | 'document'>> = {
  'image/png': 'image',
  'image/jpeg': 'image',
  'image/gif': 'image',
  'image/webp': 'image',
  'image/avif': 'image',
  'application/pdf': 'document',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'document',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'document',
};

const EDITOR_ROLES: readonly Role[] = ['owner', 'admin', 'editor'];
/** Bytes read before deciding the type (zip-based documents need more than a magic number). */
const SNIFF_BYTES = 64 * 1024;
/** Bytes kept for reading image dimensions (JPEG's size can follow large metadata). */
const DIMENSION_BYTES = 512 * 1024;
const MAX_TAGS = 20;
export const IMMUTABLE = 'public, max-age=31536000, immutable';

const storages = new Map<string, MediaStorage>();
export function mediaStorage(config: Pick<Config, 'DATA_DIR'>): MediaStorage {
  let storage = storages.get(config.DATA_DIR);
  if (!storage) {
    storage = createMediaStorage(config);
    storages.set(config.DATA_DIR, storage);
  }
  return storage;
}

/** Where the gateway serves the bytes (the REST shim's `wagtailMediaFile`, streamed from `GET /media/...` here). */
export const GATEWAY_MEDIA_PATH = '/api/brain/wagtail/media/files';

/**
 * Where clients fetch an asset's bytes (`MediaAsset.url`, the upload's `url`). With
 * MEDIA_PUBLIC_URL: `<MEDIA_PUBLIC_URL>/media/<tenant>/<asset>/<file>` (a CDN or proxy in front of
 * this subgraph's `/media`). Without: the path on the gateway, `/api/brain/wagtail/media/files/
 * <tenant>/<asset>/<file>`, relative to the gateway's address (the one public port; this
 * subgraph's own address is internal). The REST shim makes it absolute on the request's host.
 */
export function mediaUrl(config: Pick<CmsSettings, 'MEDIA_PUBLIC_URL'>, asset: Pick<store.AssetRow, 'tenant_id' | 'id' | 'filename'>): string {
  const path = `${asset.tenant_id}/${asset.id}/${encodeURIComponent(asset.filename)}`;
  return config.MEDIA_PUBLIC_URL ? `${config.MEDIA_PUBLIC_URL.replace(/\/+$/, '')}/media/${path}` : `${GATEWAY_MEDIA_PATH}/${path}`;
}

/** The JSON the upload endpoint answers with (the GraphQL MediaAsset's fields). */
export const assetJson = (config: Pick<CmsSettings, 'MEDIA_PUBLIC_URL'>, asset: store.AssetRow) => ({
  id: asset.id,
  kind: asset.kind.toUpperCase(),
  filename: asset.filename,
  mimeType: asset.mime_type,
  size: Number(asset.size_bytes),
  checksum: asset.checksum,
  width: asset.width,
  height: asset.height,
  altText: asset.alt_text,
  tags: asset.tags,
  url: mediaUrl(config, asset),
  createdAt: asset.created_at,
});

/** A safe stored name: the uploaded name's stem (letters, digits, `._-`) with the detected extension. */
export function safeFilename(uploaded: string | undefined, ext: string): string {
  const base = (uploaded ?? '').split(/[\\/]/).pop() ?? '';
  const stem = base
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 150);
  return `${stem || 'file'}.${ext}`;
}

function parseTags(raw: string | string[] | undefined): string[] | string {
  const values = (Array.isArray(raw) ? raw : raw ? [raw] : []).flatMap((v) => v.split(','));
  const tags = [...new Set(values.map((t) => t.trim().toLowerCase()).filter(Boolean))];
  if (tags.length > MAX_TAGS) return `At most ${MAX_TAGS} tags.`;
  if (tags.some((t) => t.length > 50)) return 'Tags are at most 50 characters.';
  return tags;
}

function normalizeTags(tags: readonly string[]): string[] | CmsInputError {
  const parsed = parseTags([...tags]);
  return typeof parsed === 'string' ? inputError('tags', parsed, 'INVALID') : parsed;
}

const problem = (reply: FastifyReply, status: number, error: string) => reply.code(status).send({ error });

export async function registerMediaRoutes(app: FastifyInstance, deps: SubgraphDeps<CmsSettings>) {
  const { config, settings, db, log } = deps;
  const storage = mediaStorage(config);
  const generations = new CacheGenerations(deps.redis, config.REDIS_PREFIX, 'cms');
  await app.register(multipart, {
    // One file, a few small fields; the size limit is checked on the streamed bytes.
    limits: { files: 1, fields: 10, fieldSize: 4096, parts: 12, headerPairs: 200, fileSize: settings.MEDIA_MAX_BYTES },
    throwFileSizeLimit: false,
  });

  app.post('/media', async (request, reply) => {
    const principal = await deps.verifyToken(request.headers.authorization);
    if (!principal.accountId || !principal.tenantId) return problem(reply, 401, 'You must be logged in.');
    if (!principal.roles.some((r) => EDITOR_ROLES.includes(r))) return problem(reply, 403, 'Uploading media needs an editor.');
    if (!request.isMultipart()) return problem(reply, 415, 'Send multipart/form-data with one "file" part.');

    const part = await request.file();
    if (!part) return problem(reply, 400, 'No file in the upload.');
    // A field sent as application/json (@fastify/multipart parses it) gets a JSON body's limits.
    const jsonProblem = multipartJsonFieldsProblem(part.fields, jsonLimitsOf(config));
    if (jsonProblem) {
      for await (const chunk of part.file) void chunk; // discard the file, so the request completes
      return problem(reply, 400, jsonProblem);
    }
    const query = request.query as Record<string, string | string[] | undefined>;
    const field = (name: string) => {
      const value = part.fields[name];
      const entry = Array.isArray(value) ? value[0] : value;
      return entry && entry.type === 'field' ? String(entry.value) : undefined;
    };
    // `title` is what Wagtail's image and document forms call it (legacy clients through the gateway).
    const altText = (field('altText') ?? field('alt') ?? field('title') ?? (typeof query.altText === 'string' ? query.altText : undefined))?.trim() || null;
    const tags = parseTags(field('tags') ?? query.tags);

    const reader = part.file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const drain = async () => {
      while (!(await reader.next()).done) {
        /* discard the rest, so the request completes */
      }
    };
    if (altText && altText.length > 500) return (await drain(), problem(reply, 400, 'altText is at most 500 characters.'));
    if (typeof tags === 'string') return (await drain(), problem(reply, 400, tags));

    // The type from the first bytes, before anything is stored.
    const head: Buffer[] = [];
    let headBytes = 0;
    let ended = false;
    while (headBytes < SNIFF_BYTES) {
      const next = await reader.next();
      if (next.done) {
        ended = true;
        break;
      }
      head.push(next.value);
      headBytes += next.value.length;
    }
    const detected = await fileTypeFromBuffer(Buffer.concat(head)).catch(() => undefined);
    const kind = detected ? ALLOWED_TYPES[detected.mime] : undefined;
    if (!detected || !kind) {
      await drain();
      if (part.file.truncated) return problem(reply, 413, `The file is larger than ${settings.MEDIA_MAX_BYTES} bytes.`);
      return problem(reply, 415, `This type of file is not accepted${detected ? ` (${detected.mime})` : ''}: upload PNG, JPEG, GIF, WebP or AVIF images, or PDF or Office documents.`);
    }

    const id = randomUUID();
    const key = mediaKey(principal.tenantId, id);
    const hash = createHash('sha256');
    let size = 0;
    const start: Buffer[] = [];
    let startBytes = 0;
    const observe = (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
      if (kind === 'image' && startBytes < DIMENSION_BYTES) {
        start.push(chunk);
        startBytes += chunk.length;
      }
      return chunk;
    };
    async function* bytes() {
      for (const chunk of head) yield observe(chunk);
      if (ended) return;
      for (let next = await reader.next(); !next.done; next = await reader.next()) yield observe(next.value);
    }
    await storage.put(key, Readable.from(bytes()));
    if (part.file.truncated) {
      await storage.delete(key);
      return problem(reply, 413, `The file is larger than ${settings.MEDIA_MAX_BYTES} bytes.`);
    }

    let width: number | null = null;
    let height: number | null = null;
    if (kind === 'image') {
      try {
        const dimensions = imageSize(Buffer.concat(start));
        width = dimensions.width || null;
        height = dimensions.height || null;
      } catch {
        /* dimensions unknown */
      }
    }
    try {
      const asset = await db.withTenant({ tenantId: principal.tenantId, accountId: principal.accountId }, (tx) =>
        store.insertAsset(tx, {
          id,
          kind,
          filename: safeFilename(part.filename, detected.ext),
          mimeType: detected.mime,
          size,
          checksum: hash.digest('hex'),
          width,
          height,
          altText,
          tags,
          storageKey: key,
          uploadedBy: principal.accountId,
        }),
      );
      await generations.bump(principal.tenantId);
      log.info({ tenant: principal.tenantId, asset: id, mime: detected.mime, size }, 'media uploaded');
      return reply.code(201).send(assetJson(settings, asset));
    } catch (error) {
      await storage.delete(key).catch(() => undefined);
      throw error;
    }
  });

  // The file name is Fastify's wildcard, not a `:filename` parameter: a parameter longer than
  // Fastify's maxParamLength (100 characters) would be a 414, and a stored name can be longer.
  app.get<{ Params: { tenant: string; asset: string; '*': string } }>('/media/:tenant/:asset/*', async (request, reply) => {
    const { tenant, asset, '*': filename } = request.params;
    if (!isUuid(tenant) || !isUuid(asset)) return problem(reply, 404, 'Not found.');
    const [row] = await db.withTenant({ tenantId: tenant.toLowerCase(), accountId: null }, (tx) => store.assetsByIds(tx, [asset.toLowerCase()]));
    if (!row || row.filename !== filename) return problem(reply, 404, 'Not found.');
    const etag = `"${row.checksum}"`;
    void reply.header('cache-control', IMMUTABLE).header('etag', etag);
    const match = request.headers['if-none-match'];
    if (match && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) return reply.code(304).send();
    const stream = await storage.get(row.storage_key);
    if (!stream) {
      log.error({ tenant, asset }, 'media bytes missing from storage');
      return problem(reply, 404, 'Not found.');
    }
    return reply
      .header('content-type', row.mime_type)
      .header('content-length', row.size_bytes)
      .header('content-disposition', `${row.kind === 'image' ? 'inline' : 'attachment'}; filename="${row.filename}"`)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(stream);
  });
}

// --- GraphQL side ------------------------------------------------------------------------

export async function updateAsset(ctx: CmsContext, id: string, input: MediaAssetUpdateInput): Promise<Outcome<store.AssetRow>> {
  if (!isUuid(id)) return fail('id', 'No such media asset.', 'NOT_FOUND');
  const fields: { altText?: string | null; tags?: string[] } = {};
  if (input.altText !== undefined) {
    fields.altText = input.altText?.trim() || null;
    if (fields.altText && fields.altText.length > 500) return fail('altText', 'At most 500 characters.', 'INVALID');
  }
  if (input.tags != null) {
    const tags = normalizeTags(input.tags);
    if (!Array.isArray(tags)) return { value: null, errors: [tags] };
    fields.tags = tags;
  }
  const row = await ctx.tx((tx) => store.updateAsset(tx, id, fields));
  return row ? ok(row) : fail('id', 'No such media asset.', 'NOT_FOUND');
}

/** Deletes the row, then (after the commit) the bytes. */
export async function deleteAsset(ctx: CmsContext, id: string): Promise<Outcome<string>> {
  if (!isUuid(id)) return fail('id', 'No such media asset.', 'NOT_FOUND');
  const deleted = await ctx.tx((tx) => store.deleteAsset(tx, id));
  if (!deleted) return fail('id', 'No such media asset.', 'NOT_FOUND');
  await mediaStorage(ctx.deps.config)
    .delete(deleted.storage_key)
    .catch((error: Error) => ctx.log.warn({ err: error.message, asset: id }, 'media bytes not deleted'));
  return ok(id);
}
