import DataLoader from 'dataloader';
import type { Context } from '../kit/context.ts';
import type { SaleorSettings } from './settings.ts';
import * as store from './store.ts';

/*
 * Per-request DataLoaders, although the catalog is in memory: the stand-in keeps the shape every
 * subgraph has (ARCHITECTURE.md: every load by id goes through a loader), so `_entities` with N
 * representations and lists that resolve N references each cost one batch.
 */

/** Batches run per loader since the process started; tests read it to prove batching. */
export const batchCounts = {
  products: 0,
  variants: 0,
  collections: 0,
  categories: 0,
  users: 0,
  usersByEmail: 0,
  orders: 0,
};

type Counted = keyof typeof batchCounts;

/** A channel-scoped key: the same product priced in two channels is two different answers. */
export interface ChannelKey {
  channel: string;
  pk: string;
}

function byKey<V>(name: Counted, fetch: (keys: readonly string[]) => (V | null)[]) {
  return new DataLoader<string, V | null>(async (keys) => {
    batchCounts[name]++;
    return fetch(keys);
  });
}

function byChannelKey<V>(name: Counted, fetch: (channel: string, pks: readonly string[]) => (V | null)[]) {
  return new DataLoader<ChannelKey, V | null, string>(
    async (keys) => {
      batchCounts[name]++;
      const byChannel = new Map<string, string[]>();
      for (const { channel, pk } of keys) byChannel.set(channel, [...(byChannel.get(channel) ?? []), pk]);
      const found = new Map<string, V | null>();
      for (const [channel, pks] of byChannel) {
        fetch(channel, pks).forEach((row, i) => found.set(`${channel}\u0000${pks[i]}`, row));
      }
      return keys.map((k) => found.get(`${k.channel}\u0000${k.pk}`) ?? null);
    },
    { cacheKeyFn: (k) => `${k.channel}\u0000${k.pk}` },
  );
}

export function createLoaders() {
  return {
    products: byChannelKey('products', store.productsByPks),
    variants: byChannelKey('variants', store.variantsByPks),
    collections: byChannelKey('collections', store.collectionsByPks),
    categories: byKey('categories', store.categoriesByPks),
    users: byKey('users', store.usersByPks),
    usersByEmail: byKey('usersByEmail', store.usersByEmails),
    orders: byKey('orders', store.ordersByPks),
  };
}

export type SaleorLoaders = ReturnType<typeof createLoaders>;

/** The context the stand-in's resolvers receive (codegen's `contextType`). */
export type SaleorContext = Context<SaleorLoaders, SaleorSettings>;
