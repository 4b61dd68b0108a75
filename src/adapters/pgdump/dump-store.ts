import type { Readable } from 'node:stream';

/**
 * Where pg_dump snapshots live. Two stores: a directory (`SNAPSHOT_DIR`, the default; on
 * Kubernetes a ReadWriteMany volume) and an S3 bucket (`snapshot.storage: s3`), which any node
 * can read back, as pgBackRest and WAL-G keep their backups in object storage. The pg_dump
 * provider, its retention and its restorer speak only to this port.
 *
 * Layout, in both stores: `<id>.dump` (pg_dump's custom-format archive) and `<id>.json` (its
 * {@link DumpManifest}), written after the dump is complete and checked, so a dump without a
 * manifest is never taken for a finished snapshot.
 */
export interface DumpStore {
  /** Where the dumps are, for people and logs: `/var/lib/migrate-bot/backups` or `s3://bucket/prefix/`. */
  readonly where: string;
  /**
   * Refuses early, before pg_dump runs, when the store cannot take a dump (S3: the bucket does
   * not exist or the bot may not reach it).
   * @throws AppError `snapshot_storage_failed`
   */
  preflight(service: string): Promise<void>;
  /**
   * Streams `archive` into the store as dump `id`. Nothing is visible under `id` unless the
   * stream ended without error: a directory writes `<id>.dump.partial` and renames it; S3 aborts
   * the multipart upload.
   * @throws AppError `snapshot_storage_failed`; the stream's own error (pg_dump failed) as is
   */
  write(id: string, archive: Readable, labels: DumpLabels): Promise<StoredDump>;
  /**
   * Whether the stored dump is still exactly what `stored` recorded, without reading it: a
   * file's size, mtime and inode; an object's size and ETag.
   * @throws AppError `snapshot_not_found` when it is gone
   */
  unchanged(id: string, recorded: RecordedIdentity): Promise<boolean>;
  /**
   * The stored dump, streamed (never held in memory).
   * @throws AppError `snapshot_not_found`
   */
  open(id: string): Promise<Readable>;
  /** The manifest of dump `id`, or null when there is none or `id` is not a plain name. */
  readManifest(id: string): Promise<DumpManifest | null>;
  /** Writes the manifest that marks dump `manifest.id` finished. @throws AppError `snapshot_storage_failed` */
  writeManifest(manifest: DumpManifest): Promise<void>;
  /** Bot-made dumps of `service` (those with a manifest), oldest first. */
  list(service: string): Promise<DumpManifest[]>;
  /** Removes dump `id` and its manifest; absent ones are not an error. */
  remove(id: string): Promise<void>;
}

/** Who a dump belongs to; S3 puts these on the object as tags. */
export interface DumpLabels {
  incidentId: string;
  service: string;
  /** Migration file being rolled back. */
  migration: string;
  /** Slack user id of the requester. */
  requestedBy: string;
}

/** What a store wrote: where, and what proves later that it was not rewritten. */
export interface StoredDump {
  /** Absolute file path, or `s3://bucket/key`. */
  location: string;
  /** A file's mtime (ms) and inode when written. */
  file?: { mtimeMs: number; ino: number };
  /** An object's ETag (quoted, as S3 returns it). */
  etag?: string;
  /**
   * The store's own checksum of what it holds, for S3 `ChecksumSHA256` (base64; for a multipart
   * upload a checksum of the parts' checksums, S3 "Checking object integrity").
   */
  storeChecksum?: string;
}

/** What a snapshot record holds that tells a stored dump was not rewritten (a subset of the record). */
export type RecordedIdentity = Pick<StoredDump, 'file' | 'etag'> & { sizeBytes?: number };

/** What a bot-made dump's manifest (`<id>.json`) records. */
export interface DumpManifest {
  id: string;
  service: string;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** Hex sha256 of the archive, computed while pg_dump streamed it. */
  sha256?: string;
  /** Size of the archive, bytes. */
  sizeBytes?: number;
  /** Absolute file path or `s3://bucket/key`. */
  location?: string;
  etag?: string;
  incidentId?: string;
  migration?: string;
}

/** What a snapshot id may be: a file name stem, never a path (`..`, `/`). */
export const DUMP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Whether `id` is a plain dump name a store may look up. */
export const isDumpId = (id: string): boolean => DUMP_ID.test(id) && !id.includes('..');

/** A parsed manifest of dump `id`, or null when the JSON is not one (wrong id, missing fields). */
export function parseManifest(id: string, text: string): DumpManifest | null {
  let m: Partial<DumpManifest> | null;
  try {
    m = JSON.parse(text) as Partial<DumpManifest>;
  } catch {
    return null;
  }
  return m?.id === id && typeof m.service === 'string' && typeof m.createdAt === 'string' ? (m as DumpManifest) : null;
}

/**
 * Retention for pg_dump snapshots (`snapshot.keep` in services.yaml): keeps the newest `keep`
 * bot-made dumps of `service` and removes older ones, oldest first. Only dumps with a manifest
 * are considered; a dump whose id is in `protectedIds` (the snapshot of an open incident) is
 * never removed.
 * @returns ids removed, oldest first
 */
export async function pruneDumps(
  store: DumpStore,
  service: string,
  keep: number,
  protectedIds: ReadonlySet<string>,
): Promise<string[]> {
  const manifests = await store.list(service);
  const excess = manifests.length - keep;
  const removed: string[] = [];
  for (const m of manifests) {
    if (removed.length >= excess) break;
    if (protectedIds.has(m.id)) continue;
    await store.remove(m.id);
    removed.push(m.id);
  }
  return removed;
}
