/**
 * The two database roles. Migrations run as the owner (it owns every table); the app connects as
 * (or, on embedded PGlite, switches to) the app role, which owns nothing, is not superuser and
 * has no BYPASSRLS, so row-level security always applies to it.
 */
export const OWNER_ROLE = 'bizosaas_owner';
export const APP_ROLE = 'bizosaas_app';

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
END $$;
`;
