import { configSchema } from '../../subgraphs/kit/config.ts';

/**
 * The demo accounts' password: the default of DEMO_PASSWORD in subgraphs/kit/config.ts, which the
 * seed uses (test backends and `npm start` in the tests never set it).
 */
export const DEMO_PASSWORD: string = configSchema.shape.DEMO_PASSWORD.parse(undefined);

/**
 * POSTs a JSON body the way GraphQL clients do and returns the raw response. A string body is
 * sent as it is (malformed JSON included); anything else is serialised.
 */
export function postJson(
  url: string,
  body: unknown,
  options: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: options.signal,
  });
}

/** Posts a GraphQL operation over HTTP, the way clients do. */
export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: number; data?: T | null; errors?: { message: string; path?: unknown[]; extensions?: Record<string, any> }[]; headers: Headers }> {
  const response = await postJson(url, { query, variables }, { headers });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON response ${response.status}: ${text.slice(0, 200)}`);
  }
  return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const LOGIN = `mutation($email: String!, $password: String!, $tenantSlug: String) {
  login(email: $email, password: $password, tenantSlug: $tenantSlug) { accessToken }
}`;

/**
 * Logs in with the GraphQL `login` mutation at `url` (the auth subgraph or the gateway) and
 * returns the access token; any error, or no token, fails the caller. The password defaults to
 * the demo accounts' one.
 */
export async function login(url: string, email: string, options: { password?: string; tenantSlug?: string } = {}): Promise<string> {
  const result = await gql(url, LOGIN, { email, password: options.password ?? DEMO_PASSWORD, tenantSlug: options.tenantSlug });
  const token = result.data?.login?.accessToken;
  if (result.errors || typeof token !== 'string' || !token) throw new Error(`login failed for ${email}: ${JSON.stringify(result.errors)}`);
  return token;
}
