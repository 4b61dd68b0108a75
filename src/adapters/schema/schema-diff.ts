import { createClient } from '@pgkit/client';
import { Migration } from '@pgkit/migra';
import { get_inspector } from '@pgkit/schemainspect';
import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';

/** The SQL that takes one schema to another, as migra computes it. */
export interface SchemaDiff {
  /** Statements in migra's order (drops of dependants first, creates after), each trimmed, ending in `;`. */
  statements: string[];
  /** Both schemas inspected and diffed, ms. */
  ms: number;
}

/** A pgkit client that reads catalogs only and says nothing on the console (pg-promise warns of a second client per URL). */
function inspector(url: string) {
  return createClient(url, {
    pgpOptions: { initialize: { noWarnings: true }, connect: { application_name: 'migrate-bot-schema-diff' } },
  } as never);
}

/** True when `statement` is about one of `relations` (`schema.name`, quoted the way migra quotes): the tools' tracking tables, their sequences and keys. */
function touches(statement: string, relations: readonly string[]): boolean {
  return relations.some((r) => {
    const [schema, name] = r.split('.');
    return statement.includes(`"${schema}"."${name}`);
  });
}

/**
 * The SQL that makes the schema at `fromUrl` equal to the schema at `targetUrl`: migra
 * (`@pgkit/migra`, a TypeScript port of djrobstep's migra over schemainspect) with its safety off,
 * so drops are included, and all kinds of change (tables, columns, indexes, constraints, views,
 * functions, enums, sequences, extensions, RLS policies). Statements about `exclude` relations, and
 * the whole of `excludeSchemas` (a tool's own schema, drizzle's `drizzle`), are left out: the
 * tracking table is moved by the tool's own protocol, never by a diff. Both databases are only read.
 * @throws AppError `schema_diff_failed` when migra cannot inspect or express the difference (its message)
 */
export async function computeSchemaDiff(
  fromUrl: string,
  targetUrl: string,
  exclude: readonly string[],
  excludeSchemas: readonly string[] = [],
): Promise<SchemaDiff> {
  const t0 = performance.now();
  const from = inspector(fromUrl);
  const target = inspector(targetUrl);
  try {
    // Both catalogs read at once (migra reads one, then the other).
    const exclusion = excludeSchemas.length ? [...excludeSchemas] : undefined;
    const [fromSchema, targetSchema] = await Promise.all([
      get_inspector(from, undefined, exclusion),
      get_inspector(target, undefined, exclusion),
    ]);
    const migration = await Migration.create(fromSchema, targetSchema, {
      ignore_extension_versions: true,
      ...(exclusion ? { exclude_schema: exclusion } : {}),
    });
    migration.set_safety(false);
    migration.add_all_changes();
    const statements = migration.statements.array
      .map((s) => s.trim())
      .filter((s) => s && !touches(s, exclude))
      .map((s) => (s.endsWith(';') ? s : `${s};`));
    return { statements, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    throw new AppError({
      code: 'schema_diff_failed',
      message: `migra could not compute the schema difference: ${redactSecrets((err as Error).message)}`,
      cause: err,
    });
  } finally {
    await Promise.all([from.end(), target.end()]).catch(() => undefined);
  }
}
