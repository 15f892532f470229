import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { SubgraphDeps } from '../kit/deps.ts';
import { delegationSecret } from '../kit/delegation-secret.ts';
import { isUuid } from '../kit/formats.ts';
import type { AuthSettings } from './settings.ts';
import { signingKey } from './signing-keys.ts';
import * as store from './store.ts';
import { signAccessToken } from './tokens.ts';

/** The longest a delegated token lives (the agents subgraph asks again before it expires). */
export const DELEGATED_TOKEN_TTL_SECONDS = 300;

/** Who a delegated token acts for a member as: its `act.sub`. */
const ACTOR = 'agents';

const digest = (value: string) => createHash('sha256').update(value).digest();

/*
 * POST /internal/delegate on the auth subgraph: a short-lived access token for a membership, on
 * request of the agents subgraph, whose runs act at the gateway with the rights of the member
 * who started them (or an agent's owner). Internal: served on auth's own port, which the gateway
 * never routes (it routes /graphql only).
 *
 *   authorization: Bearer <AUTH_DELEGATION_SECRET>
 *   {"tenantId": uuid, "accountId": uuid}
 *   200  {"accessToken", "expiresAt"}: the membership's roles as they are NOW (a demoted member's
 *        next token has the new role), at most 5 minutes (and never past ACCESS_TOKEN_TTL_SECONDS),
 *        `act: {"sub": "agents"}`, no platform_admin (a run needs no platform rights)
 *   400  not two UUIDs   401  no or a wrong secret   403  not a member of that tenant
 *
 * The secret is compared in constant time (SHA-256 of both, so their lengths do not show either),
 * and neither it nor a token is ever logged.
 */
export async function registerDelegationRoute(app: FastifyInstance, deps: SubgraphDeps<AuthSettings>): Promise<void> {
  const expected = digest(delegationSecret(deps.config, deps.settings.AUTH_DELEGATION_SECRET));
  const key = await signingKey(deps);

  app.post('/internal/delegate', async (request, reply) => {
    const header = request.headers.authorization;
    const presented = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      deps.log.warn({ requestId: request.id }, 'delegation refused: missing or wrong secret');
      return reply.code(401).send({ error: 'Missing or invalid delegation secret.' });
    }
    const body = (request.body ?? {}) as { tenantId?: unknown; accountId?: unknown };
    if (!isUuid(body.tenantId) || !isUuid(body.accountId)) {
      return reply.code(400).send({ error: 'Expected {"tenantId", "accountId"}, both UUIDs.' });
    }
    const tenantId = body.tenantId;
    const accountId = body.accountId;
    const membership = await deps.db.withTenant({ tenantId, accountId: null }, async (tx) => (await store.membershipsByAccountIds(tx, [accountId]))[0]);
    if (!membership) {
      deps.log.info({ requestId: request.id, tenant: tenantId, account: accountId }, 'delegation refused: not a member');
      return reply.code(403).send({ error: 'The account is not a member of the tenant.' });
    }
    const issued = await signAccessToken(
      deps,
      key,
      // A session of its own: logging the member out of a browser session does not end a run;
      // removing or demoting the member does (a revocation per account in the tenant).
      { accountId, tenantId, roles: [membership.role], sessionId: randomUUID(), platformAdmin: false },
      { actor: ACTOR, ttlSeconds: DELEGATED_TOKEN_TTL_SECONDS },
    );
    deps.log.info({ requestId: request.id, tenant: tenantId, account: accountId, role: membership.role }, 'delegated token issued');
    return { accessToken: issued.token, expiresAt: new Date(issued.expiresAt * 1000).toISOString() };
  });
}
