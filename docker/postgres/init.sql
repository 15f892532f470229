-- First start of the postgres container only (an empty data volume): the image's entrypoint runs
-- this file with psql as the superuser, connected to POSTGRES_DB (bizosaas). Later starts skip it,
-- so changing a password in docker/.env afterwards needs `ALTER ROLE ... PASSWORD` by hand.
--
-- Roles (subgraphs/kit/db/roles.ts):
--   bizosaas_owner  owns the database; migrations (the `migrate` service) run as it, so it owns
--                   every schema and table it creates.
--   bizosaas_app    what the gateway and subgraphs connect as: owns nothing, no superuser, no
--                   BYPASSRLS, so row-level security always applies. Migrations grant it what it needs.
-- Passwords come from the container environment (POSTGRES_OWNER_PASSWORD, POSTGRES_APP_PASSWORD);
-- \getenv needs psql 15+, which the pgvector/pgvector:pg15 image has.

\set ON_ERROR_STOP on
\getenv owner_password POSTGRES_OWNER_PASSWORD
\getenv app_password POSTGRES_APP_PASSWORD

-- A missing password stops the init with an error (the container then exits) instead of creating
-- roles that cannot log in.
SELECT :{?owner_password} AND :{?app_password} AS passwords_set \gset
\if :passwords_set
\else
  \warn 'init.sql: POSTGRES_OWNER_PASSWORD and POSTGRES_APP_PASSWORD must be set'
  SELECT 1 / 0 AS missing_password;
\endif

-- psql variables are not expanded inside DO blocks, so each statement is built with format(%L)
-- (password quoted as a literal) and run by \gexec; the WHERE makes a re-run harmless.
SELECT format('CREATE ROLE bizosaas_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD %L', :'owner_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bizosaas_owner') \gexec
SELECT format('CREATE ROLE bizosaas_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD %L', :'app_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bizosaas_app') \gexec

ALTER DATABASE bizosaas OWNER TO bizosaas_owner;
-- PostgreSQL 15 already keeps PUBLIC from creating in schema public; only our roles may connect.
REVOKE ALL ON DATABASE bizosaas FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE bizosaas TO bizosaas_app;

-- pgvector, created here by the superuser so migrations (run as the owner) need no superuser.
-- It lives in schema public, which every role can use.
CREATE EXTENSION IF NOT EXISTS vector;
