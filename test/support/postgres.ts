import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import pRetry from 'p-retry';
import { ADMIN_URL, TEMPLATE_PREFIX, withAdmin, withDatabase } from './pg-admin.js';

export { ADMIN_URL, TEMPLATE_PREFIX, withDatabase } from './pg-admin.js';

/** A database created for one test (or one file) and dropped afterwards. */
export interface TestDatabase {
  name: string;
  /** Connection string for the new database. */
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates a fresh database `<prefix>_<random>` on the local server: empty, or a copy of
 * `template`'s migrated database (built once per run, see {@link TemplateSpec}).
 * @throws Error naming the server when PostgreSQL is not reachable (tests fail, never skip).
 */
export async function createTestDatabase(prefix = 'mb_test', template?: TemplateSpec): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  if (template) await cloneTemplate(template, name);
  else await withAdmin((admin) => admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = withDatabase(ADMIN_URL, name);
  return {
    name,
    url,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Drops the database a connection string names (`WITH (FORCE)`), if it exists. */
export async function dropDatabase(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(
      `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(decodeURIComponent(new URL(url).pathname.slice(1)))} WITH (FORCE)`,
    );
  } finally {
    await c.end();
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's id (hex), made by the global setup; names the run's template databases. */
    templateRun: string;
  }
}

/**
 * A database worth building once per test run and cloning for each test: migrated up by a
 * real tool (the bot's state schema, a fixture service). `key` names it (lowercase letters,
 * digits, `_`; at most 30 characters); `build` migrates the empty database at `url` and
 * closes every connection it opened (PostgreSQL refuses to clone a database in use).
 */
export interface TemplateSpec {
  key: string;
  build(url: string): Promise<void>;
}

/**
 * This run's id: the one vitest's global setup provides (`templateRun`), or, outside vitest (the
 * benchmarks), one of this process in the same `p<pid>r<hex>` form, whose templates the next
 * test run drops once the process is gone. vitest is imported only under vitest: importing it
 * elsewhere throws.
 */
let runId: Promise<string> | undefined;
function templateRun(): Promise<string> {
  runId ??= process.env.VITEST
    ? import('vitest').then(({ inject }) => {
        const run = inject('templateRun');
        if (!run)
          throw new Error('templateRun is not provided: run the tests through vitest (test/support/global-setup.ts)');
        return run;
      })
    : Promise.resolve(`p${process.pid}r${randomBytes(2).toString('hex')}`);
  return runId;
}

/** The run's template name of `spec`: `mbtpl_<run>_<key>_<hash of build's source>`, ≤ 63 bytes. */
async function templateName(spec: TemplateSpec): Promise<string> {
  const run = await templateRun();
  const hash = createHash('sha256').update(spec.build.toString()).digest('hex').slice(0, 8);
  return `${TEMPLATE_PREFIX}${run}_${spec.key}_${hash}`.slice(0, 63);
}

const ready = new Map<string, Promise<string>>();

/**
 * Builds `spec`'s template once for the whole run: test files run in parallel processes, so
 * the first to ask builds it under a session advisory lock while the others wait, and the
 * build is published by renaming a finished `…_b` database (a half-built template never
 * has the final name).
 * @returns the template's database name
 */
export async function ensureTemplate(spec: TemplateSpec): Promise<string> {
  const name = await templateName(spec);
  let p = ready.get(name);
  if (!p) {
    p = withAdmin(async (admin) => {
      await admin.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
      try {
        const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (exists.rowCount) return name;
        const building = `${name.slice(0, 61)}_b`;
        await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(building)} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(building)}`);
        await spec.build(withDatabase(ADMIN_URL, building));
        await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(building)} RENAME TO ${pg.escapeIdentifier(name)}`);
        return name;
      } finally {
        await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
      }
    });
    p.catch(() => ready.delete(name));
    ready.set(name, p);
  }
  return p;
}

/**
 * `CREATE DATABASE <newName> TEMPLATE <spec's template>`: a copy of the migrated database in
 * a few tens of ms instead of a migrate up per test (PostgreSQL "Template Databases").
 */
async function cloneTemplate(spec: TemplateSpec, newName: string): Promise<void> {
  const template = await ensureTemplate(spec);
  await withAdmin(async (admin) => {
    // A session still on the template (its build's pool closing) refuses the copy (55006): try again shortly.
    await pRetry(
      () => admin.query(`CREATE DATABASE ${pg.escapeIdentifier(newName)} TEMPLATE ${pg.escapeIdentifier(template)}`),
      {
        retries: 8,
        minTimeout: 25,
        shouldRetry: ({ error }) => (error as { code?: string }).code === '55006',
      },
    );
  });
}
