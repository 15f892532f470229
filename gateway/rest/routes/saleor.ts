import { parsePageSize } from '../pagination.ts';
import { named, type RestCall, type RestRoute } from '../types.ts';
import { single as lastValue } from '../query.ts';

/*
 * `/api/brain/saleor/*`: the catalog from Saleor (the stand-in or a real Saleor) through the
 * gateway. Saleor pages with opaque cursors, and so does this route: `next` carries `after`.
 *
 * Channel: `?channel=` when given; otherwise the caller's tenant's channel (Tenant.saleorChannel)
 * for a logged-in caller, and Saleor's default channel for an anonymous one.
 */

const PRODUCT = named('Product', {
  type: 'object',
  properties: {
    id: { type: 'string', description: "Saleor's global ID" },
    name: { type: 'string' },
    slug: { type: 'string' },
    description: { type: ['string', 'null'], description: 'Plain text of the EditorJS description (paragraphs separated by blank lines)' },
    category: {
      type: ['object', 'null'],
      properties: { id: { type: 'string' }, name: { type: 'string' }, slug: { type: 'string' } },
      required: ['id', 'name', 'slug'],
    },
    price: {
      type: ['object', 'null'],
      description: 'The lowest gross price in the channel',
      properties: { amount: { type: 'number' }, currency: { type: 'string' } },
      required: ['amount', 'currency'],
    },
    thumbnail: { type: ['string', 'null'], format: 'uri' },
  },
  required: ['id', 'name', 'slug', 'description', 'category', 'price', 'thumbnail'],
});

const PRODUCT_FIELDS = `fragment RestProduct on Product {
  id name slug description
  category { id name slug }
  pricing { priceRange { start { gross { amount currency } } } }
  thumbnail { url }
}`;

/** EditorJS JSON (Saleor's rich text) -> plain text. */
function plainText(description: string | null): string | null {
  if (!description) return null;
  try {
    const doc = JSON.parse(description) as { blocks?: { data?: { text?: unknown; items?: unknown } }[] };
    const texts = (doc.blocks ?? []).flatMap((b) => {
      if (typeof b.data?.text === 'string') return [b.data.text];
      if (Array.isArray(b.data?.items)) return b.data.items.filter((i): i is string => typeof i === 'string');
      return [];
    });
    return texts.join('\n\n');
  } catch {
    return description;
  }
}

const product = (node: any) => ({
  id: node.id,
  name: node.name,
  slug: node.slug,
  description: plainText(node.description),
  category: node.category ? { id: node.category.id, name: node.category.name, slug: node.category.slug } : null,
  price: node.pricing?.priceRange?.start?.gross ?? null,
  thumbnail: node.thumbnail?.url ?? null,
});

/** The last value of a query parameter; an empty one is none. */
const single = (value: string | string[] | undefined) => lastValue(value) || undefined;

/** `?channel=`, else the logged-in caller's tenant channel, else Saleor's default. */
async function channel(call: RestCall): Promise<string | null> {
  const asked = single(call.query.channel);
  if (asked) return asked;
  if (!call.principal.tenantId) return null;
  const data = await call.graphql<{ tenant: { saleorChannel: string } | null }>('query RestTenantChannel { tenant { saleorChannel } }');
  return data.tenant?.saleorChannel ?? null;
}

/** A Saleor product global ID is base64 of "Product:<pk>"; anything else is taken as a slug. */
const isProductId = (value: string) =>
  /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').toString('utf8').startsWith('Product:');

const CHANNEL = { schema: { type: 'string', maxLength: 100 }, description: "Saleor channel slug (default: your tenant's channel)" };

export const saleorRoutes: RestRoute[] = [
  {
    method: 'GET',
    path: '/saleor/products',
    id: 'saleorProductsList',
    tag: 'saleor',
    dialect: 'drf',
    auth: 'optional',
    summary: 'List products',
    description: 'The catalog is public. Pages with Saleor cursors: follow `next` (it carries `after`).',
    operation: `query RestProducts($channel: String, $search: String, $first: Int!, $after: String) {
      products(channel: $channel, search: $search, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ...RestProduct } }
      }
    }
    ${PRODUCT_FIELDS}`,
    root: 'products',
    query: {
      channel: CHANNEL,
      search: { schema: { type: 'string', maxLength: 200 }, description: 'Search in names and descriptions' },
      page_size: { schema: { type: 'integer', minimum: 1, maximum: 100 }, description: 'Results per page (default 20, at most 100)' },
      after: { schema: { type: 'string', maxLength: 500 }, description: 'Cursor from the previous page (set by `next`)' },
    },
    variables: async (call) => ({
      channel: await channel(call),
      search: single(call.query.search) ?? null,
      first: parsePageSize(call.query.page_size),
      after: single(call.query.after) ?? null,
    }),
    shape: (connection: any, call) => ({
      count: connection.totalCount,
      next: connection.pageInfo.hasNextPage ? call.link({ after: connection.pageInfo.endCursor }) : null,
      results: connection.edges.map((edge: any) => product(edge.node)),
    }),
    response: named('ProductList', {
      type: 'object',
      properties: { count: { type: 'integer' }, next: { type: ['string', 'null'], format: 'uri' }, results: { type: 'array', items: PRODUCT } },
      required: ['count', 'next', 'results'],
    }),
  },
  {
    method: 'GET',
    path: '/saleor/products/{id}',
    id: 'saleorProductsRetrieve',
    tag: 'saleor',
    dialect: 'drf',
    auth: 'optional',
    summary: 'One product, by Saleor ID or slug',
    operation: `query RestProduct($id: ID, $slug: String, $channel: String) {
      product(id: $id, slug: $slug, channel: $channel) { ...RestProduct }
    }
    ${PRODUCT_FIELDS}`,
    root: 'product',
    query: { channel: CHANNEL },
    variables: async (call) => {
      const key = call.params.id!;
      return { ...(isProductId(key) ? { id: key } : { slug: key }), channel: await channel(call) };
    },
    shape: product,
    response: PRODUCT,
  },
];
