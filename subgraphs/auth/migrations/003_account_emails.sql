-- Up Migration

-- What other subgraphs may read of an account: its id and email, so that a subgraph can answer
-- `owner { email }` with its own rows (`@provides(fields: "email")` in its schema) instead of the
-- gateway asking auth for every page. security_invoker, so auth.accounts' row-level security
-- holds for the reader exactly as it does for auth: an account sees itself and the members of
-- the tenant it acts in, nobody else. Emails never change (the app role cannot update them),
-- so a subgraph's cached copy of one cannot go stale.
CREATE VIEW auth.account_emails WITH (security_invoker = true) AS
  SELECT id, email FROM auth.accounts;
GRANT SELECT ON auth.account_emails TO bizosaas_app;

-- Down Migration
DROP VIEW auth.account_emails;
