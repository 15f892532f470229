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

/**
 * The GraphQL IDE at GET /graphql (development only). Apollo's Sandbox loads from a CDN and is
 * blank offline; GraphiQL from @graphql-yoga/render-graphiql is one self-contained page (~9 MB),
 * so it is rendered once and gzipped once (in the background) and served from memory.
 * Loaded with a dynamic import so production never holds the bundle.
 */
export async function createIde(options: { password: string; endpoint?: string }): Promise<Ide> {
  const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
  const html = renderGraphiQL({
    title: 'BizOSaaS supergraph',
    endpoint: options.endpoint ?? '/graphql',
    defaultTabs: [
      { query: loginQuery(options.password) },
      { query: viewerQuery, headers: JSON.stringify({ Authorization: 'Bearer <accessToken>' }, null, 2) },
    ],
    shouldPersistHeaders: true,
  });
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
