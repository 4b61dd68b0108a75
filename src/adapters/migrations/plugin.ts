import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { MigrationTool, TrackingDescription } from '../../domain/rollback/migration-tool.js';
import type { PlanStep } from '../../domain/rollback/plan.js';
import type { ServiceDb } from './service-db.js';

/** A SQL identifier the bot is willing to quote and use (tracking table, schema). */
export const Identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain SQL identifier (letters, digits, _; at most 63 characters)');

/** The options every tool has: `migrations.directory` (relative to services.yaml until loaded), `table`, `schema`. */
export interface MigrationsBase {
  tool: string;
  /** Absolute once services.yaml is loaded. */
  directory: string;
  table: string;
  schema: string;
}

/**
 * One migration tool as a plugin (DESIGN.md "Plugins come from registries"): the value of
 * `migrations.tool`, its own zod slice of services.yaml, what its tracking table looks like,
 * and how to build its {@link MigrationTool}. Listed once in `registry.ts`.
 */
export interface MigrationToolPlugin<O extends MigrationsBase = MigrationsBase> {
  readonly tool: O['tool'];
  /** `migrations:` for this tool: a strict object whose `tool` is the literal {@link tool}. Keys ending in `directory` are paths relative to services.yaml. */
  readonly options: z.ZodObject<z.ZodRawShape, z.core.$strict>;
  /** One line for the README and errors: the tool and its tracking table. */
  readonly summary: string;
  /** The tracking description; `databaseUrl` (when known) lets a tool name locks keyed on the database name. */
  tracking(options: O, databaseUrl?: string): TrackingDescription;
  create(options: O, db: ServiceDb): MigrationTool;
}

/** Declares a plugin with its option type inferred from its schema. */
export function defineMigrationTool<S extends z.ZodObject<z.ZodRawShape, z.core.$strict>>(plugin: {
  tool: z.infer<S>['tool'];
  options: S;
  summary: string;
  tracking(options: z.infer<S> & MigrationsBase, databaseUrl?: string): TrackingDescription;
  create(options: z.infer<S> & MigrationsBase, db: ServiceDb): MigrationTool;
}): MigrationToolPlugin<z.infer<S> & MigrationsBase> {
  return plugin as MigrationToolPlugin<z.infer<S> & MigrationsBase>;
}

/** `SELECT … ORDER BY <order> DESC LIMIT n` for a tracking table whose rows carry their own name. */
export function newestFirstSql(quoted: string, limit: number, orderBy: string, select = '*'): string {
  return `SELECT ${select} FROM ${quoted} ORDER BY ${orderBy} DESC LIMIT ${Math.max(1, Math.floor(limit))}`;
}

/**
 * A SQL `CASE` expression naming rows whose tracking table does not record the name
 * (golang-migrate's version, drizzle's hash), from the adapter's files: `names` maps the
 * column's value (as text) to the migration name. Values are quoted as literals.
 */
export function nameCaseSql(column: string, names: ReadonlyMap<string, string>): string {
  const lit = (v: string): string => `'${v.replace(/'/g, "''")}'`;
  if (names.size === 0) return `${column}::text`;
  return `CASE ${column}::text ${[...names].map(([k, v]) => `WHEN ${lit(k)} THEN ${lit(v)}`).join(' ')} ELSE ${column}::text END`;
}

/**
 * sha256 (hex) over the bytes of `files` in the order given, each preceded by its base name,
 * so editing, renaming or swapping a file changes it: a plan step's {@link PlanStep.checksum}.
 * A file that cannot be read counts as absent (`<name>:missing`).
 */
export async function fileChecksum(files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) {
    const bytes = await readFile(file).catch(() => null);
    hash.update(`${path.basename(file)}:${bytes ? bytes.length : 'missing'}\n`);
    if (bytes) hash.update(bytes);
  }
  return hash.digest('hex');
}
