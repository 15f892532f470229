import { crc32, deflateSync } from 'node:zlib';
import type { Step } from '../../gateway/rest/pagination.ts';

/** A valid PNG of the given size (8-bit RGB), padded past `minBytes` with a tEXt chunk when asked. */
export function png(width: number, height: number, minBytes = 0): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let i = 0; i < rows.length; i++) rows[i] = i % 251;
  const extra = minBytes > 0 ? [chunk('tEXt', Buffer.concat([Buffer.from('Comment\0'), Buffer.alloc(minBytes, 'x')]))] : [];
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), ...extra, chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** A list of `total` rows behind the REST shim's pagination, with opaque cursors the shim never looks into. */
export function fakeList(total: number) {
  const cursor = (i: number) => `opaque-${(i * 7919).toString(36)}`;
  const calls: { first: number; after: string | null }[] = [];
  const step = async (first: number, after: string | null): Promise<Step> => {
    calls.push({ first, after });
    const start = after === null ? 0 : [...Array(total).keys()].find((i) => cursor(i) === after)! + 1;
    const end = Math.min(total, start + first);
    return { endCursor: end > start ? cursor(end - 1) : null, hasNextPage: end < total, totalCount: total };
  };
  return { step, calls, cursor };
}

/** A minimal PDF (what the media library accepts as a document). */
export const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

/** A multipart upload form: `fields` first, then the file (its declared name and type). */
export function uploadForm(file: Buffer, options: { filename?: string; type?: string; fields?: Record<string, string> } = {}): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(options.fields ?? {})) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(file)], { type: options.type ?? 'application/octet-stream' }), options.filename ?? 'upload.bin');
  return form;
}
