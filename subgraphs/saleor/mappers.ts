import type { CategoryRecord, ChannelRecord, OrderLineRecord, OrderRecord, UserRecord } from './catalog.ts';
import type { CollectionInChannel, ProductInChannel, VariantInChannel } from './store.ts';

// What each GraphQL type's resolvers receive as parent (see codegen.ts): catalog records, the
// channel-scoped ones carrying the channel they were read in.
export type ProductModel = ProductInChannel;
export type ProductVariantModel = VariantInChannel;
export type CollectionModel = CollectionInChannel;
export type CategoryModel = CategoryRecord;
export type UserModel = UserRecord;
export type OrderModel = OrderRecord;
/** A line keeps its order: its prices need the order's currency, its variant the order's channel. */
export type OrderLineModel = OrderLineRecord & { order: OrderRecord };
export type ChannelModel = ChannelRecord;
