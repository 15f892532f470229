import { agentsRoutes } from './routes/agents.ts';
import { authRoutes } from './routes/auth.ts';
import { crmRoutes } from './routes/crm.ts';
import { saleorRoutes } from './routes/saleor.ts';
import { supersetRoutes } from './routes/superset.ts';
import { wagtailRoutes } from './routes/wagtail.ts';
import type { RestRoute } from './types.ts';

/*
 * THE route table of the legacy REST shim (`/api/brain/*`), one group per legacy service. Each
 * entry (types.ts RestRoute) is: method, path (with `{id}` params), summary, the GraphQL
 * operation, `variables` (path/query/body -> variables), `shape` (result -> legacy JSON), success
 * status, and the query/body/response schemas the OpenAPI document (`/api/brain/openapi.json`)
 * and the request validation are generated from. register.ts serves it; nothing else needs to
 * change to add a route.
 *
 *   auth        routes/auth.ts     FastAPI-Users: login (JSON or form), refresh, logout, me, health
 *   django-crm  routes/crm.ts      Django REST Framework viewsets: leads, contacts, deals, activities
 *   saleor      routes/saleor.ts   Saleor catalog: products, product
 *   wagtail     routes/wagtail.ts  Wagtail API v2: pages, snippets ("content"), images and documents
 *   superset    routes/superset.ts Superset REST API v1 (bi): dashboards, charts, chart data, datasets
 *   agents      routes/agents.ts   the CrewAI service (FastAPI): insights, agents, runs, a run's live events
 *
 * THE EXCEPTION: entries of `kind: 'stream'` run no GraphQL operation. Apollo Gateway cannot
 * carry a file, so the Wagtail media upload (`POST /wagtail/media`, multipart) and the bytes it
 * stored (`GET /wagtail/media/files/...`) are streamed to and from the CMS subgraph's own
 * `/media` endpoint (`target`: subgraph and path; its URL is the gateway's URL of the subgraph
 * with `/graphql` replaced). They pass the gateway's hooks first (request id, JWT, rate limit,
 * access log) and the entry's `auth`; only `authorization`, `x-request-id` and the entry's
 * `forward` headers travel; the body is piped, never buffered; see stream.ts. Nothing else may
 * talk to a subgraph directly.
 *
 * THE OTHER EXCEPTION: entries with `serve` answer by themselves, still only through GraphQL
 * (`call.graphql`): a run's live events, a Server-Sent Events stream (routes/agents.ts).
 */
export const ROUTES: readonly RestRoute[] = [...authRoutes, ...saleorRoutes, ...crmRoutes, ...wagtailRoutes, ...supersetRoutes, ...agentsRoutes];
