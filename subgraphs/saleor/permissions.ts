import { createHash, timingSafeEqual } from 'node:crypto';
import { rule } from 'graphql-shield';
import type { Context } from '../kit/context.ts';
import { forbidden } from '../kit/errors.ts';
import { allow, type Permissions } from '../kit/shield.ts';

/*
 * Who may read what, as in Saleor: the catalog (products, categories, collections) is public;
 * customers and orders need the App token the gateway sends (`Authorization: Bearer
 * <SALEOR_APP_TOKEN>`), never a platform JWT. Every type that carries data is listed because the
 * kit's shield denies anything that is not (it derives the rules of connections, edges and PageInfo).
 */

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Constant-time check of `Authorization: Bearer <token>` against the configured App token. */
export function hasAppToken(authorization: string | undefined, appToken: string): boolean {
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  // Comparing digests gives timingSafeEqual equal-length buffers whatever the caller sent, so
  // neither the token nor its length leaks through timing.
  const same = timingSafeEqual(digest(presented ?? ''), digest(appToken));
  return presented !== undefined && same;
}

/**
 * The App token is a request property, so `contextual` caching of the rule is right. The kit's
 * response cache keys on a hash of any credential that is not one of our JWTs, so a response
 * this token unlocked is never served to a caller without it.
 */
export const isSaleorApp = rule('saleorAppToken', { cache: 'contextual' })((_parent: unknown, _args: unknown, ctx: Context) =>
  hasAppToken(ctx.authorization, ctx.deps.config.SALEOR_APP_TOKEN)
    ? true
    : forbidden('To access this path, you need the Saleor App token (Authorization: Bearer <app token>).'),
);

export const permissions: Permissions = {
  Query: {
    products: allow,
    product: allow,
    productVariant: allow,
    category: allow,
    categories: allow,
    collection: allow,
    collections: allow,
    orders: isSaleorApp,
    order: isSaleorApp,
    user: isSaleorApp,
  },
  // Like every Saleor mutation an App runs (MANAGE_ORDERS): the App token only.
  Mutation: {
    draftOrderCreate: isSaleorApp,
    draftOrderComplete: isSaleorApp,
    orderMarkAsPaid: isSaleorApp,
    orderCancel: isSaleorApp,
  },

  // Catalog: public, like Saleor's storefront API.
  Product: allow,
  ProductPricingInfo: allow,
  ProductVariant: allow,
  VariantPricingInfo: allow,
  Category: allow,
  Collection: allow,
  Image: allow,
  Money: allow,
  TaxedMoney: allow,
  TaxedMoneyRange: allow,

  // Customers and orders: App token on every field, so `_entities` (allowed by the kit) cannot
  // read a User or an Order without it either.
  User: isSaleorApp,
  Order: isSaleorApp,
  OrderLine: isSaleorApp,
  Channel: isSaleorApp,
};
