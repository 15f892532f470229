import { badInput } from '../kit/errors.ts';
import { paginate, type Connection, type PageArgs } from '../kit/connection.ts';
import {
  categories,
  channels,
  collections,
  DEFAULT_CHANNEL,
  products,
  users,
  variantPrice,
  variants,
  type CategoryRecord,
  type ChannelRecord,
  type CollectionRecord,
  type OrderRecord,
  type OrderStatus,
  type ProductRecord,
  type UserRecord,
  type VariantRecord,
} from './catalog.ts';
import { fromGlobalId, fromGlobalIds } from './ids.ts';
import { allOrders, orderByPk } from './order-book.ts';
import { taxedFromGross, type TaxedMoneyValue } from './money.ts';

/*
 * Queries over the in-memory catalog: visibility per channel, filtering, search, sorting and
 * paging, with Saleor's semantics where the stand-in implements them. Channel-scoped records
 * come back with the channel they were read in (Saleor's ChannelContext), because prices,
 * availability and `channel` itself depend on it.
 */

export type InChannel<T> = T & { channel: string };
export type ProductInChannel = InChannel<ProductRecord>;
export type VariantInChannel = InChannel<VariantRecord>;
export type CollectionInChannel = InChannel<CollectionRecord>;

const index = <T extends { pk: number | string }>(rows: readonly T[]) => new Map(rows.map((r) => [String(r.pk), r]));
const productIndex = index(products);
const variantIndex = index(variants);
const categoryIndex = index(categories);
const collectionIndex = index(collections);
const userIndex = index(users);
const userByEmail = new Map(users.map((u) => [u.email.toLowerCase(), u]));

/** Saleor asks for a channel where prices are involved; the stand-in falls back to its default. */
export const channelOrDefault = (slug: string | null | undefined) => slug ?? DEFAULT_CHANNEL;
export const channelBySlug = (slug: string): ChannelRecord | null => channels.find((c) => c.slug === slug) ?? null;

const isListed = (product: ProductRecord, channel: string) => product.listings[channel] !== undefined;
const inChannel = <T>(record: T, channel: string): InChannel<T> => ({ ...record, channel });

// --- Paging -----------------------------------------------------------------------------------

/** Saleor refuses to page without a size; the kit's paginate enforces the 1..100 range. */
export function page<T>(items: readonly T[], args: PageArgs, connectionName: string): Connection<T> {
  if (args.first == null && args.last == null) {
    throw badInput(`You must provide a \`first\` or \`last\` value to properly paginate the \`${connectionName}\` connection.`, 'first');
  }
  return paginate(items, args);
}

// --- Lookups by key (what the DataLoaders batch) ----------------------------------------------

export function productsByPks(channel: string, pks: readonly string[]): (ProductInChannel | null)[] {
  return pks.map((pk) => {
    const product = productIndex.get(pk);
    return product && isListed(product, channel) ? inChannel(product, channel) : null;
  });
}

/** A variant is visible in the channels its product is listed in. */
export function variantsByPks(channel: string, pks: readonly string[]): (VariantInChannel | null)[] {
  return pks.map((pk) => {
    const variant = variantIndex.get(pk);
    const product = variant && productIndex.get(String(variant.productPk));
    return variant && product && isListed(product, channel) ? inChannel(variant, channel) : null;
  });
}

export function collectionsByPks(channel: string, pks: readonly string[]): (CollectionInChannel | null)[] {
  return pks.map((pk) => {
    const collection = collectionIndex.get(pk);
    return collection && collection.channels.includes(channel) ? inChannel(collection, channel) : null;
  });
}

export const categoriesByPks = (pks: readonly string[]): (CategoryRecord | null)[] => pks.map((pk) => categoryIndex.get(pk) ?? null);
export const usersByPks = (pks: readonly string[]): (UserRecord | null)[] => pks.map((pk) => userIndex.get(pk) ?? null);
export const usersByEmails = (emails: readonly string[]): (UserRecord | null)[] =>
  emails.map((email) => userByEmail.get(email.toLowerCase()) ?? null);
/** Orders change (the order mutations): read from the order book, never from the catalog. */
export const ordersByPks = (pks: readonly string[]): (OrderRecord | null)[] => pks.map((pk) => orderByPk(pk));

export function productBySlug(channel: string, slug: string): ProductInChannel | null {
  const product = products.find((p) => p.slug === slug);
  return product && isListed(product, channel) ? inChannel(product, channel) : null;
}

export function variantBySku(channel: string, sku: string): VariantInChannel | null {
  const variant = variants.find((v) => v.sku === sku);
  return variant ? variantsByPks(channel, [String(variant.pk)])[0]! : null;
}

export const categoryBySlug = (slug: string): CategoryRecord | null => categories.find((c) => c.slug === slug) ?? null;

export function collectionBySlug(channel: string, slug: string): CollectionInChannel | null {
  const collection = collections.find((c) => c.slug === slug);
  return collection ? collectionsByPks(channel, [String(collection.pk)])[0]! : null;
}

// --- Categories -------------------------------------------------------------------------------

export function categoryLevel(category: CategoryRecord): number {
  let level = 0;
  for (let c = category; c.parentPk !== null; c = categoryIndex.get(String(c.parentPk))!) level++;
  return level;
}

/** The category and everything under it (Saleor's product filters include subcategories). */
export function withDescendants(pks: readonly number[]): Set<number> {
  const found = new Set(pks);
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of categories) {
      if (c.parentPk !== null && found.has(c.parentPk) && !found.has(c.pk)) {
        found.add(c.pk);
        grew = true;
      }
    }
  }
  return found;
}

const childrenOf = (pk: number) => categories.filter((c) => c.parentPk === pk);

export interface CategoryQuery {
  filter?: { search?: string | null; ids?: readonly string[] | null; slugs?: readonly string[] | null } | null;
  sortBy?: { direction: Direction; field: 'NAME' | 'PRODUCT_COUNT' | 'SUBCATEGORY_COUNT' } | null;
  level?: number | null;
  parentPk?: number;
}

export function listCategories(query: CategoryQuery, args: PageArgs): Connection<CategoryRecord> {
  const { filter, sortBy, level, parentPk } = query;
  const ids = filter?.ids ? new Set(fromGlobalIds(filter.ids, 'Category', 'ids')) : null;
  const tokens = searchTokens(filter?.search);
  let rows = categories.filter(
    (c) =>
      (parentPk === undefined || c.parentPk === parentPk) &&
      (level == null || categoryLevel(c) === level) &&
      (!ids || ids.has(String(c.pk))) &&
      (!filter?.slugs || filter.slugs.includes(c.slug)) &&
      matchesTokens(tokens, [c.name, c.slug, c.description]),
  );
  if (sortBy) {
    const key: (c: CategoryRecord) => string | number =
      sortBy.field === 'NAME'
        ? (c) => c.name.toLowerCase()
        : sortBy.field === 'PRODUCT_COUNT'
          ? (c) => productCountIn(c.pk)
          : (c) => childrenOf(c.pk).length;
    rows = sortRows(rows, key, sortBy.direction, (c) => c.pk);
  }
  return page(rows, args, parentPk === undefined ? 'categories' : 'children');
}

const productCountIn = (categoryPk: number) => {
  const tree = withDescendants([categoryPk]);
  return products.filter((p) => tree.has(p.categoryPk)).length;
};

// --- Products ---------------------------------------------------------------------------------

type Direction = 'ASC' | 'DESC';
type ProductSortField = 'NAME' | 'PRICE' | 'MINIMAL_PRICE' | 'RATING' | 'CREATED_AT' | 'LAST_MODIFIED_AT';

interface IdFilter {
  eq?: string | null;
  oneOf?: readonly string[] | null;
}
interface StringFilter {
  eq?: string | null;
  oneOf?: readonly string[] | null;
}
interface DecimalFilter {
  eq?: number | string | null;
  oneOf?: readonly (number | string)[] | null;
  range?: { gte?: number | string | null; lte?: number | string | null } | null;
}

export interface ProductFilter {
  collections?: readonly string[] | null;
  categories?: readonly string[] | null;
  search?: string | null;
  price?: { gte?: number | null; lte?: number | null } | null;
  ids?: readonly string[] | null;
  slugs?: readonly string[] | null;
}

export interface ProductWhere {
  ids?: readonly string[] | null;
  name?: StringFilter | null;
  slug?: StringFilter | null;
  category?: IdFilter | null;
  collection?: IdFilter | null;
  price?: DecimalFilter | null;
  AND?: readonly ProductWhere[] | null;
  OR?: readonly ProductWhere[] | null;
}

export interface ProductQuery {
  search?: string | null;
  filter?: ProductFilter | null;
  where?: ProductWhere | null;
  sortBy?: { direction: Direction; field?: ProductSortField | null } | null;
  /** Category.products: the category and its subcategories. */
  categoryPk?: number;
  /** Collection.products. */
  collectionPk?: number;
}

const searchTokens = (search: string | null | undefined) =>
  (search ?? '').toLowerCase().split(/\s+/).filter(Boolean);

/** Every word of the search must occur somewhere (Saleor ANDs the words of a search). */
const matchesTokens = (tokens: readonly string[], haystack: readonly string[]) => {
  if (!tokens.length) return true;
  const text = haystack.join(' ').toLowerCase();
  return tokens.every((t) => text.includes(t));
};

const productVariants = (product: ProductRecord) => product.variantPks.map((pk) => variantIndex.get(String(pk))!);

const productHaystack = (p: ProductRecord) => [
  p.name,
  p.slug,
  p.description,
  categoryIndex.get(String(p.categoryPk))!.name,
  ...productVariants(p).map((v) => v.sku),
];

/** Cents from a money amount given in a filter (Decimal arrives as a number or a string). */
function cents(value: number | string, field: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw badInput(`Invalid decimal value in "${field}".`, field);
  return Math.round(n * 100);
}

const listPrices = (p: ProductRecord, channel: string) =>
  productVariants(p).map((v) => variantPrice(v, p, channel)?.undiscounted ?? Number.POSITIVE_INFINITY);
const sellingPrices = (p: ProductRecord, channel: string) =>
  productVariants(p).map((v) => variantPrice(v, p, channel)?.price ?? Number.POSITIVE_INFINITY);

const matchesString = (value: string, f: StringFilter | null | undefined) =>
  !f || ((f.eq == null || value === f.eq) && (f.oneOf == null || f.oneOf.includes(value)));

function matchesIds(pks: readonly number[], f: IdFilter | null | undefined, type: 'Category' | 'Collection', field: string) {
  if (!f) return true;
  if (f.eq != null && !pks.includes(Number(fromGlobalId(f.eq, type, field)))) return false;
  if (f.oneOf != null && !fromGlobalIds(f.oneOf, type, field).some((pk) => pks.includes(Number(pk)))) return false;
  return true;
}

function matchesDecimal(prices: readonly number[], f: DecimalFilter | null | undefined) {
  if (!f) return true;
  return prices.some(
    (price) =>
      (f.eq == null || price === cents(f.eq, 'price')) &&
      (f.oneOf == null || f.oneOf.some((v) => price === cents(v, 'price'))) &&
      (f.range?.gte == null || price >= cents(f.range.gte, 'price')) &&
      (f.range?.lte == null || price <= cents(f.range.lte, 'price')),
  );
}

function matchesWhere(p: ProductRecord, where: ProductWhere, channel: string): boolean {
  return (
    (!where.ids || fromGlobalIds(where.ids, 'Product', 'ids').includes(String(p.pk))) &&
    matchesString(p.name, where.name) &&
    matchesString(p.slug, where.slug) &&
    matchesIds([p.categoryPk], where.category, 'Category', 'category') &&
    matchesIds(p.collectionPks, where.collection, 'Collection', 'collection') &&
    matchesDecimal(listPrices(p, channel), where.price) &&
    (!where.AND || where.AND.every((w) => matchesWhere(p, w, channel))) &&
    (!where.OR || where.OR.some((w) => matchesWhere(p, w, channel)))
  );
}

/** Decodes the IDs of a `filter` once per query rather than once per product. */
function compileFilter(filter: ProductFilter) {
  const categorySet = filter.categories
    ? withDescendants(fromGlobalIds(filter.categories, 'Category', 'categories').map(Number))
    : null;
  const collectionPks = filter.collections ? fromGlobalIds(filter.collections, 'Collection', 'collections').map(Number) : null;
  const ids = filter.ids ? new Set(fromGlobalIds(filter.ids, 'Product', 'ids')) : null;
  const tokens = searchTokens(filter.search);
  const gte = filter.price?.gte != null ? cents(filter.price.gte, 'price') : null;
  const lte = filter.price?.lte != null ? cents(filter.price.lte, 'price') : null;
  return (p: ProductRecord, channel: string) =>
    (!categorySet || categorySet.has(p.categoryPk)) &&
    (!collectionPks || p.collectionPks.some((pk) => collectionPks.includes(pk))) &&
    (!ids || ids.has(String(p.pk))) &&
    (!filter.slugs || filter.slugs.includes(p.slug)) &&
    matchesTokens(tokens, productHaystack(p)) &&
    (!filter.price || listPrices(p, channel).some((price) => (gte == null || price >= gte) && (lte == null || price <= lte)));
}

function sortRows<T>(
  rows: readonly T[],
  key: (row: T) => string | number,
  direction: Direction,
  tieBreak: (row: T) => string | number,
): T[] {
  const sign = direction === 'DESC' ? -1 : 1;
  const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
  return [...rows].sort((a, b) => sign * (cmp(key(a), key(b)) || cmp(tieBreak(a), tieBreak(b))));
}

function productSortKey(field: ProductSortField, channel: string): (p: ProductRecord) => string | number {
  switch (field) {
    case 'NAME':
      return (p) => p.name.toLowerCase();
    case 'PRICE':
      return (p) => Math.min(...listPrices(p, channel));
    case 'MINIMAL_PRICE':
      return (p) => Math.min(...sellingPrices(p, channel));
    case 'RATING':
      return (p) => p.rating;
    case 'CREATED_AT':
      return (p) => p.created;
    case 'LAST_MODIFIED_AT':
      return (p) => p.updatedAt;
  }
}

/**
 * The products visible in `channel` that match, in order: `sortBy` if given; else by relevance
 * when searching (name matches first), else by slug (Saleor's default product ordering).
 */
export function findProducts(channel: string, query: ProductQuery): ProductRecord[] {
  if (query.filter && query.where) throw badInput('Only one filtering argument (filter or where) can be specified.', 'where');
  const filter = query.filter ? compileFilter(query.filter) : null;
  const tokens = searchTokens(query.search);
  const categorySet = query.categoryPk !== undefined ? withDescendants([query.categoryPk]) : null;
  const rows = products.filter(
    (p) =>
      isListed(p, channel) &&
      (!categorySet || categorySet.has(p.categoryPk)) &&
      (query.collectionPk === undefined || p.collectionPks.includes(query.collectionPk)) &&
      matchesTokens(tokens, productHaystack(p)) &&
      (!filter || filter(p, channel)) &&
      (!query.where || matchesWhere(p, query.where, channel)),
  );
  const bySlug = (p: ProductRecord) => p.slug;
  if (query.sortBy) {
    // Saleor sorts by `field` or by `attributeId`; the stand-in has no attributes.
    if (!query.sortBy.field) throw badInput('You must provide either `field` or `attributeId` to sort the products.', 'sortBy');
    return sortRows(rows, productSortKey(query.sortBy.field, channel), query.sortBy.direction, bySlug);
  }
  if (tokens.length) return sortRows(rows, (p) => (matchesTokens(tokens, [p.name]) ? 0 : 1), 'ASC', bySlug);
  return sortRows(rows, bySlug, 'ASC', (p) => p.pk);
}

export function listProducts(channel: string, query: ProductQuery, args: PageArgs): Connection<ProductInChannel> {
  const connection = page(findProducts(channel, query), args, 'products');
  return { ...connection, edges: connection.edges.map((e) => ({ ...e, node: inChannel(e.node, channel) })) };
}

export function listVariantsOf(product: ProductInChannel, args: PageArgs): Connection<VariantInChannel> {
  const rows = productVariants(product).map((v) => inChannel(v, product.channel));
  return page(rows, args, 'productVariants');
}

// --- Collections ------------------------------------------------------------------------------

export interface CollectionQuery {
  filter?: { search?: string | null; ids?: readonly string[] | null; slugs?: readonly string[] | null } | null;
  sortBy?: { direction: Direction; field: 'NAME' | 'PRODUCT_COUNT' } | null;
}

export function listCollections(channel: string, query: CollectionQuery, args: PageArgs): Connection<CollectionInChannel> {
  const { filter, sortBy } = query;
  const ids = filter?.ids ? new Set(fromGlobalIds(filter.ids, 'Collection', 'ids')) : null;
  const tokens = searchTokens(filter?.search);
  const rows = collections.filter(
    (c) =>
      c.channels.includes(channel) &&
      (!ids || ids.has(String(c.pk))) &&
      (!filter?.slugs || filter.slugs.includes(c.slug)) &&
      matchesTokens(tokens, [c.name, c.slug]),
  );
  const key: (c: CollectionRecord) => string | number =
    sortBy?.field === 'PRODUCT_COUNT'
      ? (c) => products.filter((p) => isListed(p, channel) && p.collectionPks.includes(c.pk)).length
      : sortBy?.field === 'NAME'
        ? (c) => c.name.toLowerCase()
        : (c) => c.slug;
  const sorted = sortRows(rows, key, sortBy?.direction ?? 'ASC', (c) => c.slug);
  return page(
    sorted.map((c) => inChannel(c, channel)),
    args,
    'collections',
  );
}

// --- Pricing (Saleor's ProductPricingInfo / VariantPricingInfo) -------------------------------

function taxed(cents: number, channel: ChannelRecord): TaxedMoneyValue {
  return taxedFromGross(cents, channel.currencyCode, channel.taxRate);
}

export function variantPricing(variant: VariantInChannel) {
  const product = productIndex.get(String(variant.productPk))!;
  const prices = variantPrice(variant, product, variant.channel);
  const channel = channelBySlug(variant.channel);
  if (!prices || !channel) return null;
  return {
    onSale: prices.price < prices.undiscounted,
    discount: prices.price < prices.undiscounted ? taxed(prices.undiscounted - prices.price, channel) : null,
    price: taxed(prices.price, channel),
    priceUndiscounted: taxed(prices.undiscounted, channel),
  };
}

export function productPricing(product: ProductInChannel) {
  const channel = channelBySlug(product.channel);
  if (!channel || !isListed(product, product.channel)) return null;
  const prices = sellingPrices(product, product.channel);
  const listed = listPrices(product, product.channel);
  const start = Math.min(...prices);
  const undiscountedStart = Math.min(...listed);
  const onSale = prices.some((price, i) => price < listed[i]!);
  return {
    onSale,
    discount: onSale ? taxed(undiscountedStart - start, channel) : null,
    displayGrossPrices: true,
    priceRange: { start: taxed(start, channel), stop: taxed(Math.max(...prices), channel) },
    priceRangeUndiscounted: { start: taxed(undiscountedStart, channel), stop: taxed(Math.max(...listed), channel) },
  };
}

export const isAvailableForPurchase = (product: ProductRecord, now = new Date()) =>
  new Date(product.availableForPurchaseAt) <= now;

/** In stock, and on sale already: what Saleor's `isAvailable` answers. */
export const isAvailable = (product: ProductInChannel) =>
  isListed(product, product.channel) && isAvailableForPurchase(product) && productVariants(product).some((v) => v.quantity > 0);

// --- Orders -----------------------------------------------------------------------------------

type OrderSortField = 'NUMBER' | 'CREATED_AT' | 'LAST_MODIFIED_AT' | 'CUSTOMER' | 'STATUS';

export interface OrderWhere {
  ids?: readonly string[] | null;
  userEmail?: StringFilter | null;
  status?: { eq?: string | null; oneOf?: readonly string[] | null } | null;
  AND?: readonly OrderWhere[] | null;
  OR?: readonly OrderWhere[] | null;
}

export interface OrderQuery {
  channel?: string | null;
  search?: string | null;
  filter?: {
    status?: readonly OrderStatus[] | null;
    customer?: string | null;
    search?: string | null;
    ids?: readonly string[] | null;
    numbers?: readonly string[] | null;
  } | null;
  where?: OrderWhere | null;
  sortBy?: { direction: Direction; field: OrderSortField } | null;
  userPk?: number;
}

function orderHaystack(order: OrderRecord): string[] {
  const user = order.userPk !== null ? userIndex.get(String(order.userPk)) : undefined;
  return [order.number, order.userEmail, user?.firstName ?? '', user?.lastName ?? '', ...order.lines.map((l) => l.productSku)];
}

function matchesOrderWhere(order: OrderRecord, where: OrderWhere): boolean {
  return (
    (!where.ids || fromGlobalIds(where.ids, 'Order', 'ids').includes(order.pk)) &&
    matchesString(order.userEmail, where.userEmail) &&
    matchesString(order.status, where.status) &&
    (!where.AND || where.AND.every((w) => matchesOrderWhere(order, w))) &&
    (!where.OR || where.OR.some((w) => matchesOrderWhere(order, w)))
  );
}

/** Newest first by default: Saleor orders orders by `-number`. */
export function listOrders(query: OrderQuery, args: PageArgs): Connection<OrderRecord> {
  const { filter, where } = query;
  if (filter && where) throw badInput('Only one filtering argument (filter or where) can be specified.', 'where');
  const ids = filter?.ids ? new Set(fromGlobalIds(filter.ids, 'Order', 'ids')) : null;
  const tokens = searchTokens(query.search);
  const filterTokens = searchTokens(filter?.search);
  const customerTokens = searchTokens(filter?.customer);
  // Drafts are not orders yet: Saleor lists them under `draftOrders`, never under `orders`.
  const rows = allOrders().filter(
    (o) =>
      o.status !== 'DRAFT' &&
      (query.userPk === undefined || o.userPk === query.userPk) &&
      (query.channel == null || o.channel === query.channel) &&
      matchesTokens(tokens, orderHaystack(o)) &&
      (!filter?.status || filter.status.includes(o.status)) &&
      (!ids || ids.has(o.pk)) &&
      (!filter?.numbers || filter.numbers.includes(o.number)) &&
      matchesTokens(filterTokens, orderHaystack(o)) &&
      matchesTokens(customerTokens, orderHaystack(o).slice(1, 4)) &&
      (!where || matchesOrderWhere(o, where)),
  );
  const sortBy = query.sortBy ?? { direction: 'DESC' as const, field: 'NUMBER' as const };
  const key: (o: OrderRecord) => string | number = {
    NUMBER: (o: OrderRecord) => Number(o.number),
    CREATED_AT: (o: OrderRecord) => o.created,
    LAST_MODIFIED_AT: (o: OrderRecord) => o.updatedAt,
    CUSTOMER: (o: OrderRecord) => o.userEmail,
    STATUS: (o: OrderRecord) => o.status,
  }[sortBy.field];
  return page(sortRows(rows, key, sortBy.direction, (o) => Number(o.number)), args, 'orders');
}
