import { snakeKeys, lowerEnum } from '../case.ts';
import { badInput, detail } from '../errors.ts';
import { named, type RestCall, type RestRoute } from '../types.ts';

/*
 * `/api/brain/auth/*`: what the FastAPI-Users auth service answered, served by the auth subgraph.
 * Its dialect: `{"detail": "..."}` errors, 422 with a `detail` list for bad input, and bad
 * credentials as 400 `LOGIN_BAD_CREDENTIALS` (FastAPI-Users' code, which clients match on).
 *
 * `/me` answers what the graph knows (FastAPI-Users' `is_superuser`/`is_verified` are not part
 * of the graph and are left out rather than guessed; every account that holds a token is active).
 */

const TOKENS = named('TokenPair', {
  type: 'object',
  properties: {
    access_token: { type: 'string', description: 'JWT, sent as `Authorization: Bearer <token>`' },
    refresh_token: { type: 'string', description: 'Opaque; rotated on every refresh' },
    token_type: { const: 'bearer' },
    expires_in: { type: 'integer', description: 'Seconds until the access token expires' },
  },
  required: ['access_token', 'refresh_token', 'token_type', 'expires_in'],
});

const ME = named('Me', {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    email: { type: 'string', format: 'email' },
    name: { type: 'string' },
    is_active: { type: 'boolean' },
    created_at: { type: 'string', format: 'date-time' },
    tenant: {
      type: 'object',
      properties: { id: { type: 'string' }, slug: { type: 'string' }, name: { type: 'string' }, saleor_channel: { type: 'string' } },
      required: ['id', 'slug', 'name', 'saleor_channel'],
    },
    roles: { type: 'array', items: { enum: ['owner', 'admin', 'editor', 'analyst', 'viewer'] } },
    memberships: {
      type: 'array',
      items: {
        type: 'object',
        properties: { tenant: { type: 'object', properties: { slug: { type: 'string' }, name: { type: 'string' } } }, role: { type: 'string' } },
      },
    },
  },
  required: ['id', 'email', 'name', 'is_active', 'tenant', 'roles'],
});

const REFRESH_BODY = {
  type: 'object',
  properties: { refresh_token: { type: 'string', minLength: 1, maxLength: 512 } },
  additionalProperties: false,
};

/** The AuthPayload selection every token-issuing mutation returns. */
const SESSION = 'accessToken refreshToken tokenType expiresIn errors { field message code }';

const tokenPair = (session: { accessToken: string; refreshToken: string; expiresIn: number }) => ({
  access_token: session.accessToken,
  refresh_token: session.refreshToken,
  token_type: 'bearer',
  expires_in: session.expiresIn,
});

const field = (call: RestCall, name: string) => {
  const value = (call.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
};

export const authRoutes: RestRoute[] = [
  {
    method: 'POST',
    path: '/auth/login',
    id: 'authLogin',
    tag: 'auth',
    dialect: 'fastapi',
    auth: 'none',
    summary: 'Log in with email and password',
    description:
      'JSON `{"email", "password"}` or the OAuth2 password form FastAPI-Users used (`username`, `password`, form-encoded). ' +
      'Optional `tenant_slug` picks the tenant (default: the oldest membership). Bad credentials: 400 `LOGIN_BAD_CREDENTIALS`.',
    operation: `mutation RestLogin($email: String!, $password: String!, $tenantSlug: String) {
      login(email: $email, password: $password, tenantSlug: $tenantSlug) { ${SESSION} }
    }`,
    root: 'login',
    body: {
      schema: {
        type: 'object',
        properties: {
          email: { type: 'string', maxLength: 254 },
          username: { type: 'string', maxLength: 254, description: 'The email, under its OAuth2 form name' },
          password: { type: 'string', maxLength: 1024 },
          tenant_slug: { type: 'string', maxLength: 64 },
        },
        required: ['password'],
        additionalProperties: false,
      },
    },
    variables: (call) => {
      const email = field(call, 'email') ?? field(call, 'username');
      if (!email) throw badInput('fastapi', [{ field: 'username', message: 'Field required', type: 'missing' }]);
      return { email, password: field(call, 'password'), tenantSlug: field(call, 'tenant_slug') ?? null };
    },
    shape: tokenPair,
    response: TOKENS,
    errors: { UNAUTHENTICATED: { status: 400, detail: 'LOGIN_BAD_CREDENTIALS' } },
  },
  {
    method: 'POST',
    path: '/auth/refresh',
    id: 'authRefresh',
    tag: 'auth',
    dialect: 'fastapi',
    auth: 'none',
    summary: 'Exchange a refresh token for new tokens',
    description: 'The refresh token is rotated: the old one stops working, and presenting it again revokes the session.',
    operation: `mutation RestRefresh($refreshToken: String!) { refreshSession(refreshToken: $refreshToken) { ${SESSION} } }`,
    root: 'refreshSession',
    body: { schema: { ...REFRESH_BODY, required: ['refresh_token'] } },
    variables: (call) => ({ refreshToken: field(call, 'refresh_token') }),
    shape: tokenPair,
    response: TOKENS,
  },
  {
    method: 'POST',
    path: '/auth/logout',
    id: 'authLogout',
    tag: 'auth',
    dialect: 'fastapi',
    auth: 'none',
    summary: 'Log out: revoke the refresh token and its session',
    description:
      'Send `{"refresh_token"}` to revoke that session. Without one there is nothing to revoke on the server (access ' +
      'tokens are short-lived JWTs), so the answer is the same 204, as FastAPI-Users gave for JWT logouts.',
    operation: 'mutation RestLogout($refreshToken: String!) { logout(refreshToken: $refreshToken) { ok errors { field message code } } }',
    root: 'logout',
    body: { schema: REFRESH_BODY },
    variables: (call) => {
      const refreshToken = field(call, 'refresh_token');
      return refreshToken ? { refreshToken } : null;
    },
    status: 204,
  },
  {
    method: 'GET',
    path: '/auth/me',
    id: 'authMe',
    tag: 'auth',
    dialect: 'fastapi',
    auth: 'required',
    summary: 'The logged-in account, its tenant and roles',
    operation: `query RestMe {
      viewer {
        account { id email name createdAt }
        tenant { id slug name saleorChannel }
        roles
        memberships { tenant { slug name } role }
      }
    }`,
    shape: (data: { viewer: any }) => {
      // FastAPI-Users: anonymous is 401 "Unauthorized" (the graph answers `viewer: null`).
      if (!data.viewer) throw detail(401, 'Unauthorized', { 'www-authenticate': 'Bearer' });
      const { account, tenant, roles, memberships } = data.viewer;
      return {
        ...snakeKeys(account),
        is_active: true,
        tenant: snakeKeys(tenant),
        roles: roles.map(lowerEnum),
        memberships: memberships.map((m: any) => ({ tenant: m.tenant, role: lowerEnum(m.role) })),
      };
    },
    response: ME,
  },
  {
    method: 'GET',
    path: '/auth/health',
    id: 'authHealth',
    tag: 'auth',
    dialect: 'fastapi',
    auth: 'none',
    summary: "The auth service's health",
    description: '`{"status": "ok"}` when the auth subgraph answers its health check (as `/ready` sees it), else 503.',
    health: 'auth',
    response: named('Health', { type: 'object', properties: { status: { enum: ['ok', 'unavailable'] } }, required: ['status'] }),
  },
];
