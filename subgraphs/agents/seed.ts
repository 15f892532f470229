import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../auth/seed.ts';
import type { SubgraphDeps } from '../kit/deps.ts';
import type { AgentKind } from './analysts/types.ts';
import { settingsOf } from './mutations.ts';
import * as store from './store.ts';

/*
 * Demo agents for the demo tenants: one of each built-in kind that needs no model, with its
 * default settings, owned by the tenant's demo owner, on demand only (no schedule, so a demo
 * start never queues runs by itself). Written only when the tenant has no agent yet, so it is
 * idempotent. No runs: running one is the demo.
 */

export const DEMO_AGENTS: readonly { kind: AgentKind; name: string }[] = [
  { kind: 'LEAD_SCORER', name: 'Lead scorer' },
  { kind: 'PIPELINE_ANALYST', name: 'Pipeline analyst' },
  { kind: 'CONTENT_AUDITOR', name: 'Content auditor' },
  { kind: 'SALES_SUMMARY', name: 'Sales summary' },
];

export async function seedDemoAgents(deps: SubgraphDeps): Promise<void> {
  for (const tenant of DEMO_TENANTS) {
    const owner = DEMO_ACCOUNTS.find((a) => a.tenant === tenant.slug && a.role === 'owner');
    if (!owner) continue;
    await deps.db.withTenant({ tenantId: tenant.id, accountId: owner.id }, async (tx) => {
      if ((await tx.query('SELECT 1 FROM agents.agents LIMIT 1')).rows.length) return;
      // Owners must be members (foreign key): the auth demo data comes first (dependsOn).
      if (!(await tx.query('SELECT 1 FROM auth.memberships WHERE account_id = $1', [owner.id])).rows.length) return;
      for (const { kind, name } of DEMO_AGENTS) {
        const parsed = settingsOf(kind, {});
        if ('errors' in parsed) throw new Error(`agents seed: the defaults of ${kind} do not parse: ${JSON.stringify(parsed.errors)}`);
        await store.insertAgent(tx, { kind, name, settings: parsed.settings, schedule: null, enabled: true }, owner.id);
      }
    });
  }
}
