import type { PageArgs } from '../kit/connection.ts';
import { badInput } from '../kit/errors.ts';
import type { CategoryRecord, OrderLineRecord, OrderRecord, UserRecord } from './catalog.ts';
import { fromGlobalId, toGlobalId } from './ids.ts';
import type { SaleorContext } from './loaders.ts';
import { scaleTaxed, sumTaxed, taxedFromGross } from './money.ts';
import * as store from './store.ts';
import type {
  CategoryQuery,
  CollectionInChannel,
  CollectionQuery,
  OrderQuery,
  ProductInChannel,
  ProductQuery,
  VariantInChannel,
} from './store.ts';

/*
 * Resolvers of the Saleor stand-in. Parents are catalog records; channel-scoped ones carry the
 * channel they were read in (store.InChannel), which is how a Product fetched through
 * `_entities` with `{ id, channel }` comes back priced in that channel.
 */

type Ctx = SaleorContext;
type Channel = { channel?: string | null };
type Reference = { id: string };
type ChannelReference = Reference & Channel;
type OrderLineInOrder = OrderLineRecord & { order: OrderRecord };

/** Saleor's `validate_one_of_args_is_in_query`: exactly one of the lookup arguments. */
function exactlyOne(args: Record<string, string | null | undefined>): void {
  const given = Object.keys(args).filter((name) => Boolean(args[name]));
  if (given.length > 1) {
    throw badInput(`Argument '${given[0]}' cannot be combined with ${given.slice(1).map((n) => `'${n}'`).join(', ')}`, given[1]);
  }
  if (given.length === 0) {
    throw badInput(`At least one of arguments is required: ${Object.keys(args).map((n) => `'${n}'`).join(', ')}.`);
  }
}

/** Saleor returns rich text as an EditorJS document serialised into a JSONString. */
const editorJs = (text: string) =>
  JSON.stringify({ time: 1736150400000, blocks: [{ id: 'description', type: 'paragraph', data: { text } }], version: '2.24.3' });

const MEDIA_URL = 'https://media.saleor-standin.example';
/** Saleor serves thumbnails in these sizes and rounds a requested size up to the next one. */
const THUMBNAIL_SIZES = [32, 64, 128, 256, 512, 1024, 2048, 4096];

function image(kind: string, slug: string, alt: string, args: { size?: number | null; format?: string | null }) {
  const size = args.size ? (THUMBNAIL_SIZES.find((s) => s >= args.size!) ?? 4096) : null;
  const extension = args.format === 'AVIF' ? 'avif' : args.format === 'WEBP' ? 'webp' : 'png';
  return { url: `${MEDIA_URL}/${kind}/${slug}${size ? `-${size}` : ''}.${extension}`, alt };
}

const productKey = (id: string, channel: string | null | undefined) => ({
  channel: store.channelOrDefault(channel),
  pk: fromGlobalId(id, 'Product'),
});

export const resolvers = {
  Query: {
    products: (_: unknown, args: ProductQuery & PageArgs & Channel) =>
      store.listProducts(store.channelOrDefault(args.channel), args, args),

    product: async (_: unknown, args: { id?: string | null; slug?: string | null } & Channel, ctx: Ctx) => {
      exactlyOne({ id: args.id, slug: args.slug });
      if (args.id) return ctx.loaders.products.load(productKey(args.id, args.channel));
      return store.productBySlug(store.channelOrDefault(args.channel), args.slug!);
    },

    productVariant: async (_: unknown, args: { id?: string | null; sku?: string | null } & Channel, ctx: Ctx) => {
      exactlyOne({ id: args.id, sku: args.sku });
      const channel = store.channelOrDefault(args.channel);
      if (args.id) return ctx.loaders.variants.load({ channel, pk: fromGlobalId(args.id, 'ProductVariant') });
      return store.variantBySku(channel, args.sku!);
    },

    category: async (_: unknown, args: { id?: string | null; slug?: string | null }, ctx: Ctx) => {
      exactlyOne({ id: args.id, slug: args.slug });
      if (args.id) return ctx.loaders.categories.load(fromGlobalId(args.id, 'Category'));
      return store.categoryBySlug(args.slug!);
    },

    categories: (_: unknown, args: CategoryQuery & PageArgs) => store.listCategories(args, args),

    collection: async (_: unknown, args: { id?: string | null; slug?: string | null } & Channel, ctx: Ctx) => {
      exactlyOne({ id: args.id, slug: args.slug });
      const channel = store.channelOrDefault(args.channel);
      if (args.id) return ctx.loaders.collections.load({ channel, pk: fromGlobalId(args.id, 'Collection') });
      return store.collectionBySlug(channel, args.slug!);
    },

    collections: (_: unknown, args: CollectionQuery & PageArgs & Channel) =>
      store.listCollections(store.channelOrDefault(args.channel), args, args),

    // Orders are not channel-defaulted: without `channel` they span every channel, as in Saleor.
    orders: (_: unknown, args: OrderQuery & PageArgs) => store.listOrders(args, args),

    order: async (_: unknown, args: { id?: string | null }, ctx: Ctx) => {
      exactlyOne({ id: args.id });
      return ctx.loaders.orders.load(fromGlobalId(args.id!, 'Order'));
    },

    user: async (_: unknown, args: { id?: string | null; email?: string | null }, ctx: Ctx) => {
      exactlyOne({ id: args.id, email: args.email });
      if (args.id) return ctx.loaders.users.load(fromGlobalId(args.id, 'User'));
      return ctx.loaders.usersByEmail.load(args.email!);
    },
  },

  Product: {
    // The planner sends `{ id, channel }`; a missing channel gets the default one.
    __resolveReference: (ref: ChannelReference, ctx: Ctx) => ctx.loaders.products.load(productKey(ref.id, ref.channel)),
    id: (p: ProductInChannel) => toGlobalId('Product', p.pk),
    description: (p: ProductInChannel) => editorJs(p.description),
    category: (p: ProductInChannel, _: unknown, ctx: Ctx) => ctx.loaders.categories.load(String(p.categoryPk)),
    defaultVariant: (p: ProductInChannel, _: unknown, ctx: Ctx) =>
      ctx.loaders.variants.load({ channel: p.channel, pk: String(p.variantPks[0]) }),
    thumbnail: (p: ProductInChannel, args: { size?: number | null; format?: string | null }) =>
      image('products', p.slug, p.name, args),
    pricing: (p: ProductInChannel) => store.productPricing(p),
    isAvailable: (p: ProductInChannel) => store.isAvailable(p),
    isAvailableForPurchase: (p: ProductInChannel) => store.isAvailableForPurchase(p),
    variants: (p: ProductInChannel, _: unknown, ctx: Ctx) =>
      Promise.all(p.variantPks.map((pk) => ctx.loaders.variants.load({ channel: p.channel, pk: String(pk) }))),
    productVariants: (p: ProductInChannel, args: PageArgs) => store.listVariantsOf(p, args),
    // Only the collections published in the product's channel.
    collections: async (p: ProductInChannel, _: unknown, ctx: Ctx) => {
      const found = await Promise.all(
        p.collectionPks.map((pk) => ctx.loaders.collections.load({ channel: p.channel, pk: String(pk) })),
      );
      return found.filter((c) => c !== null);
    },
  },

  ProductVariant: {
    __resolveReference: (ref: ChannelReference, ctx: Ctx) =>
      ctx.loaders.variants.load({ channel: store.channelOrDefault(ref.channel), pk: fromGlobalId(ref.id, 'ProductVariant') }),
    id: (v: VariantInChannel) => toGlobalId('ProductVariant', v.pk),
    product: (v: VariantInChannel, _: unknown, ctx: Ctx) =>
      ctx.loaders.products.load({ channel: v.channel, pk: String(v.productPk) }),
    trackInventory: () => true,
    pricing: (v: VariantInChannel) => store.variantPricing(v),
    quantityAvailable: (v: VariantInChannel) => v.quantity,
  },

  Category: {
    __resolveReference: (ref: Reference, ctx: Ctx) => ctx.loaders.categories.load(fromGlobalId(ref.id, 'Category')),
    id: (c: CategoryRecord) => toGlobalId('Category', c.pk),
    description: (c: CategoryRecord) => editorJs(c.description),
    parent: (c: CategoryRecord, _: unknown, ctx: Ctx) => (c.parentPk === null ? null : ctx.loaders.categories.load(String(c.parentPk))),
    level: (c: CategoryRecord) => store.categoryLevel(c),
    products: (c: CategoryRecord, args: ProductQuery & PageArgs & Channel) =>
      store.listProducts(store.channelOrDefault(args.channel), { ...args, categoryPk: c.pk }, args),
    children: (c: CategoryRecord, args: PageArgs) => store.listCategories({ parentPk: c.pk }, args),
    backgroundImage: (c: CategoryRecord, args: { size?: number | null; format?: string | null }) =>
      image('categories', c.slug, c.name, args),
  },

  Collection: {
    __resolveReference: (ref: ChannelReference, ctx: Ctx) =>
      ctx.loaders.collections.load({ channel: store.channelOrDefault(ref.channel), pk: fromGlobalId(ref.id, 'Collection') }),
    id: (c: CollectionInChannel) => toGlobalId('Collection', c.pk),
    description: (c: CollectionInChannel) => editorJs(c.description),
    products: (c: CollectionInChannel, args: ProductQuery & PageArgs) =>
      store.listProducts(c.channel, { ...args, collectionPk: c.pk }, args),
    backgroundImage: (c: CollectionInChannel, args: { size?: number | null; format?: string | null }) =>
      image('collections', c.slug, c.name, args),
  },

  User: {
    // Saleor's User has two keys: `{ id }` and `{ email }`.
    __resolveReference: (ref: { id?: string; email?: string }, ctx: Ctx) => {
      if (ref.id) return ctx.loaders.users.load(fromGlobalId(ref.id, 'User'));
      return ref.email ? ctx.loaders.usersByEmail.load(ref.email) : null;
    },
    id: (u: UserRecord) => toGlobalId('User', u.pk),
    orders: (u: UserRecord, args: PageArgs) => store.listOrders({ userPk: u.pk }, args),
  },

  Order: {
    __resolveReference: (ref: Reference, ctx: Ctx) => ctx.loaders.orders.load(fromGlobalId(ref.id, 'Order')),
    id: (o: OrderRecord) => toGlobalId('Order', o.pk),
    user: (o: OrderRecord, _: unknown, ctx: Ctx) => (o.userPk === null ? null : ctx.loaders.users.load(String(o.userPk))),
    channel: (o: OrderRecord) => store.channelBySlug(o.channel),
    lines: (o: OrderRecord): OrderLineInOrder[] => o.lines.map((line) => ({ ...line, order: o })),
    subtotal: (o: OrderRecord) => orderSubtotal(o),
    shippingPrice: (o: OrderRecord) => taxedFromGross(o.shippingCents, o.currency, o.taxRate),
    total: (o: OrderRecord) => sumTaxed([orderSubtotal(o), taxedFromGross(o.shippingCents, o.currency, o.taxRate)], o.currency),
  },

  OrderLine: {
    id: (l: OrderLineInOrder) => toGlobalId('OrderLine', l.pk),
    productVariantId: (l: OrderLineInOrder) => toGlobalId('ProductVariant', l.variantPk),
    unitPrice: (l: OrderLineInOrder) => lineUnitPrice(l),
    totalPrice: (l: OrderLineInOrder) => scaleTaxed(lineUnitPrice(l), l.quantity),
    variant: (l: OrderLineInOrder, _: unknown, ctx: Ctx) =>
      ctx.loaders.variants.load({ channel: l.order.channel, pk: String(l.variantPk) }),
  },

  Channel: {
    id: (c: { pk: number }) => toGlobalId('Channel', c.pk),
  },
};

const lineUnitPrice = (l: OrderLineInOrder) => taxedFromGross(l.unitGrossCents, l.order.currency, l.taxRate);

/** Line totals are unit prices times quantity (net and tax too), so they always add up. */
const orderSubtotal = (o: OrderRecord) =>
  sumTaxed(
    o.lines.map((l) => scaleTaxed(lineUnitPrice({ ...l, order: o }), l.quantity)),
    o.currency,
  );
