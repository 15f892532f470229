/* eslint-disable */
import * as types from './graphql.ts';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query ContentPage($site: String!, $path: String!) {\n  publishedContentPage(site: $site, path: $path) {\n    id\n    title\n    urlPath\n    locale\n    seoTitle\n    seoDescription\n    lastPublishedAt\n    body {\n      __typename\n      id\n      ... on HeadingBlock {\n        text\n        level\n      }\n      ... on ParagraphBlock {\n        html\n      }\n      ... on ProductBlock {\n        caption\n        product {\n          ...ProductCard\n        }\n      }\n      ... on CallToActionBlock {\n        text\n        url\n        style\n      }\n    }\n    featuredProducts {\n      ...ProductCard\n    }\n  }\n  navigation: publishedContentPages(\n    site: $site\n    filter: {topLevel: true}\n    first: 20\n  ) {\n    edges {\n      node {\n        id\n        title\n        urlPath\n      }\n    }\n  }\n}": typeof types.ContentPageDocument,
    "mutation Login($email: String!, $password: String!, $tenantSlug: String) {\n  login(email: $email, password: $password, tenantSlug: $tenantSlug) {\n    accessToken\n    refreshToken\n    tokenType\n    expiresIn\n    errors {\n      code\n      message\n    }\n  }\n}": typeof types.LoginDocument,
    "query PipelineBoard($first: Int = 100, $after: String) {\n  pipeline {\n    dealCount\n    amounts {\n      currency\n      amount\n    }\n    stages {\n      stage {\n        id\n        name\n        position\n        probability\n        kind\n      }\n      dealCount\n      amounts {\n        currency\n        amount\n      }\n      weightedAmounts {\n        currency\n        amount\n      }\n    }\n  }\n  deals(\n    first: $first\n    after: $after\n    filter: {stageKinds: [OPEN]}\n    sortBy: {field: EXPECTED_CLOSE_DATE, direction: ASC}\n  ) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        id\n        title\n        amount\n        currency\n        probability\n        expectedCloseDate\n        stageEnteredAt\n        tags\n        stage {\n          id\n        }\n        contact {\n          id\n          name\n          company\n        }\n        owner {\n          id\n          name\n        }\n        products {\n          ...ProductCard\n        }\n      }\n    }\n  }\n}": typeof types.PipelineBoardDocument,
    "fragment ProductCard on Product {\n  id\n  channel\n  name\n  slug\n  thumbnail(size: 256) {\n    url\n    alt\n  }\n  pricing {\n    priceRange {\n      start {\n        gross {\n          amount\n          currency\n        }\n      }\n    }\n  }\n}": typeof types.ProductCardFragmentDoc,
};
const documents: Documents = {
    "query ContentPage($site: String!, $path: String!) {\n  publishedContentPage(site: $site, path: $path) {\n    id\n    title\n    urlPath\n    locale\n    seoTitle\n    seoDescription\n    lastPublishedAt\n    body {\n      __typename\n      id\n      ... on HeadingBlock {\n        text\n        level\n      }\n      ... on ParagraphBlock {\n        html\n      }\n      ... on ProductBlock {\n        caption\n        product {\n          ...ProductCard\n        }\n      }\n      ... on CallToActionBlock {\n        text\n        url\n        style\n      }\n    }\n    featuredProducts {\n      ...ProductCard\n    }\n  }\n  navigation: publishedContentPages(\n    site: $site\n    filter: {topLevel: true}\n    first: 20\n  ) {\n    edges {\n      node {\n        id\n        title\n        urlPath\n      }\n    }\n  }\n}": types.ContentPageDocument,
    "mutation Login($email: String!, $password: String!, $tenantSlug: String) {\n  login(email: $email, password: $password, tenantSlug: $tenantSlug) {\n    accessToken\n    refreshToken\n    tokenType\n    expiresIn\n    errors {\n      code\n      message\n    }\n  }\n}": types.LoginDocument,
    "query PipelineBoard($first: Int = 100, $after: String) {\n  pipeline {\n    dealCount\n    amounts {\n      currency\n      amount\n    }\n    stages {\n      stage {\n        id\n        name\n        position\n        probability\n        kind\n      }\n      dealCount\n      amounts {\n        currency\n        amount\n      }\n      weightedAmounts {\n        currency\n        amount\n      }\n    }\n  }\n  deals(\n    first: $first\n    after: $after\n    filter: {stageKinds: [OPEN]}\n    sortBy: {field: EXPECTED_CLOSE_DATE, direction: ASC}\n  ) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        id\n        title\n        amount\n        currency\n        probability\n        expectedCloseDate\n        stageEnteredAt\n        tags\n        stage {\n          id\n        }\n        contact {\n          id\n          name\n          company\n        }\n        owner {\n          id\n          name\n        }\n        products {\n          ...ProductCard\n        }\n      }\n    }\n  }\n}": types.PipelineBoardDocument,
    "fragment ProductCard on Product {\n  id\n  channel\n  name\n  slug\n  thumbnail(size: 256) {\n    url\n    alt\n  }\n  pricing {\n    priceRange {\n      start {\n        gross {\n          amount\n          currency\n        }\n      }\n    }\n  }\n}": types.ProductCardFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ContentPage($site: String!, $path: String!) {\n  publishedContentPage(site: $site, path: $path) {\n    id\n    title\n    urlPath\n    locale\n    seoTitle\n    seoDescription\n    lastPublishedAt\n    body {\n      __typename\n      id\n      ... on HeadingBlock {\n        text\n        level\n      }\n      ... on ParagraphBlock {\n        html\n      }\n      ... on ProductBlock {\n        caption\n        product {\n          ...ProductCard\n        }\n      }\n      ... on CallToActionBlock {\n        text\n        url\n        style\n      }\n    }\n    featuredProducts {\n      ...ProductCard\n    }\n  }\n  navigation: publishedContentPages(\n    site: $site\n    filter: {topLevel: true}\n    first: 20\n  ) {\n    edges {\n      node {\n        id\n        title\n        urlPath\n      }\n    }\n  }\n}"): (typeof documents)["query ContentPage($site: String!, $path: String!) {\n  publishedContentPage(site: $site, path: $path) {\n    id\n    title\n    urlPath\n    locale\n    seoTitle\n    seoDescription\n    lastPublishedAt\n    body {\n      __typename\n      id\n      ... on HeadingBlock {\n        text\n        level\n      }\n      ... on ParagraphBlock {\n        html\n      }\n      ... on ProductBlock {\n        caption\n        product {\n          ...ProductCard\n        }\n      }\n      ... on CallToActionBlock {\n        text\n        url\n        style\n      }\n    }\n    featuredProducts {\n      ...ProductCard\n    }\n  }\n  navigation: publishedContentPages(\n    site: $site\n    filter: {topLevel: true}\n    first: 20\n  ) {\n    edges {\n      node {\n        id\n        title\n        urlPath\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Login($email: String!, $password: String!, $tenantSlug: String) {\n  login(email: $email, password: $password, tenantSlug: $tenantSlug) {\n    accessToken\n    refreshToken\n    tokenType\n    expiresIn\n    errors {\n      code\n      message\n    }\n  }\n}"): (typeof documents)["mutation Login($email: String!, $password: String!, $tenantSlug: String) {\n  login(email: $email, password: $password, tenantSlug: $tenantSlug) {\n    accessToken\n    refreshToken\n    tokenType\n    expiresIn\n    errors {\n      code\n      message\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query PipelineBoard($first: Int = 100, $after: String) {\n  pipeline {\n    dealCount\n    amounts {\n      currency\n      amount\n    }\n    stages {\n      stage {\n        id\n        name\n        position\n        probability\n        kind\n      }\n      dealCount\n      amounts {\n        currency\n        amount\n      }\n      weightedAmounts {\n        currency\n        amount\n      }\n    }\n  }\n  deals(\n    first: $first\n    after: $after\n    filter: {stageKinds: [OPEN]}\n    sortBy: {field: EXPECTED_CLOSE_DATE, direction: ASC}\n  ) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        id\n        title\n        amount\n        currency\n        probability\n        expectedCloseDate\n        stageEnteredAt\n        tags\n        stage {\n          id\n        }\n        contact {\n          id\n          name\n          company\n        }\n        owner {\n          id\n          name\n        }\n        products {\n          ...ProductCard\n        }\n      }\n    }\n  }\n}"): (typeof documents)["query PipelineBoard($first: Int = 100, $after: String) {\n  pipeline {\n    dealCount\n    amounts {\n      currency\n      amount\n    }\n    stages {\n      stage {\n        id\n        name\n        position\n        probability\n        kind\n      }\n      dealCount\n      amounts {\n        currency\n        amount\n      }\n      weightedAmounts {\n        currency\n        amount\n      }\n    }\n  }\n  deals(\n    first: $first\n    after: $after\n    filter: {stageKinds: [OPEN]}\n    sortBy: {field: EXPECTED_CLOSE_DATE, direction: ASC}\n  ) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        id\n        title\n        amount\n        currency\n        probability\n        expectedCloseDate\n        stageEnteredAt\n        tags\n        stage {\n          id\n        }\n        contact {\n          id\n          name\n          company\n        }\n        owner {\n          id\n          name\n        }\n        products {\n          ...ProductCard\n        }\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment ProductCard on Product {\n  id\n  channel\n  name\n  slug\n  thumbnail(size: 256) {\n    url\n    alt\n  }\n  pricing {\n    priceRange {\n      start {\n        gross {\n          amount\n          currency\n        }\n      }\n    }\n  }\n}"): (typeof documents)["fragment ProductCard on Product {\n  id\n  channel\n  name\n  slug\n  thumbnail(size: 256) {\n    url\n    alt\n  }\n  pricing {\n    priceRange {\n      start {\n        gross {\n          amount\n          currency\n        }\n      }\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;