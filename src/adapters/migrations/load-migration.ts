import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { AppError } from '../../shared/errors.js';

/** The shape of a knex migration module (knex docs, "Migration API"). */
export interface KnexMigrationModule {
  up?: (knex: unknown) => Promise<unknown>;
  /** Absent or not a function: the migration is irreversible. */
  down?: (knex: unknown) => Promise<unknown>;
  /** `config.transaction === false` runs the migration outside a transaction. */
  config?: { transaction?: boolean };
}

const TS_EXT = /\.(c|m)?ts$/i;

/**
 * Loads a migration file from `directory`. TypeScript files load through tsx, so the
 * bot reads the same `.ts` migrations the service ships.
 * @param name file name only; anything with a path separator is refused
 * @throws AppError `rollback_missing_file` when the file cannot be loaded
 */
export async function loadMigration(directory: string, name: string): Promise<KnexMigrationModule> {
  if (name !== path.basename(name) || name.startsWith('.')) {
    throw new AppError({ code: 'rollback_missing_file', message: `refusing migration name ${JSON.stringify(name)}` });
  }
  const file = path.join(directory, name);
  try {
    const mod = (TS_EXT.test(name) ? await tsImport(pathToFileURL(file).href, import.meta.url) : await import(pathToFileURL(file).href)) as
      KnexMigrationModule & { default?: KnexMigrationModule };
    // CommonJS modules and transpiled TS expose exports on `default` as well.
    return typeof mod.down === 'function' || typeof mod.up === 'function' ? mod : (mod.default ?? mod);
  } catch (cause) {
    throw new AppError({
      code: 'rollback_missing_file',
      message: `cannot load migration ${file}: ${(cause as Error).message}`,
      cause,
      userMessage: `The down migration \`${name}\` could not be loaded from the service's migrations directory. Nothing was changed.`,
    });
  }
}
