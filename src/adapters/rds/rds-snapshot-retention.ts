import type { Logger } from '../../shared/logger.js';
import { BOT_SNAPSHOT_TAG, type SnapshotView } from './snapshot-lifecycle.js';

/** What retention needs of a provider: list the source's manual snapshots, delete one. */
export interface RetentionOps {
  /** Manual snapshots of the instance or cluster (`Describe…Snapshots` with the source and `SnapshotType=manual`). */
  list(): Promise<SnapshotView[]>;
  /** `DeleteDBSnapshot` / `DeleteDBClusterSnapshot`. */
  remove(id: string): Promise<void>;
}

/** Options of {@link pruneRdsSnapshots}. */
export interface RetentionOptions {
  /** The service key: only snapshots tagged with it are counted. */
  service: string;
  /** `snapshot.keep`: how many of the bot's snapshots of this service stay. */
  keep: number;
  /** Ids never deleted (the open incidents' snapshots and the one just taken). */
  protectedIds: ReadonlySet<string>;
  logger: Logger;
}

/**
 * `snapshot.keep` for RDS and Aurora manual snapshots, as for pg_dump files: of the snapshots the
 * bot made of this service (tag `created-by: migrate-bot` and `service: <name>`; a snapshot
 * someone else took is never touched), the `keep` newest available ones stay, the open incidents'
 * stay, and the rest are deleted. A failed delete is logged and left for the next run; it never
 * fails the snapshot that was just taken.
 * @returns the ids deleted
 */
export async function pruneRdsSnapshots(ops: RetentionOps, options: RetentionOptions): Promise<string[]> {
  let all: SnapshotView[];
  try {
    all = await ops.list();
  } catch (err) {
    options.logger.warn({ err, service: options.service }, 'snapshot retention skipped: could not list snapshots');
    return [];
  }
  const ours = all
    .filter(
      (s) =>
        s.tags[BOT_SNAPSHOT_TAG.Key] === BOT_SNAPSHOT_TAG.Value &&
        s.tags.service === options.service &&
        s.status === 'available',
    )
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
  const removed: string[] = [];
  for (const s of ours.slice(options.keep)) {
    if (options.protectedIds.has(s.id)) continue;
    try {
      await ops.remove(s.id);
      removed.push(s.id);
    } catch (err) {
      options.logger.warn(
        { err, snapshotId: s.id },
        'snapshot retention could not delete a snapshot; next run tries again',
      );
    }
  }
  // Housekeeping: logged, never posted in an incident's channel.
  if (removed.length)
    options.logger.info(
      { service: options.service, keep: options.keep, removed },
      'snapshot retention deleted older snapshots',
    );
  return removed;
}

/**
 * After a snapshot `justTaken` of `service`: applies `keep` when it is set (see
 * {@link pruneRdsSnapshots}), keeping the open incidents' snapshots and the one just taken.
 */
export async function retainAfterSnapshot(
  ops: RetentionOps,
  justTaken: { name: string; service: string },
  policy: { keep?: number; protectedIds?: () => Promise<ReadonlySet<string>> },
  logger: Logger,
): Promise<void> {
  if (policy.keep === undefined) return;
  const protectedIds = new Set([...((await policy.protectedIds?.()) ?? []), justTaken.name]);
  await pruneRdsSnapshots(ops, { service: justTaken.service, keep: policy.keep, protectedIds, logger });
}
