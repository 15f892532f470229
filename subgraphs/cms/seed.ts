import type { Tx } from '../kit/db/database.ts';
import type { SubgraphDeps } from '../kit/deps.ts';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../auth/seed.ts';
import { blocksText, validateBlocks, validateProductRefs } from './blocks.ts';
import type { ContentBlockInput } from './__generated__/resolvers-types.ts';
import * as store from './store.ts';

/** Demo sites: storefronts read `publishedContentPage(site: "<siteKey or tenant slug>", ...)`. */
export const DEMO_SITES = [
  { tenant: 'acme', siteKey: 'acme-shop', name: 'Acme Shop' },
  { tenant: 'globex', siteKey: 'globex-store', name: 'Globex Store' },
] as const;

/** Saleor stand-in products listed in both demo channels (see subgraphs/saleor/catalog.ts). */
const product = (pk: number) => Buffer.from(`Product:${pk}`).toString('base64');

type Status = 'draft' | 'published' | 'updated';

interface DemoPage {
  path: string;
  title: string;
  status: Status;
  seoDescription?: string;
  body: ContentBlockInput[];
  featured?: number[];
}

const paragraph = (html: string): ContentBlockInput => ({ paragraph: { html } });
const heading = (text: string, level = 2): ContentBlockInput => ({ heading: { text, level } });

function demoPages(tenant: string, snippetId: string): DemoPage[] {
  if (tenant === 'globex') {
    return [
      {
        path: '/home',
        title: 'Globex Corporation',
        status: 'published',
        body: [heading('Innovation for a better tomorrow'), paragraph('<p>Globex makes <strong>everything</strong> you need.</p>'), { product: { productId: product(4) } }, { snippet: { snippetId } }],
        featured: [4, 5],
      },
      { path: '/careers', title: 'Careers at Globex', status: 'draft', body: [paragraph('<p>Confidential: hiring plans for next year.</p>')] },
    ];
  }
  return [
    {
      path: '/home',
      title: 'Welcome to Acme',
      status: 'published',
      seoDescription: 'Acme: tees, hoodies and mugs for agencies.',
      body: [
        heading('Made for agencies'),
        paragraph('<p>Soft <em>ring-spun</em> cotton tees, hoodies and mugs. <a href="/home/about">About us</a>.</p>'),
        { product: { productId: product(1), caption: 'Our best seller' } },
        { callToAction: { text: 'Shop now', url: '/shop', style: 'PRIMARY' } },
        { snippet: { snippetId } },
      ],
      featured: [1, 2, 3],
    },
    {
      path: '/home/about',
      title: 'About Acme',
      status: 'published',
      body: [heading('Our story'), paragraph('<p>Founded in a garage, now shipping worldwide.</p>'), { quote: { text: 'Quality is never an accident.', attribution: 'John Ruskin' } }],
    },
    { path: '/home/about/team', title: 'Our team', status: 'draft', body: [paragraph('<p>Meet the people behind Acme.</p>')] },
    {
      path: '/home/summer-sale',
      title: 'Summer Sale',
      status: 'draft',
      body: [heading('Summer Sale'), paragraph('<p>Secret: everything 20% off from July.</p>')],
      featured: [13, 25],
    },
    {
      path: '/blog',
      title: 'Blog',
      status: 'published',
      body: [paragraph('<p>News from the Acme workshop.</p>')],
    },
    {
      path: '/blog/hello-world',
      title: 'Hello, world',
      status: 'updated',
      body: [paragraph('<p>Our first post.</p>'), { embed: { url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', title: 'Launch video' } }],
    },
  ];
}

async function insertDemoPage(tx: Tx, page: DemoPage, channel: string, authorId: string | null) {
  const slug = page.path.split('/').pop()!;
  const parentPath = page.path.slice(0, page.path.lastIndexOf('/'));
  const parent = parentPath ? await store.pageByPath(tx, 'draft', parentPath) : null;
  const id = await store.insertPage(tx, {
    parentId: parent?.id ?? null,
    position: (await store.siblingIds(tx, parent?.id ?? null)).length,
    slug,
    urlPath: page.path,
    depth: page.path.split('/').length - 2,
    locale: 'en',
    authorId,
  });
  const { blocks, errors } = validateBlocks(page.body, { defaultChannel: channel, allowSnippets: true });
  const featured = validateProductRefs((page.featured ?? []).map((pk) => ({ productId: product(pk) })), channel);
  if (errors.length || featured.errors.length) throw new Error(`bad demo page ${page.path}: ${JSON.stringify([...errors, ...featured.errors])}`);
  const content = {
    title: page.title,
    seoTitle: null,
    seoDescription: page.seoDescription ?? null,
    body: blocks,
    featuredProducts: featured.refs,
    text: blocksText(blocks),
  };
  const first = await store.insertRevision(tx, id, content, authorId);
  if (page.status !== 'draft') await store.publish(tx, id, first);
  if (page.status === 'updated') {
    // Published, with a newer draft: the live page still shows the first revision.
    await store.insertRevision(tx, id, { ...content, title: `${page.title} (draft edit)` }, authorId);
  }
}

/** Idempotent: a tenant's site and demo content are written once, when it has none. */
export async function seedDemoContent(deps: SubgraphDeps): Promise<void> {
  for (const site of DEMO_SITES) {
    const tenant = DEMO_TENANTS.find((t) => t.slug === site.tenant)!;
    // Sites are the owner's to write (no tenant may claim another's key or slug).
    await deps.asOwner((tx) =>
      tx.query(
        `INSERT INTO cms.sites (tenant_id, site_key, tenant_slug, name, saleor_channel) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`,
        [tenant.id, site.siteKey, tenant.slug, site.name, tenant.saleorChannel],
      ),
    );
    const author = DEMO_ACCOUNTS.find((a) => a.tenant === tenant.slug && (a.role === 'editor' || a.role === 'owner'));
    await deps.db.withTenant({ tenantId: tenant.id, accountId: author?.id ?? null }, async (tx) => {
      const { rows } = await tx.query('SELECT 1 FROM cms.pages LIMIT 1');
      if (rows.length) return;
      const footer = validateBlocks(
        [paragraph(`<p>© ${tenant.name}. <a href="/home/about">About</a> · <a href="mailto:hello@${tenant.slug}.example">Contact</a></p>`)],
        { defaultChannel: tenant.saleorChannel, allowSnippets: false },
      );
      const snippet = (await store.insertSnippet(tx, { key: 'footer', title: 'Footer', body: footer.blocks }, author?.id ?? null))!;
      await store.insertSnippet(
        tx,
        { key: 'promo-banner', title: 'Promo banner', body: validateBlocks([{ callToAction: { text: 'Free shipping over $50', url: '/shop' } }], { defaultChannel: null, allowSnippets: false }).blocks },
        author?.id ?? null,
      );
      for (const page of demoPages(tenant.slug, snippet.id)) await insertDemoPage(tx, page, tenant.saleorChannel, author?.id ?? null);
    });
  }
}
