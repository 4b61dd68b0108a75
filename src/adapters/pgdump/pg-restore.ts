import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import { splitPassword } from './pg-dump-provider.js';

const run = promisify(execFile);

/** `<db>_recovery_<yyyymmdd_hhmm>` (UTC), cut so it fits PostgreSQL's 63-byte identifiers. */
export function recoveryDatabaseName(sourceDb: string, at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}_${p(at.getUTCHours())}${p(at.getUTCMinutes())}`;
  const suffix = `_recovery_${stamp}`;
  return `${sourceDb.slice(0, 63 - suffix.length)}${suffix}`;
}

/**
 * Restores a custom-format dump into a NEW database on the same server (runbook 003
 * "Restore to a new DB instance (do not overwrite prod)"). Refuses when the target
 * exists or equals the source database.
 * @param databaseUrl connection string of the source database (its server hosts the new one)
 * @returns the new database's name and connection string with the password removed
 * @throws AppError `restore_target_exists`, `restore_failed`
 */
export async function restoreDumpToNewDatabase(databaseUrl: string, dumpFile: string, target: string): Promise<{ database: string; url: string }> {
  const source = new URL(databaseUrl);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(target) || target === decodeURIComponent(source.pathname.slice(1))) {
    throw new AppError({ code: 'restore_target_invalid', message: `refusing restore target ${target}`, userMessage: 'A restore goes to a new database, never the source.' });
  }
  const admin = new pg.Client({ connectionString: databaseUrl, application_name: 'migrate-bot-restore' });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [target]);
    if (exists.rowCount) {
      throw new AppError({ code: 'restore_target_exists', message: `database ${target} exists`, userMessage: `Database \`${target}\` already exists; nothing was restored over it.` });
    }
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(target)}`);
  } finally {
    await admin.end();
  }
  const targetUrl = new URL(databaseUrl);
  targetUrl.pathname = `/${target}`;
  const { url, password } = splitPassword(targetUrl.toString());
  try {
    await run('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${url}`, dumpFile], {
      env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (cause) {
    const stderr = redactSecrets(String((cause as { stderr?: string }).stderr ?? (cause as Error).message));
    throw new AppError({ code: 'restore_failed', message: `pg_restore into ${target} failed: ${stderr}`, cause, userMessage: `Restoring into \`${target}\` failed: ${stderr.split('\n')[0]}` });
  }
  return { database: target, url };
}
