import { badInput } from '../kit/errors.ts';

/**
 * Saleor's global IDs: base64 of "<Type>:<pk>", where pk is an integer or (orders) a UUID.
 * "UHJvZHVjdDo3Mg==" is "Product:72".
 */
export type NodeType = 'Product' | 'ProductVariant' | 'Category' | 'Collection' | 'Order' | 'OrderLine' | 'User' | 'Channel';

export const toGlobalId = (type: NodeType, pk: number | string): string =>
  Buffer.from(`${type}:${pk}`).toString('base64');

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const PK = /^(\d{1,18}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
const DECODED = /^([A-Za-z]+):(.+)$/;

/**
 * The pk inside `id`, which must be an ID of `expected`. Like Saleor's `from_global_id_or_error`
 * with `raise_error`: garbage is "Invalid ID: <id>.", another type is
 * "Invalid ID: <id>. Expected: Product, received: Order." (as BAD_USER_INPUT, so the kit's error
 * redaction lets the message through).
 */
export function fromGlobalId(id: string, expected: NodeType, field = 'id'): string {
  const decoded = id.length <= 200 && BASE64.test(id) ? DECODED.exec(Buffer.from(id, 'base64').toString('utf8')) : null;
  if (!decoded || !PK.test(decoded[2]!)) throw badInput(`Invalid ID: ${id}.`, field);
  const [, type, pk] = decoded;
  if (type !== expected) throw badInput(`Invalid ID: ${id}. Expected: ${expected}, received: ${type}.`, field);
  return pk!.toLowerCase();
}

/** Every ID of a list filter (`ids`, `categories`, ...), each checked like `fromGlobalId`. */
export const fromGlobalIds = (ids: readonly string[], expected: NodeType, field: string): string[] =>
  ids.map((id) => fromGlobalId(id, expected, field));
