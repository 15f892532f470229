/**
 * The caller's tenant in SQL: the transaction-local `app.tenant_id` that `Database.withTenant`
 * sets, NULL when there is none. New rows take it as their tenant_id, and the row-level security
 * policies compare with the same expression, so no store passes a tenant id around.
 */
export const CURRENT_TENANT = `NULLIF(current_setting('app.tenant_id', true), '')::uuid`;
