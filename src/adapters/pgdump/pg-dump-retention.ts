import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

/** What a bot-made dump's manifest (`<name>.json`, written by the pg_dump provider) records. */
export interface DumpManifest {
  id: string;
  service: string;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** Hex sha256 of `<id>.dump`. */
  sha256?: string;
  /** Size of `<id>.dump`, bytes. */
  sizeBytes?: number;
  location?: string;
}

/** What a snapshot id may be: a file name stem, never a path (`..`, `/`). */
export const DUMP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** The manifest of dump `id` in `directory`, or null when there is none (or `id` is not a plain name). */
export async function readDumpManifest(directory: string, id: string): Promise<DumpManifest | null> {
  if (!DUMP_ID.test(id) || id.includes('..')) return null;
  const m = await readFile(path.join(directory, `${id}.json`), 'utf8')
    .then((t) => JSON.parse(t) as Partial<DumpManifest>)
    .catch(() => null);
  return m?.id === id && typeof m.service === 'string' && typeof m.createdAt === 'string' ? (m as DumpManifest) : null;
}

/** Bot-made dumps of `service` in `directory` (those with a manifest), oldest first. */
export async function listDumpManifests(directory: string, service: string): Promise<DumpManifest[]> {
  const entries = await readdir(directory).catch(() => [] as string[]);
  const manifests: DumpManifest[] = [];
  for (const file of entries.filter((f) => f.endsWith('.json'))) {
    const m = await readDumpManifest(directory, file.slice(0, -'.json'.length));
    if (m && m.service === service) manifests.push(m);
  }
  return manifests.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/**
 * Retention for pg_dump snapshots (`snapshot.keep` in services.yaml): keeps the newest `keep`
 * bot-made dumps of `service` in `directory` and removes older ones, oldest first.
 * Only files with a bot manifest are considered; a dump whose id is in `protectedIds`
 * (the snapshot of an open incident) is never removed.
 * @returns ids removed, oldest first
 */
export async function pruneDumps(
  directory: string,
  service: string,
  keep: number,
  protectedIds: ReadonlySet<string>,
): Promise<string[]> {
  const manifests = await listDumpManifests(directory, service);
  const excess = manifests.length - keep;
  const removed: string[] = [];
  for (const m of manifests) {
    if (removed.length >= excess) break;
    if (protectedIds.has(m.id)) continue;
    await rm(path.join(directory, `${m.id}.dump`), { force: true });
    await rm(path.join(directory, `${m.id}.json`), { force: true });
    removed.push(m.id);
  }
  return removed;
}
