import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../kit/config.ts';
import { createDeps } from '../kit/deps.ts';
import { hashPassword, passwordProblem } from './passwords.ts';

/**
 * `npm run auth:bootstrap -- --email admin@agency.example --name "Ada Admin" --tenant agency
 *   --tenant-name "The Agency" --channel default-channel`, with the password in BOOTSTRAP_PASSWORD.
 *
 * A fresh production database has no account: this creates the first tenant and its owner, who
 * is also a platform administrator (and so can create further tenants through `createTenant`).
 * Idempotent for an existing email/slug: it then only grants what is missing (an existing
 * account keeps its password). Runs as the owner
 * role (DATABASE_OWNER_URL), like migrations.
 */
const { values } = parseArgs({
  options: {
    email: { type: 'string' },
    name: { type: 'string' },
    tenant: { type: 'string' },
    'tenant-name': { type: 'string' },
    channel: { type: 'string' },
  },
});
const password = process.env.BOOTSTRAP_PASSWORD ?? '';
const missing = ['email', 'name', 'tenant', 'tenant-name', 'channel'].filter((k) => !values[k as keyof typeof values]);
if (missing.length) {
  console.error(`missing --${missing.join(', --')} (see the comment at the top of subgraphs/auth/bootstrap-cli.ts)`);
  process.exit(1);
}
const problem = passwordProblem(password);
if (problem) {
  console.error(`BOOTSTRAP_PASSWORD: ${problem}`);
  process.exit(1);
}

const config = loadConfig();
const deps = await createDeps(config, 'auth-bootstrap');
const email = values.email!.trim().toLowerCase();
try {
  const passwordHash = await hashPassword(password);
  const result = await deps.asOwner(async (tx) => {
    const tenant = await tx.query<{ id: string }>(
      `INSERT INTO auth.tenants (id, slug, name, saleor_channel) VALUES ($1, $2, $3, $4)
       ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id`,
      [randomUUID(), values.tenant, values['tenant-name'], values.channel],
    );
    const account = await tx.query<{ id: string }>('SELECT auth.create_account($1, $2, $3) AS id', [email, values.name, passwordHash]);
    await tx.query('UPDATE auth.accounts SET is_platform_admin = true WHERE id = $1', [account.rows[0]!.id]);
    await tx.query(
      `INSERT INTO auth.memberships (tenant_id, account_id, role) VALUES ($1, $2, 'owner')
       ON CONFLICT (tenant_id, account_id) DO UPDATE SET role = 'owner'`,
      [tenant.rows[0]!.id, account.rows[0]!.id],
    );
    return { tenantId: tenant.rows[0]!.id, accountId: account.rows[0]!.id };
  });
  console.log(`${email} owns tenant "${values.tenant}" (${result.tenantId}) and is a platform administrator.`);
} finally {
  await deps.db.close();
}
process.exit(0);
