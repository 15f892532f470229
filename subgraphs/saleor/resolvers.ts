import { badInput } from '../kit/errors.ts';
import type { Resolvers, ThumbnailFormatEnum } from './__generated__/resolvers-types.ts';
import { fromGlobalId, toGlobalId } from './ids.ts';
import type { OrderLineModel, OrderModel } from './mappers.ts';
import { scaleTaxed, sumTaxed, taxedFromGross } from './money.ts';
import * as orders from './order-mutations.ts';
import * as store from './store.ts';

/*
 * Resolvers of the Saleor stand-in. Parents are catalog records (mappers.ts); channel-scoped ones
 * carry the channel they were read in (store.InChannel), which is how a Product fetched through
 * `_entities` with `{ id, channel }` comes back priced in that channel.
 */

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

function image(kind: string, slug: string, alt: string, args: { size?: number | null; format?: ThumbnailFormatEnum | null }) {
  const size = args.size ? (THUMBNAIL_SIZES.find((s) => s >= args.size!) ?? 4096) : null;
  const extension = args.format === 'AVIF' ? 'avif' : args.format === 'WEBP' ? 'webp' : 'png';
  return { url: `${MEDIA_URL}/${kind}/${slug}${size ? `-${size}` : ''}.${extension}`, alt };
}

const productKey = (id: string, channel: string | null | undefined) => ({
  channel: store.channelOrDefault(channel),
  pk: fromGlobalId(id, 'Product'),
});

export const resolvers: Resolvers = {
  Query: {
    products: (_root, args) => store.listProducts(store.channelOrDefault(args.channel), args, args),

    product: async (_root, args, ctx) => {
      exactlyOne({ id: args.id, slug: args.slug });
      if (args.id) return ctx.loaders.products.load(productKey(args.id, args.channel));
      return store.productBySlug(store.channelOrDefault(args.channel), args.slug!);
    },

    productVariant: async (_root, args, ctx) => {
      exactlyOne({ id: args.id, sku: args.sku });
      const channel = store.channelOrDefault(args.channel);
      if (args.id) return ctx.loaders.variants.load({ channel, pk: fromGlobalId(args.id, 'ProductVariant') });
      return store.variantBySku(channel, args.sku!);
    },

    category: async (_root, args, ctx) => {
      exactlyOne({ id: args.id, slug: args.slug });
      if (args.id) return ctx.loaders.categories.load(fromGlobalId(args.id, 'Category'));
      return store.categoryBySlug(args.slug!);
    },

    categories: (_root, args) => store.listCategories(args, args),

    collection: async (_root, args, ctx) => {
      exactlyOne({ id: args.id, slug: args.slug });
      const channel = store.channelOrDefault(args.channel);
      if (args.id) return ctx.loaders.collections.load({ channel, pk: fromGlobalId(args.id, 'Collection') });
      return store.collectionBySlug(channel, args.slug!);
    },

    collections: (_root, args) => store.listCollections(store.channelOrDefault(args.channel), args, args),

    // Orders are not channel-defaulted: without `channel` they span every channel, as in Saleor.
    orders: (_root, args) => store.listOrders(args, args),

    order: async (_root, args, ctx) => {
      exactlyOne({ id: args.id });
      return ctx.loaders.orders.load(fromGlobalId(args.id!, 'Order'));
    },

    user: async (_root, args, ctx) => {
      exactlyOne({ id: args.id, email: args.email });
      if (args.id) return ctx.loaders.users.load(fromGlobalId(args.id, 'User'));
      return ctx.loaders.usersByEmail.load(args.email!);
    },
  },

  // Saleor's order mutations (order-mutations.ts); each change sends its webhooks.
  Mutation: {
    draftOrderCreate: (_root, args) => orders.draftOrderCreate(args.input),
    draftOrderComplete: (_root, args, ctx) => orders.withEvents(ctx.deps, orders.draftOrderComplete(args.id), ['ORDER_CREATED']),
    orderMarkAsPaid: (_root, args, ctx) =>
      orders.withEvents(ctx.deps, orders.orderMarkAsPaid(args.id), ['ORDER_FULLY_PAID', 'ORDER_UPDATED']),
    orderCancel: (_root, args, ctx) => orders.withEvents(ctx.deps, orders.orderCancel(args.id), ['ORDER_CANCELLED', 'ORDER_UPDATED']),
  },

  Product: {
    // The planner sends `{ id, channel }`; a missing channel gets the default one.
    __resolveReference: (ref, ctx) => ctx.loaders.products.load(productKey(ref.id, ref.channel)),
    id: (p) => toGlobalId('Product', p.pk),
    description: (p) => editorJs(p.description),
    category: (p, _args, ctx) => ctx.loaders.categories.load(String(p.categoryPk)),
    defaultVariant: (p, _args, ctx) => ctx.loaders.variants.load({ channel: p.channel, pk: String(p.variantPks[0]) }),
    thumbnail: (p, args) => image('products', p.slug, p.name, args),
    pricing: (p) => store.productPricing(p),
    isAvailable: (p) => store.isAvailable(p),
    isAvailableForPurchase: (p) => store.isAvailableForPurchase(p),
    // A variant is visible wherever its product is, so none of these is null (`!` only narrows).
    variants: async (p, _args, ctx) =>
      (await Promise.all(p.variantPks.map((pk) => ctx.loaders.variants.load({ channel: p.channel, pk: String(pk) })))).map(
        (v) => v!,
      ),
    productVariants: (p, args) => store.listVariantsOf(p, args),
    // Only the collections published in the product's channel.
    collections: async (p, _args, ctx) => {
      const found = await Promise.all(
        p.collectionPks.map((pk) => ctx.loaders.collections.load({ channel: p.channel, pk: String(pk) })),
      );
      return found.filter((c) => c !== null);
    },
  },

  ProductVariant: {
    __resolveReference: (ref, ctx) =>
      ctx.loaders.variants.load({ channel: store.channelOrDefault(ref.channel), pk: fromGlobalId(ref.id, 'ProductVariant') }),
    id: (v) => toGlobalId('ProductVariant', v.pk),
    // A variant read in a channel has its product listed there (`!` only narrows).
    product: async (v, _args, ctx) => (await ctx.loaders.products.load({ channel: v.channel, pk: String(v.productPk) }))!,
    trackInventory: () => true,
    pricing: (v) => store.variantPricing(v),
    quantityAvailable: (v) => v.quantity,
  },

  Category: {
    __resolveReference: (ref, ctx) => ctx.loaders.categories.load(fromGlobalId(ref.id, 'Category')),
    id: (c) => toGlobalId('Category', c.pk),
    description: (c) => editorJs(c.description),
    parent: (c, _args, ctx) => (c.parentPk === null ? null : ctx.loaders.categories.load(String(c.parentPk))),
    level: (c) => store.categoryLevel(c),
    products: (c, args) => store.listProducts(store.channelOrDefault(args.channel), { ...args, categoryPk: c.pk }, args),
    children: (c, args) => store.listCategories({ parentPk: c.pk }, args),
    backgroundImage: (c, args) => image('categories', c.slug, c.name, args),
  },

  Collection: {
    __resolveReference: (ref, ctx) =>
      ctx.loaders.collections.load({ channel: store.channelOrDefault(ref.channel), pk: fromGlobalId(ref.id, 'Collection') }),
    id: (c) => toGlobalId('Collection', c.pk),
    description: (c) => editorJs(c.description),
    products: (c, args) => store.listProducts(c.channel, { ...args, collectionPk: c.pk }, args),
    backgroundImage: (c, args) => image('collections', c.slug, c.name, args),
  },

  User: {
    // Saleor's User has two keys: `{ id }` and `{ email }`.
    __resolveReference: (ref, ctx) => {
      if ('id' in ref && ref.id) return ctx.loaders.users.load(fromGlobalId(ref.id, 'User'));
      return 'email' in ref && ref.email ? ctx.loaders.usersByEmail.load(ref.email) : null;
    },
    id: (u) => toGlobalId('User', u.pk),
    orders: (u, args) => store.listOrders({ userPk: u.pk }, args),
  },

  Order: {
    __resolveReference: (ref, ctx) => ctx.loaders.orders.load(fromGlobalId(ref.id, 'Order')),
    id: (o) => toGlobalId('Order', o.pk),
    user: (o, _args, ctx) => (o.userPk === null ? null : ctx.loaders.users.load(String(o.userPk))),
    // Every order is placed in one of the catalog's channels (`!` only narrows).
    channel: (o) => store.channelBySlug(o.channel)!,
    lines: (o) => o.lines.map((line) => ({ ...line, order: o })),
    subtotal: (o) => orderSubtotal(o),
    shippingPrice: (o) => taxedFromGross(o.shippingCents, o.currency, o.taxRate),
    total: (o) => sumTaxed([orderSubtotal(o), taxedFromGross(o.shippingCents, o.currency, o.taxRate)], o.currency),
  },

  OrderLine: {
    id: (l) => toGlobalId('OrderLine', l.pk),
    productVariantId: (l) => toGlobalId('ProductVariant', l.variantPk),
    unitPrice: (l) => lineUnitPrice(l),
    totalPrice: (l) => scaleTaxed(lineUnitPrice(l), l.quantity),
    variant: (l, _args, ctx) => ctx.loaders.variants.load({ channel: l.order.channel, pk: String(l.variantPk) }),
  },

  Channel: {
    id: (c) => toGlobalId('Channel', c.pk),
  },
};

const lineUnitPrice = (l: OrderLineModel) => taxedFromGross(l.unitGrossCents, l.order.currency, l.taxRate);

/** Line totals are unit prices times quantity (net and tax too), so they always add up. */
const orderSubtotal = (o: OrderModel) =>
  sumTaxed(
    o.lines.map((l) => scaleTaxed(lineUnitPrice({ ...l, order: o }), l.quantity)),
    o.currency,
  );
