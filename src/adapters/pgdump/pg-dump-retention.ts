import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

/** What a bot-made dump's manifest (`<name>.json`) records. */
interface DumpManifest {
  id: string;
  service: string;
  createdAt: string;
}

/**
 * Retention for pg_dump snapshots (`snapshot.keep` in services.yaml): keeps the newest `keep`
 * bot-made dumps of `service` in `directory` and removes older ones, oldest first.
 * Only files with a bot manifest are considered; a dump whose id is in `protectedIds`
 * (the snapshot of an open incident) is never removed.
 * @returns ids removed, oldest first
 */
export async function pruneDumps(directory: string, service: string, keep: number, protectedIds: ReadonlySet<string>): Promise<string[]> {
  const entries = await readdir(directory).catch(() => [] as string[]);
  const manifests: DumpManifest[] = [];
  for (const file of entries.filter((f) => f.endsWith('.json'))) {
    const m = await readFile(path.join(directory, file), 'utf8')
      .then((t) => JSON.parse(t) as Partial<DumpManifest>)
      .catch(() => null);
    if (m?.id && m.service === service && m.createdAt && `${m.id}.json` === file) manifests.push(m as DumpManifest);
  }
  manifests.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
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
