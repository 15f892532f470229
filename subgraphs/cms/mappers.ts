import type {
  CallToActionBlockData,
  EmbedBlockData,
  HeadingBlockData,
  ImageBlockData,
  ParagraphBlockData,
  ProductBlockData,
  ProductRef,
  QuoteBlockData,
  SnippetBlockData,
} from './blocks.ts';
import type { AssetRow, PageWithContent, RevisionRow, SiteRow, SnippetRow, View } from './store.ts';

// What each GraphQL type's resolvers receive as parent (see codegen.ts).

/**
 * Whose data an object is and how it was reached: `draft` through the caller's token (its
 * tenant's transaction), `live` through a public site read (that site's tenant, published only).
 * Nested look-ups (children, images, snippets) use the same scope.
 */
export interface Scope {
  tenant_id: string;
  view: View;
}

export type ContentPageModel = PageWithContent & Scope;
export type ContentPageRevisionModel = RevisionRow;
export type SnippetModel = SnippetRow & Scope;
export type MediaAssetModel = AssetRow;
export type ContentSiteModel = SiteRow;
/** Saleor's Product entity reference. */
export type ProductModel = ProductRef;
/** The auth subgraph's Account entity reference. */
export interface AccountModel {
  id: string;
}

export type HeadingBlockModel = HeadingBlockData & Scope;
export type ParagraphBlockModel = ParagraphBlockData & Scope;
export type ImageBlockModel = ImageBlockData & Scope;
export type ProductBlockModel = ProductBlockData & Scope;
export type CallToActionBlockModel = CallToActionBlockData & Scope;
export type QuoteBlockModel = QuoteBlockData & Scope;
export type EmbedBlockModel = EmbedBlockData & Scope;
export type SnippetBlockModel = SnippetBlockData & Scope;
