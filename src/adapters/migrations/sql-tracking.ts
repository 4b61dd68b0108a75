import { readdirSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { TrackingDescription } from '../../domain/rollback/migration-tool.js';
import { nameCaseSql, newestFirstSql } from './plugin.js';
import { advisoryLockProbe, dirtyVersionsProbe } from './tracking-probes.js';

/**
 * Plain-SQL migrations on disk and in their tracking table, as golang-migrate lays them out (and
 * runbook 001's harness): the file names, the two table layouts, golang-migrate's lock key, and
 * what triage shows. The tool itself is `sql-migration-tool.ts`.
 */

/** `007_add_security_tables.up.sql` → version 7, name `007_add_security_tables` (golang-migrate's `{version}_{title}.{up|down}.{ext}`). */
const FILE = /^(\d+)_(.+)\.(up|down)\.sql$/;

/** One migration on disk: its version, name and the up/down files found. */
export interface SqlMigrationFile {
  version: bigint;
  name: string;
  up?: string;
  down?: string;
}

export function readMigrationFiles(entries: string[]): Map<bigint, SqlMigrationFile> {
  const byVersion = new Map<bigint, SqlMigrationFile>();
  for (const f of entries) {
    const m = FILE.exec(f);
    if (!m) continue;
    const version = BigInt(m[1]!);
    const entry = byVersion.get(version) ?? { version, name: `${m[1]}_${m[2]}` };
    entry[m[3] as 'up' | 'down'] = f;
    byVersion.set(version, entry);
  }
  return byVersion;
}

/**
 * The two tracking layouts found in the wild, told apart by the table's columns:
 * - `single`: golang-migrate's one row `(version bigint, dirty boolean)` holding the current version;
 * - `per_version`: one row per applied version `(version, dirty, applied_at[, checksum])`, as runbook 001's harness writes.
 */
export type SqlTrackingLayout = { kind: 'single' } | { kind: 'per_version'; checksum: boolean };

/** Detects the layout from the columns, or null when neither fits. Pure. */
export function sqlTrackingLayout(columns: string[]): SqlTrackingLayout | null {
  if (!columns.includes('version') || !columns.includes('dirty')) return null;
  if (columns.includes('applied_at')) return { kind: 'per_version', checksum: columns.includes('checksum') };
  return { kind: 'single' };
}

/**
 * golang-migrate's advisory-lock key for a tracking table (golang-migrate `database.GenerateAdvisoryLockId`:
 * CRC-32 (IEEE) of `schema \0 table \0 database`, times the salt 1486364155, as uint32), so a
 * concurrent `migrate up` waits on the same lock the bot holds.
 */
export function golangMigrateLockKey(database: string, schema: string, table: string): bigint {
  const sum = crc32(Buffer.from([schema, table, database].join('\0'), 'utf8'));
  return BigInt(Math.imul(sum, 1486364155) >>> 0);
}

/** What triage shows for a plain-SQL service: history newest first (runbook 001 "Useful Queries"), dirty versions, golang-migrate's lock. */
export function sqlTracking(
  o: { schema: string; table: string; directory: string },
  database?: string,
): TrackingDescription {
  let names = new Map<string, string>();
  try {
    names = new Map([...readMigrationFiles(readdirSync(o.directory)).values()].map((f) => [String(f.version), f.name]));
  } catch {
    // An unreadable directory fails at start-up; triage then shows versions without names.
  }
  return {
    tool: 'sql',
    table: { schema: o.schema, name: o.table },
    // Runbook 001 "Useful Queries": SELECT version, applied_at, dirty FROM schema_migrations ORDER BY version DESC;
    // version as a number: runbook 001 stores it as text ('003'), golang-migrate as bigint.
    historySql: (quoted, limit) =>
      newestFirstSql(
        quoted,
        limit,
        'version::text::numeric',
        `${nameCaseSql('version::text::numeric', names)} AS name, *`,
      ),
    probes: [
      dirtyVersionsProbe({ schema: o.schema, name: o.table }),
      ...(database
        ? [advisoryLockProbe(golangMigrateLockKey(database, o.schema, o.table), "golang-migrate's advisory lock")]
        : []),
    ],
  };
}

/** The database name of a connection string, for golang-migrate's lock key; undefined when it cannot be read. */
export function databaseOf(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || undefined;
  } catch {
    return undefined;
  }
}
