import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../shared/errors.js';
import { code, words } from '../../shared/words.js';
import {
  type DumpManifest,
  type DumpStore,
  isDumpId,
  parseManifest,
  type RecordedIdentity,
  type StoredDump,
} from './dump-store.js';

/**
 * Dumps in a directory (`SNAPSHOT_DIR`, created if missing). The archive is written to
 * `<id>.dump.partial` and renamed when complete, so a crash never leaves a dump that looks
 * finished. Shared by several processes only through a shared volume (ReadWriteMany on
 * Kubernetes); {@link S3DumpStore} needs none.
 */
export class LocalDumpStore implements DumpStore {
  readonly where: string;

  constructor(directory: string) {
    this.where = path.resolve(directory);
  }

  private file(id: string, ext: 'dump' | 'json'): string {
    return path.join(this.where, `${id}.${ext}`);
  }

  async preflight(): Promise<void> {
    await mkdir(this.where, { recursive: true }).catch((cause: unknown) => {
      throw new AppError({
        code: 'snapshot_storage_failed',
        message: `cannot create snapshot directory ${this.where}: ${(cause as Error).message}`,
        cause,
        userMessage: words`The snapshot directory ${code(this.where)} (${code('SNAPSHOT_DIR')}) cannot be created: ${(cause as Error).message}. Nothing was changed.`,
      });
    });
  }

  async write(id: string, archive: Readable): Promise<StoredDump> {
    const dump = this.file(id, 'dump');
    const partial = `${dump}.partial`;
    try {
      await pipeline(archive, createWriteStream(partial));
      await rename(partial, dump);
    } catch (cause) {
      await rm(partial, { force: true });
      throw cause;
    }
    const s = await stat(dump);
    return { location: dump, file: { mtimeMs: s.mtimeMs, ino: s.ino } };
  }

  private async statDump(id: string) {
    const file = this.file(id, 'dump');
    return stat(file).catch((cause: unknown) => {
      throw new AppError({
        code: 'snapshot_not_found',
        message: `dump ${file} is missing`,
        cause,
        userMessage: words`Snapshot ${code(id)} is missing from the snapshot directory.`,
      });
    });
  }

  async unchanged(id: string, stored: RecordedIdentity): Promise<boolean> {
    const now = await this.statDump(id);
    return (
      stored.file !== undefined &&
      stored.sizeBytes === now.size &&
      stored.file.mtimeMs === now.mtimeMs &&
      stored.file.ino === now.ino
    );
  }

  async open(id: string): Promise<Readable> {
    await this.statDump(id);
    return createReadStream(this.file(id, 'dump'));
  }

  async readManifest(id: string): Promise<DumpManifest | null> {
    if (!isDumpId(id)) return null;
    const text = await readFile(this.file(id, 'json'), 'utf8').catch(() => null);
    return text === null ? null : parseManifest(id, text);
  }

  async writeManifest(manifest: DumpManifest): Promise<void> {
    await writeFile(this.file(manifest.id, 'json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }

  async list(service: string): Promise<DumpManifest[]> {
    const entries = await readdir(this.where).catch(() => [] as string[]);
    const manifests: DumpManifest[] = [];
    for (const file of entries.filter((f) => f.endsWith('.json'))) {
      const m = await this.readManifest(file.slice(0, -'.json'.length));
      if (m && m.service === service) manifests.push(m);
    }
    return manifests.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async remove(id: string): Promise<void> {
    if (!isDumpId(id)) return;
    await rm(this.file(id, 'dump'), { force: true });
    await rm(this.file(id, 'json'), { force: true });
  }
}
