import { request } from 'undici';
import type { SubgraphDeps } from '../kit/deps.ts';
import { delegationSecret } from '../kit/delegation-secret.ts';
import { authDelegateUrl, type GatewayAccessSettings } from './gateway-settings.ts';
import { RunError } from './run-error.ts';

/** A token is asked for again this long before it expires (or at half its life, if shorter). */
const RENEW_BEFORE_MS = 60_000;
const DELEGATE_TIMEOUT_MS = 10_000;

export type GatewayAccessDeps = Pick<SubgraphDeps<GatewayAccessSettings>, 'config' | 'env' | 'settings' | 'log'>;

/** The access token of a run's member, as the auth subgraph delegates it. */
export interface RunCredentials {
  /**
   * A token with the member's CURRENT roles, reused until shortly before it expires; `fresh`
   * asks for a new one (after the gateway refused the last one: the member's role changed).
   * Throws RunError: FORBIDDEN (no longer a member), UPSTREAM_ERROR (auth unreachable:
   * retryable), INTERNAL (the delegation secret is refused), CANCELLED (the signal aborted).
   */
  token(options?: { fresh?: boolean; signal?: AbortSignal }): Promise<string>;
}

const secrets = new WeakMap<object, string>();

/**
 * The delegation secret of these settings, read once (AUTH_DELEGATION_SECRET, else the
 * development file). Throws ConfigError in production without it: call it at start so the
 * process stops there, not at its first run.
 */
export function gatewayAccessSecret(deps: Pick<GatewayAccessDeps, 'config' | 'settings'>): string {
  let secret = secrets.get(deps.settings);
  if (!secret) secrets.set(deps.settings, (secret = delegationSecret(deps.config, deps.settings.AUTH_DELEGATION_SECRET)));
  return secret;
}

/** The credentials a run acts with: its member in its tenant (for a scheduled run, the agent's owner). */
export function runCredentials(deps: GatewayAccessDeps, member: { tenantId: string; accountId: string }): RunCredentials {
  const url = authDelegateUrl(deps.settings, deps.env);
  let current: { token: string; renewAt: number } | null = null;
  let pending: Promise<string> | null = null;

  async function delegate(signal?: AbortSignal): Promise<string> {
    const started = Date.now();
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${gatewayAccessSecret(deps)}`, 'content-type': 'application/json' },
        body: JSON.stringify(member),
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(DELEGATE_TIMEOUT_MS)]) : AbortSignal.timeout(DELEGATE_TIMEOUT_MS),
      });
    } catch (error) {
      if (signal?.aborted) throw new RunError('CANCELLED', 'The run was cancelled.');
      deps.log.warn({ tenant: member.tenantId, err: (error as Error).message }, 'agents: the auth subgraph cannot be reached for run credentials');
      throw new RunError('UPSTREAM_ERROR', 'The sign-in service is unavailable; the run will be retried.');
    }
    const body = (await response.body.json().catch(() => null)) as { accessToken?: unknown; expiresAt?: unknown } | null;
    if (response.statusCode === 403) {
      throw new RunError('FORBIDDEN', 'The member this run acts as is no longer a member of the tenant.', false);
    }
    if (response.statusCode === 401) {
      deps.log.error({ tenant: member.tenantId }, 'agents: the auth subgraph refused the delegation secret (AUTH_DELEGATION_SECRET must be the same in auth and agents)');
      throw new RunError('INTERNAL', 'The agents service cannot act for members; an administrator must check its configuration.', false);
    }
    const expiresAt = typeof body?.expiresAt === 'string' ? Date.parse(body.expiresAt) : NaN;
    if (response.statusCode !== 200 || typeof body?.accessToken !== 'string' || !Number.isFinite(expiresAt)) {
      deps.log.warn({ tenant: member.tenantId, status: response.statusCode }, 'agents: unexpected answer from the auth subgraph');
      throw new RunError('UPSTREAM_ERROR', 'The sign-in service failed; the run will be retried.');
    }
    const lifetime = expiresAt - started;
    current = { token: body.accessToken, renewAt: expiresAt - Math.min(RENEW_BEFORE_MS, lifetime / 2) };
    return body.accessToken;
  }

  return {
    token(options = {}) {
      if (!options.fresh && current && Date.now() < current.renewAt) return Promise.resolve(current.token);
      // Concurrent callers (a model's parallel tool calls) share one request.
      pending ??= delegate(options.signal).finally(() => {
        pending = null;
      });
      return pending;
    },
  };
}
