import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface Ide {
  /** True when this GET should get the IDE page rather than GraphQL-over-GET handling. */
  wants(request: FastifyRequest): boolean;
  send(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
}

export const loginQuery = (password: string) => `# Welcome to the BizOSaaS supergraph.
# 1. Run this mutation (the play button): it logs in the demo owner of the "acme" tenant.
# 2. Copy "accessToken" from the result.
# 3. Open the next tab and paste it into the Authorization header (Headers, bottom left).
mutation Login {
  login(email: "owner@acme.example", password: ${JSON.stringify(password)}) {
    accessToken
    refreshToken
    expiresIn
    errors { field message code }
  }
}
`;

export const viewerQuery = `# Paste the accessToken from the Login tab into Headers below:
#   { "Authorization": "Bearer <accessToken>" }
# viewer comes from the auth subgraph, your Saleor orders and the products from Saleor,
# in one request.
query ViewerAndProducts {
  viewer {
    account {
      email
      name
      saleorUser { orders(first: 3) { edges { node { number total { gross { amount currency } } } } } }
    }
    tenant { name saleorChannel }
    roles
  }
  products(first: 5, channel: "acme-channel") {
    totalCount
    edges { node { id name } }
  }
}
`;

/** Apollo's hosted Sandbox (Explorer); `?endpoint=` is the GraphQL endpoint it opens on. */
export const APOLLO_SANDBOX_EXPLORER = 'https://studio.apollographql.com/sandbox/explorer';

/** The Apollo Sandbox URL that opens on `endpoint` (an absolute URL). */
export const sandboxUrl = (endpoint: string) => `${APOLLO_SANDBOX_EXPLORER}?endpoint=${encodeURIComponent(endpoint)}`;

/**
 * A link to Apollo Sandbox on this endpoint, in a corner of the page. The page does not know the
 * address its browser reached it at (a proxy, a port mapping): the link is completed in the
 * browser from its location. Sandbox can call the gateway because the gateway allows its origin
 * outside production (gateway/cors.ts), as it serves this page only there.
 */
export function sandboxLink(endpoint: string): string {
  const style = [
    'position:fixed', 'right:16px', 'bottom:16px', 'z-index:1000', 'padding:6px 10px', 'border-radius:6px',
    'background:#3f20ba', 'color:#fff', 'font:13px system-ui,sans-serif', 'text-decoration:none',
  ].join(';');
  return `<a id="apollo-sandbox-link" href="${APOLLO_SANDBOX_EXPLORER}" target="_blank" rel="noopener noreferrer" style="${style}">Open in Apollo Sandbox</a>
<script>(function () {
  var link = document.getElementById('apollo-sandbox-link');
  link.href = ${JSON.stringify(`${APOLLO_SANDBOX_EXPLORER}?endpoint=`)} + encodeURIComponent(new URL(${JSON.stringify(endpoint)}, window.location.href).href);
})();</script>
`;
}

/**
 * The GraphQL IDE at GET /graphql (development only). Apollo's Sandbox loads from a CDN and is
 * blank offline; GraphiQL from @graphql-yoga/render-graphiql is one self-contained page (~9 MB),
 * so it is rendered once and gzipped once (in the background) and served from memory.
 * Loaded with a dynamic import so production never holds the bundle. It links to Apollo Sandbox
 * on the same endpoint (sandboxLink).
 */
export async function createIde(options: { password: string; endpoint?: string }): Promise<Ide> {
  const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
  const endpoint = options.endpoint ?? '/graphql';
  const page = renderGraphiQL({
    title: 'BizOSaaS supergraph',
    endpoint,
    defaultTabs: [
      { query: loginQuery(options.password) },
      { query: viewerQuery, headers: JSON.stringify({ Authorization: 'Bearer <accessToken>' }, null, 2) },
    ],
    shouldPersistHeaders: true,
  });
  const end = page.lastIndexOf('</body>');
  const html = end < 0 ? page + sandboxLink(endpoint) : page.slice(0, end) + sandboxLink(endpoint) + page.slice(end);
  const gzipped = promisify(gzip)(html);
  gzipped.catch(() => undefined); // a failure only means uncompressed pages
  return {
    wants(request) {
      const accept = request.headers.accept ?? '';
      const query = request.query as Record<string, unknown> | undefined;
      return accept.includes('text/html') && !query?.query;
    },
    async send(request, reply) {
      void reply.header('content-type', 'text/html; charset=utf-8').header('vary', 'accept, accept-encoding');
      const compressed = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? '')) ? await gzipped.catch(() => null) : null;
      if (compressed) return reply.header('content-encoding', 'gzip').send(compressed);
      return reply.send(html);
    },
  };
}
