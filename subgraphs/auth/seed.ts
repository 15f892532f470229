import type { SubgraphDeps } from '../kit/deps.ts';
import type { Role } from '../kit/principal.ts';
import { hashPassword } from './passwords.ts';
import * as store from './store.ts';

/** Demo tenants and logins (README lists them); ids are fixed so demo data of every subgraph can refer to them. */
export const DEMO_TENANTS = [
  { id: '00000000-0000-4000-8000-00000000ac01', slug: 'acme', name: 'Acme Agency', saleorChannel: 'acme-channel' },
  { id: '00000000-0000-4000-8000-0000000061b0', slug: 'globex', name: 'Globex Corporation', saleorChannel: 'globex-channel' },
] as const;

export const DEMO_ACCOUNTS: { id: string; email: string; name: string; tenant: string; role: Role; platformAdmin?: boolean }[] = [
  { id: '00000000-0000-4000-9000-000000000001', email: 'owner@acme.example', name: 'Ada Owner', tenant: 'acme', role: 'owner', platformAdmin: true },
  { id: '00000000-0000-4000-9000-000000000002', email: 'editor@acme.example', name: 'Ed Editor', tenant: 'acme', role: 'editor' },
  { id: '00000000-0000-4000-9000-000000000003', email: 'viewer@acme.example', name: 'Vi Viewer', tenant: 'acme', role: 'viewer' },
  { id: '00000000-0000-4000-9000-000000000004', email: 'owner@globex.example', name: 'Gus Globex', tenant: 'globex', role: 'owner' },
];

/** Idempotent: creates what is missing, changes nothing that exists. */
export async function seedDemoData(deps: SubgraphDeps): Promise<void> {
  const passwordHash = await hashPassword(deps.config.DEMO_PASSWORD);
  for (const tenant of DEMO_TENANTS) {
    await deps.db.withTenant({ tenantId: tenant.id, accountId: null }, async (tx) => {
      await store.insertTenant(tx, tenant);
      for (const account of DEMO_ACCOUNTS.filter((a) => a.tenant === tenant.slug)) {
        const accountId = await store.createAccount(tx, { ...account, passwordHash });
        await store.insertMembership(tx, accountId, account.role);
      }
    });
  }
  // The platform-admin flag is not writable by the app role: the owner sets it.
  const admins = DEMO_ACCOUNTS.filter((a) => a.platformAdmin).map((a) => a.email);
  await deps.asOwner((tx) => tx.query('UPDATE auth.accounts SET is_platform_admin = true WHERE email = ANY($1)', [admins]));
}
