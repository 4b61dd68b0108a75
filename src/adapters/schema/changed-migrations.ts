import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { baseName, versionOf } from '../../domain/rollback/plan.js';
import { AppError } from '../../shared/errors.js';

const run = promisify(execFile);

/** Files under `directory` that differ from git ref `ref` (committed since, changed in the work tree, or new and untracked), relative to it. */
async function changedFiles(directory: string, ref: string): Promise<string[]> {
  const git = (args: string[]) => run('git', ['-C', directory, ...args], { maxBuffer: 16 * 1024 * 1024 });
  try {
    const [diff, untracked] = await Promise.all([
      git(['diff', '--name-only', '--relative', ref, '--', '.']),
      git(['ls-files', '--others', '--exclude-standard', '--', '.']),
    ]);
    return `${diff.stdout}\n${untracked.stdout}`.split('\n').filter(Boolean);
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
    throw new AppError({
      code: 'check_since_invalid',
      message: `git diff ${ref} in ${directory} failed: ${stderr}`,
      userMessage: `\`--since ${ref}\` could not be compared in \`${directory}\`: ${stderr.split('\n')[0]}. Give a commit, branch or tag of the repository that holds the migrations (in CI, fetch enough history: \`fetch-depth: 0\`).`,
    });
  }
}

/**
 * The migrations (names as the tool lists them) whose files changed since git ref `ref`, in any
 * of `directories`: a changed file counts for the migration whose name it shares without its
 * extension (`007_x.ts`, `007_x.up.sql`, `0004_tag.sql`), or whose version it starts with (drizzle's
 * `rollback/0004_rollback_*.sql`). Uses the `git` on PATH.
 * @throws AppError `check_since_invalid` when git cannot compare with `ref`
 */
export async function migrationsChangedSince(
  names: readonly string[],
  directories: readonly string[],
  ref: string,
): Promise<Set<string>> {
  const files = (await Promise.all(directories.map((d) => changedFiles(d, ref)))).flat();
  const changed = new Set<string>();
  for (const file of files) {
    const base = baseName(path.basename(file));
    const version = versionOf(path.basename(file));
    for (const name of names)
      if (baseName(name) === base || (version !== null && versionOf(name) === version)) changed.add(name);
  }
  return changed;
}
