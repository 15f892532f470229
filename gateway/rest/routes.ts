import { authRoutes } from './routes/auth.ts';
import { crmRoutes } from './routes/crm.ts';
import { saleorRoutes } from './routes/saleor.ts';
import type { RestRoute } from './types.ts';

/*
 * THE route table of the legacy REST shim (`/api/brain/*`), one group per legacy service. Each
 * entry (types.ts RestRoute) is: method, path (with `{id}` params), summary, the GraphQL
 * operation, `variables` (path/query/body -> variables), `shape` (result -> legacy JSON), success
 * status, and the query/body/response schemas the OpenAPI document (`/api/brain/openapi.json`)
 * and the request validation are generated from. register.ts serves it; nothing else needs to
 * change to add a route.
 *
 *   auth        routes/auth.ts    FastAPI-Users: login (JSON or form), refresh, logout, me, health
 *   django-crm  routes/crm.ts     Django REST Framework viewsets: leads, contacts, deals, activities
 *   saleor      routes/saleor.ts  Saleor catalog: products, product
 *
 * Next: `wagtail` (cms subgraph), `superset` (bi), `agents`: a routes/<service>.ts each, added here.
 */
export const ROUTES: readonly RestRoute[] = [...authRoutes, ...saleorRoutes, ...crmRoutes];
