import type { TxRunner } from '../../kit/db/database.ts';
import { ONE_STATEMENT } from '../../kit/db/database.ts';
import type { TokenUsage } from '../analysts/types.ts';

/**
 * The tenant's daily model token budget (AGENTS_DAILY_TOKENS), kept in `agents.daily_usage`
 * (one row per tenant and UTC day; the run quota counts runs in the same row). A call is refused
 * before it starts when the day's tokens are used up, and each model step's tokens are added as
 * soon as it ends, so parallel runs of a tenant see each other's spending. (Two runs that start
 * at the same moment may both pass the check: the budget can be overrun by what their steps in
 * flight use, never by a call started after it ran out.)
 */
export interface TokenBudget {
  readonly limit: number;
  /** Tokens left today (0 when used up or over). */
  remaining(): Promise<number>;
  /** Counts a step's tokens against today; returns the tokens left. */
  add(usage: TokenUsage): Promise<number>;
}

// The UTC day of the statement's transaction, in SQL, so every process agrees on when a day ends.
const TODAY = `(now() AT TIME ZONE 'UTC')::date`;

export function tenantBudget(tx: TxRunner, tenantId: string, limit: number): TokenBudget {
  return {
    limit,
    async remaining() {
      const { rows } = await tx(
        (t) => t.query<{ tokens: string | number }>(`SELECT tokens FROM agents.daily_usage WHERE tenant_id = $1 AND day = ${TODAY}`, [tenantId]),
        ONE_STATEMENT,
      );
      return Math.max(0, limit - Number(rows[0]?.tokens ?? 0));
    },
    async add(usage) {
      const tokens = usage.inputTokens + usage.outputTokens;
      if (tokens <= 0) return this.remaining();
      const { rows } = await tx((t) =>
        t.query<{ tokens: string | number }>(
          `INSERT INTO agents.daily_usage AS u (tenant_id, day, runs, tokens) VALUES ($1, ${TODAY}, 0, $2)
           ON CONFLICT (tenant_id, day) DO UPDATE SET tokens = u.tokens + EXCLUDED.tokens
           RETURNING tokens`,
          [tenantId, tokens],
        ),
      );
      return Math.max(0, limit - Number(rows[0]!.tokens));
    },
  };
}
