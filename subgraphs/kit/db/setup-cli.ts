import { ConfigError, exitOnConfigError } from '../config.ts';
import { setupDatabase } from './setup.ts';

// `npm run -s db:setup -- <superuser URL> [--database bizosaas] [--quiet]`: the roles, the
// database and its grants on a PostgreSQL you already have (setup.ts), then prints the
// DATABASE_URL and DATABASE_OWNER_URL lines to use (stdout; what it did goes to stderr).
// The superuser URL may come from DATABASE_ADMIN_URL instead; passwords from
// POSTGRES_OWNER_PASSWORD / POSTGRES_APP_PASSWORD (else a role created now gets a random one);
// POSTGRES_READONLY_PASSWORD lets the read-only role (bizosaas_readonly, for an SQL admin UI) log in.
// --quiet prints no URLs (docker's db-setup service: no passwords in container logs).
const USAGE = 'usage: npm run -s db:setup -- <superuser URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres> [--database bizosaas] [--quiet]';

const args = process.argv.slice(2);
let adminUrl = process.env.DATABASE_ADMIN_URL || undefined;
let database = 'bizosaas';
let quiet = false;
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (arg === '--database') database = args[++i] ?? '';
  else if (arg.startsWith('--database=')) database = arg.slice('--database='.length);
  else if (arg === '--quiet') quiet = true;
  else if (!arg.startsWith('--') && !adminUrl) adminUrl = arg;
  else exitOnConfigError(new ConfigError(`db:setup: unknown argument ${arg}\n${USAGE}`));
}
if (!adminUrl || !/^postgres(ql)?:\/\//.test(adminUrl)) exitOnConfigError(new ConfigError(USAGE));

try {
  const result = await setupDatabase(adminUrl, {
    database,
    ownerPassword: process.env.POSTGRES_OWNER_PASSWORD || undefined,
    appPassword: process.env.POSTGRES_APP_PASSWORD || undefined,
    readonlyPassword: process.env.POSTGRES_READONLY_PASSWORD || undefined,
  });
  for (const step of result.steps) process.stderr.write(`db:setup: ${step}\n`);
  if (!quiet) {
    if (!new URL(result.databaseUrl).password || !new URL(result.ownerUrl).password) {
      process.stderr.write('db:setup: a role that existed keeps its password: put it into its URL (or set POSTGRES_*_PASSWORD and run again)\n');
    }
    process.stdout.write(`DATABASE_URL=${result.databaseUrl}\nDATABASE_OWNER_URL=${result.ownerUrl}\n`);
  }
  process.stderr.write(`db:setup: done${quiet ? '' : '; next: npm run db:migrate with these two in the environment'}\n`);
} catch (error) {
  if (error instanceof ConfigError) exitOnConfigError(error);
  // A connection or SQL error: one line, not a stack.
  process.stderr.write(`db:setup: ${(error as Error).message}\n`);
  process.exit(1);
}
