/**
 * What a PostgreSQL client tool (pg_dump, pg_restore) is started with: a connection string with
 * no password in it, and an environment holding only what libpq and the process need. Passwords
 * travel in `PGPASSWORD`, never in argv (argv is visible to every user of the machine in `ps`);
 * the bot's own secrets (Slack tokens and signing secret, `DATABASE_URL`, AWS keys) never reach
 * the child (libpq "Environment Variables").
 */

/** Variables passed through from the bot's environment when set: the process basics and libpq's own settings. */
const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'PGSSLMODE',
  'PGSSLROOTCERT',
  'PGSSLCERT',
  'PGSSLKEY',
  'PGSSLCRL',
  'PGSSLNEGOTIATION',
  'PGTARGETSESSIONATTRS',
  'PGGSSENCMODE',
  'PGTZ',
] as const;

/**
 * Splits the password out of a connection string, from its userinfo (`postgres://u:pw@h/db`) or
 * its query string (`?password=pw`), so it can travel in the environment.
 * @returns the connection string without any password, and the password (undefined when none)
 */
export function splitPassword(url: string): { url: string; password: string | undefined } {
  try {
    const u = new URL(url);
    const fromQuery = u.searchParams.get('password');
    const password = u.password ? decodeURIComponent(u.password) : (fromQuery ?? undefined);
    u.password = '';
    u.searchParams.delete('password');
    return { url: u.toString(), password };
  } catch {
    return { url, password: undefined };
  }
}

/** The environment of a PostgreSQL client tool that connects nowhere (`--version`, `pg_restore --list`): the pass-through variables only. */
export function pgToolEnv(from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED_THROUGH) if (from[name] !== undefined) env[name] = from[name];
  return env;
}

/**
 * The argv-safe connection string and the environment for a PostgreSQL client tool on `url`.
 * @param extra libpq variables of this call (e.g. `PGAPPNAME`, `PGCONNECT_TIMEOUT`)
 * @param from the bot's environment (default `process.env`)
 */
export function pgClientInvocation(
  url: string,
  extra: Record<string, string> = {},
  from: NodeJS.ProcessEnv = process.env,
): { url: string; env: NodeJS.ProcessEnv } {
  const { url: safe, password } = splitPassword(url);
  return { url: safe, env: { ...pgToolEnv(from), ...extra, ...(password ? { PGPASSWORD: password } : {}) } };
}
