import { createHash } from 'node:crypto';

/*
 * The stand-in's demo data: built once, deterministically (no clock, no randomness), so tests,
 * demos and the REST shim see the same products, IDs and prices on every start. These records
 * play the part of Saleor's database rows; the GraphQL shape is made by the resolvers.
 */

export interface ChannelRecord {
  pk: number;
  slug: string;
  name: string;
  currencyCode: string;
  /** Prices are entered gross; net = gross / (1 + taxRate). */
  taxRate: number;
  shippingCents: number;
  isActive: boolean;
}

export interface CategoryRecord {
  pk: number;
  name: string;
  slug: string;
  description: string;
  parentPk: number | null;
  updatedAt: string;
}

export interface CollectionRecord {
  pk: number;
  name: string;
  slug: string;
  description: string;
  /** Channels the collection is published in. */
  channels: readonly string[];
}

export interface ProductListing {
  /** Fraction taken off every variant's price in this channel (0.1 = 10 % off). */
  saleDiscount: number;
}

export interface ProductRecord {
  pk: number;
  name: string;
  slug: string;
  description: string;
  seoTitle: string;
  seoDescription: string;
  categoryPk: number;
  collectionPks: readonly number[];
  variantPks: readonly number[];
  /** The channels the product is listed in; a product is invisible in any other channel. */
  listings: Readonly<Record<string, ProductListing>>;
  rating: number;
  created: string;
  updatedAt: string;
  availableForPurchaseAt: string;
}

export interface VariantRecord {
  pk: number;
  productPk: number;
  name: string;
  sku: string;
  quantity: number;
  /** Undiscounted gross price in cents, per channel slug. */
  prices: Readonly<Record<string, number>>;
  created: string;
  updatedAt: string;
}

export interface UserRecord {
  pk: number;
  email: string;
  firstName: string;
  lastName: string;
  isStaff: boolean;
  isActive: boolean;
  dateJoined: string;
  updatedAt: string;
}

export interface OrderLineRecord {
  pk: string;
  variantPk: number;
  productName: string;
  variantName: string;
  productSku: string;
  quantity: number;
  unitGrossCents: number;
  taxRate: number;
}

export type OrderStatus = 'DRAFT' | 'UNCONFIRMED' | 'UNFULFILLED' | 'PARTIALLY_FULFILLED' | 'FULFILLED' | 'CANCELED';

export interface OrderRecord {
  /** Saleor's order pks are UUIDs. */
  pk: string;
  number: string;
  created: string;
  updatedAt: string;
  status: OrderStatus;
  userPk: number | null;
  userEmail: string;
  channel: string;
  currency: string;
  taxRate: number;
  shippingCents: number;
  isPaid: boolean;
  lines: readonly OrderLineRecord[];
}

export const DEFAULT_CHANNEL = 'acme-channel';

export const channels: readonly ChannelRecord[] = [
  { pk: 1, slug: 'acme-channel', name: 'Acme Store', currencyCode: 'USD', taxRate: 0.08, shippingCents: 999, isActive: true },
  { pk: 2, slug: 'globex-channel', name: 'Globex Store', currencyCode: 'EUR', taxRate: 0.2, shippingCents: 850, isActive: true },
];

const DAY = 86_400_000;
const EPOCH = Date.UTC(2025, 0, 6, 9, 0, 0);
const at = (days: number) => new Date(EPOCH + days * DAY).toISOString();
/** Far enough ahead to read as "not yet available for purchase". */
const NOT_YET = '2099-01-01T00:00:00.000Z';

/** A UUID derived from a seed, so order IDs are stable across starts. */
function uuidFrom(seed: string): string {
  const h = createHash('sha1').update(`saleor-standin:${seed}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const slugify = (text: string) =>
  text
    .toLowerCase()
    .replace(/&/g, 'and')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** Leaf categories carry products; roots group them (Saleor's category tree). */
const CATEGORY_TREE = [
  { name: 'Apparel', parent: null },
  { name: 'T-Shirts', parent: 'Apparel', noun: 'T-Shirt', basePrice: 1999, options: ['S', 'M', 'L'], blurb: 'soft ring-spun cotton' },
  { name: 'Hoodies', parent: 'Apparel', noun: 'Hoodie', basePrice: 4999, options: ['S', 'M', 'L'], blurb: 'brushed fleece' },
  { name: 'Accessories', parent: null },
  { name: 'Bags', parent: 'Accessories', noun: 'Tote Bag', basePrice: 2499, options: ['Black', 'Natural', 'Navy'], blurb: 'heavy canvas' },
  { name: 'Home & Kitchen', parent: null },
  { name: 'Mugs', parent: 'Home & Kitchen', noun: 'Mug', basePrice: 1299, options: ['350 ml', '450 ml'], blurb: 'glazed stoneware' },
  { name: 'Stationery', parent: null },
  { name: 'Notebooks', parent: 'Stationery', noun: 'Notebook', basePrice: 899, options: ['A5 Dotted', 'A5 Lined', 'A4 Plain'], blurb: 'recycled paper' },
  { name: 'Electronics', parent: null },
  { name: 'Audio', parent: 'Electronics', noun: 'Headphones', basePrice: 8999, options: ['Wired', 'Wireless'], blurb: 'balanced studio sound' },
] as const;

const STYLES = ['Classic', 'Vintage', 'Organic', 'Midnight', 'Ocean', 'Forest', 'Sunset', 'Arctic', 'Urban', 'Retro', 'Minimal', 'Bold'];

const COLLECTIONS: { name: string; channels: string[]; has(pk: number, leaf: string, index: number): boolean }[] = [
  { name: 'Featured', channels: ['acme-channel', 'globex-channel'], has: (p) => p % 5 === 1 },
  { name: 'Summer Sale', channels: ['acme-channel'], has: (p) => p % 4 === 0 },
  { name: 'Gift Ideas', channels: ['acme-channel', 'globex-channel'], has: (_p, leaf, i) => (leaf === 'Mugs' || leaf === 'Notebooks') && i < 6 },
  { name: 'Winter Essentials', channels: ['globex-channel'], has: (_p, leaf, i) => leaf === 'Hoodies' || (leaf === 'Audio' && i % 2 === 0) },
];

/** USD list price to the EUR list price: about 0.92, ending in 99 cents. */
const toEuroCents = (usdCents: number) => Math.max(99, Math.round((usdCents * 0.92) / 100) * 100 - 1);

function buildCatalog() {
  const categories: CategoryRecord[] = CATEGORY_TREE.map((c, i) => ({
    pk: i + 1,
    name: c.name,
    slug: slugify(c.name),
    description: 'noun' in c ? `${c.name}: ${c.blurb}.` : `Everything in ${c.name}.`,
    parentPk: c.parent ? CATEGORY_TREE.findIndex((p) => p.name === c.parent) + 1 : null,
    updatedAt: at(i),
  }));
  const collections: CollectionRecord[] = COLLECTIONS.map((c, i) => ({
    pk: i + 1,
    name: c.name,
    slug: slugify(c.name),
    description: `Our ${c.name.toLowerCase()} picks.`,
    channels: c.channels,
  }));

  const products: ProductRecord[] = [];
  const variants: VariantRecord[] = [];
  for (const [categoryIndex, leaf] of CATEGORY_TREE.entries()) {
    if (!('noun' in leaf)) continue;
    for (const [i, style] of STYLES.entries()) {
      const pk = products.length + 1;
      const name = `${style} ${leaf.noun}`;
      const created = at(pk * 2);
      const listings: Record<string, ProductListing> = {};
      // A few products are missing from one channel, as with Saleor's channel listings.
      if (pk % 9 !== 0) listings['acme-channel'] = { saleDiscount: pk % 6 === 0 ? 0.1 : 0 };
      if (pk % 7 !== 0) listings['globex-channel'] = { saleDiscount: pk % 5 === 0 ? 0.15 : 0 };
      const variantCount = Math.min(leaf.options.length, 1 + (pk % 3));
      const listPrice = leaf.basePrice + ((i * 137) % 1000);
      const variantPks: number[] = [];
      for (let v = 0; v < variantCount; v++) {
        const usd = listPrice + v * 300;
        const variantPk = variants.length + 1;
        variantPks.push(variantPk);
        variants.push({
          pk: variantPk,
          productPk: pk,
          name: leaf.options[v]!,
          sku: `${slugify(leaf.noun).toUpperCase()}-${String(pk).padStart(3, '0')}-${v + 1}`,
          quantity: (variantPk * 7) % 40,
          prices: { 'acme-channel': usd, 'globex-channel': toEuroCents(usd) },
          created,
          updatedAt: at(pk * 2 + (variantPk % 5)),
        });
      }
      products.push({
        pk,
        name,
        slug: slugify(name),
        description: `The ${name}: ${leaf.blurb}, in our ${style.toLowerCase()} style.`,
        seoTitle: `${name} | Demo Store`,
        seoDescription: `The ${name} (${leaf.blurb}) from the demo store.`,
        categoryPk: categoryIndex + 1,
        collectionPks: COLLECTIONS.flatMap((c, ci) => (c.has(pk, leaf.name, i) ? [ci + 1] : [])),
        variantPks,
        listings,
        rating: 3 + ((pk * 7) % 21) / 10,
        created,
        updatedAt: at(pk * 2 + (pk % 10)),
        availableForPurchaseAt: pk % 13 === 0 ? NOT_YET : created,
      });
    }
  }
  return { categories, collections, products, variants };
}

const { categories, collections, products, variants } = buildCatalog();
export { categories, collections, products, variants };

/** The price a variant sells for in a channel: list price less the product's sale there. */
export function variantPrice(variant: VariantRecord, product: ProductRecord, channel: string) {
  const listing = product.listings[channel];
  const undiscounted = variant.prices[channel];
  if (!listing || undiscounted === undefined) return null;
  return { undiscounted, price: Math.round(undiscounted * (1 - listing.saleDiscount)) };
}

export const users: readonly UserRecord[] = [
  ['owner@acme.example', 'Alice', 'Anders'],
  ['editor@acme.example', 'Ethan', 'Edwards'],
  ['owner@globex.example', 'Greta', 'Gruber'],
  ['jane.doe@customer.example', 'Jane', 'Doe'],
  ['john.smith@customer.example', 'John', 'Smith'],
].map(([email, firstName, lastName], i) => ({
  pk: i + 1,
  email: email!,
  firstName: firstName!,
  lastName: lastName!,
  isStaff: false,
  isActive: true,
  dateJoined: at(i),
  updatedAt: at(i + 30),
}));

const ORDERS: [email: string, channel: string, status: OrderStatus][] = [
  ['owner@acme.example', 'acme-channel', 'FULFILLED'],
  ['jane.doe@customer.example', 'acme-channel', 'UNFULFILLED'],
  ['owner@globex.example', 'globex-channel', 'FULFILLED'],
  ['editor@acme.example', 'acme-channel', 'UNCONFIRMED'],
  ['john.smith@customer.example', 'globex-channel', 'PARTIALLY_FULFILLED'],
  // A guest checkout: an email but no account.
  ['guest@customer.example', 'acme-channel', 'CANCELED'],
  ['owner@acme.example', 'acme-channel', 'UNFULFILLED'],
  ['jane.doe@customer.example', 'globex-channel', 'FULFILLED'],
  ['owner@globex.example', 'globex-channel', 'UNFULFILLED'],
  ['john.smith@customer.example', 'globex-channel', 'CANCELED'],
];

/**
 * The demo's order history beyond the hand-picked orders above: GENERATED_ORDERS per demo
 * channel from August 2025 to mid-January 2026 (the CRM demo's leads end then), growing over the
 * months, popular products sold far more often, mostly fulfilled, some cancelled: enough for the
 * BI demo dashboards' revenue and top-product charts to say something. Deterministic (hashed from
 * the order's index), so every start serves the same orders with the same IDs. At most 100 a
 * channel: one page of Saleor's `orders`.
 */
const GENERATED_ORDERS = 84;
const BUYERS: Record<string, string[]> = {
  'acme-channel': ['jane.doe@customer.example', 'owner@acme.example', 'editor@acme.example', 'john.smith@customer.example', 'guest@customer.example'],
  'globex-channel': ['john.smith@customer.example', 'owner@globex.example', 'jane.doe@customer.example', 'guest@customer.example'],
};

/** A number in [0, 1) from a seed: the same seed, the same number. */
const unit = (seed: string) => createHash('sha1').update(`saleor-standin:${seed}`).digest().readUInt32BE(0) / 2 ** 32;

function generatedOrders(): [email: string, channel: string, status: OrderStatus, day: number][] {
  const generated: [string, string, OrderStatus, number][] = [];
  for (const channel of Object.keys(BUYERS)) {
    for (let k = 0; k < GENERATED_ORDERS; k++) {
      // Days 207-372 after the epoch (fractions are times of day), denser towards the end.
      const day = 207 + 165 * Math.sqrt((k + unit(`${channel}:${k}:day`)) / GENERATED_ORDERS);
      const r = unit(`${channel}:${k}:status`);
      const status: OrderStatus = r < 0.72 ? 'FULFILLED' : r < 0.86 ? 'UNFULFILLED' : r < 0.91 ? 'PARTIALLY_FULFILLED' : r < 0.97 ? 'CANCELED' : 'UNCONFIRMED';
      const buyers = BUYERS[channel]!;
      generated.push([buyers[k % buyers.length]!, channel, status, day]);
    }
  }
  // Numbered in creation order, as Saleor numbers them.
  return generated.sort((a, b) => a[3] - b[3]);
}

function buildOrders(): OrderRecord[] {
  const picked = ORDERS.map(([email, channel, status], i) => [email, channel, status, 150 + i * 3] as const);
  return [...picked, ...generatedOrders()].map(([email, channelSlug, status, day], i) => {
    const channel = channels.find((c) => c.slug === channelSlug)!;
    const user = users.find((u) => u.email === email) ?? null;
    const listed = products.filter((p) => p.listings[channelSlug]);
    const lines: OrderLineRecord[] = [];
    const generated = i >= ORDERS.length;
    const lineCount = generated ? 1 + Math.floor(3 * unit(`order:${i}:lines`) ** 2) : 1 + (i % 3);
    for (let j = 0; j < lineCount; j++) {
      // Generated orders favour the first products of the channel's listing (a best-seller curve).
      const index = generated ? Math.floor(listed.length * unit(`order:${i}:${j}:product`) ** 2) : (i * 11 + j * 17) % listed.length;
      const product = listed[index]!;
      const variant = variants[product.variantPks[(i + j) % product.variantPks.length]! - 1]!;
      lines.push({
        pk: uuidFrom(`order-line:${i}:${j}`),
        variantPk: variant.pk,
        productName: product.name,
        variantName: variant.name,
        productSku: variant.sku,
        quantity: 1 + ((i + j) % 3),
        unitGrossCents: variantPrice(variant, product, channelSlug)!.price,
        taxRate: channel.taxRate,
      });
    }
    return {
      pk: uuidFrom(`order:${i}`),
      number: String(1001 + i),
      created: at(day),
      updatedAt: at(Math.floor(day) + 1),
      status,
      userPk: user?.pk ?? null,
      userEmail: email,
      channel: channelSlug,
      currency: channel.currencyCode,
      taxRate: channel.taxRate,
      shippingCents: channel.shippingCents,
      isPaid: status !== 'UNCONFIRMED' && status !== 'CANCELED',
      lines,
    };
  });
}

export const orders: readonly OrderRecord[] = buildOrders();
