-- Up Migration

-- What other subgraphs may read of an account: its id and email, so that a subgraph can answer
-- `owner { email }` with its own rows (`@provides(fields: "email")` in its schema) instead of the
-- gateway asking auth for every page. security_invoker, so auth.accounts' row-level security
-- holds for the reader exactly as it does for auth: an account sees itself and the members of
-- the tenant it acts in, nobody else. And only a signed-in caller sees any: a transaction with a
-- tenant but no account (a bi share link's reader, a public site's) sees none, whatever field a
-- subgraph reads them for.
CREATE VIEW auth.account_emails WITH (security_invoker = true) AS
  SELECT id, email FROM auth.accounts
  WHERE NULLIF(current_setting('app.account_id', true), '') IS NOT NULL;
GRANT SELECT ON auth.account_emails TO bizosaas_app;

-- Down Migration
DROP VIEW auth.account_emails;
