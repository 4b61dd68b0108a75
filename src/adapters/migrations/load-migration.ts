import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { stat } from 'node:fs/promises';
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

/** Node strips TypeScript types itself (22.18+ / 23.6+ unflagged, `process.features.typescript`); older ones need tsx. */
const NATIVE_TS = Boolean((process.features as { typescript?: unknown }).typescript);

/**
 * Imports `file`; the URL carries the file's mtime so an edited file is read again (Node caches
 * modules by URL). TypeScript goes through Node's own type stripping when it has it (the image),
 * else through tsx (a development checkout on Node 20).
 */
async function importFile(file: string): Promise<unknown> {
  const info = await stat(file);
  const key = `${pathToFileURL(file).href}?mtime=${info.mtimeMs}&size=${info.size}`;
  let loaded = LOADED.get(key);
  if (!loaded) {
    loaded = TS_EXT.test(file) && !NATIVE_TS ? importWithTsx(file) : import(key);
    loaded.catch(() => LOADED.delete(key)); // a file that failed to load is read again next time
    LOADED.set(key, loaded);
  }
  return loaded;
}

/**
 * Modules already loaded, by file URL, mtime and size: every command, plan and step reads the
 * same migration files, and loading them again each time (tsx compiles a TypeScript file on each
 * `tsImport`) cost a burst of 100 `/migrate rollback` seconds of CPU and kept every copy in memory.
 */
const LOADED = new Map<string, Promise<unknown>>();

async function importWithTsx(file: string): Promise<unknown> {
  const { tsImport } = await import('tsx/esm/api').catch((cause: unknown) => {
    throw new Error(
      `TypeScript migrations need Node 22.18+ (type stripping) or the tsx package: ${(cause as Error).message}`,
    );
  });
  return tsImport(pathToFileURL(file).href, import.meta.url);
}

/**
 * Loads a migration file from `directory`, read again when it changed. TypeScript files load
 * with Node's type stripping or tsx, so the bot reads the same `.ts` migrations the service ships.
 * @param name file name only; anything with a path separator is refused
 * @throws AppError `rollback_missing_file` when the file cannot be loaded
 */
export async function loadMigration(directory: string, name: string): Promise<KnexMigrationModule> {
  if (name !== path.basename(name) || name.startsWith('.')) {
    throw new AppError({ code: 'rollback_missing_file', message: `refusing migration name ${JSON.stringify(name)}` });
  }
  const file = path.join(directory, name);
  try {
    const mod = (await importFile(file)) as KnexMigrationModule & { default?: KnexMigrationModule };
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
