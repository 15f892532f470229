/**
 * The two database roles. Migrations run as the owner (it owns every table); the app connects as
 * (or, on embedded PGlite, switches to) the app role, which owns nothing, is not superuser and
 * has no BYPASSRLS, so row-level security always applies to it.
 */
export const OWNER_ROLE = 'bizosaas_owner';
export const APP_ROLE = 'bizosaas_app';
/**
 * For people, not processes: an SQL admin UI (docker compose profile `admin`). Reads tenant tables
 * only, under row-level security like the app role (a `tenant_readonly` policy per tenant table,
 * kit migration 003): it sees one tenant's rows after `SET app.tenant_id = '<uuid>'`, none before.
 * Not superuser, no BYPASSRLS, owns nothing, writes nothing. It can log in only once a superuser
 * gives it a password (db:setup with POSTGRES_READONLY_PASSWORD).
 */
export const READONLY_ROLE = 'bizosaas_readonly';

/** Run as a superuser once per cluster: creates both roles if missing. */
export const BOOTSTRAP_ROLES_SQL = `
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${OWNER_ROLE}') THEN
    CREATE ROLE ${OWNER_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
    CREATE ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${READONLY_ROLE}') THEN
    CREATE ROLE ${READONLY_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT;
  END IF;
END $$;
`;
