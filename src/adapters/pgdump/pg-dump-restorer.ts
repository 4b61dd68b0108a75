import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import type { Clock } from '../../shared/clock.js';
import type { Restorer, RestoreOutcome, RestoreRequest } from '../../snapshots/restorer.js';
import type { SnapshotProgress } from '../../snapshots/snapshot-provider.js';
import { recoveryDatabaseName, restoreDumpToNewDatabase } from './pg-restore.js';

/** Restorer for pg_dump snapshots: `pg_restore` into a new database on the same server. */
export class PgDumpRestorer implements Restorer {
  readonly supportsPointInTime = false;

  constructor(private readonly options: { databaseUrl: string; directory: string; clock: Clock }) {}

  targetName(at: Date): string {
    return recoveryDatabaseName(decodeURIComponent(new URL(this.options.databaseUrl).pathname.slice(1)), at);
  }

  async restore(req: RestoreRequest, onProgress?: SnapshotProgress): Promise<RestoreOutcome> {
    if (!req.snapshotId || req.to) {
      throw new AppError({ code: 'restore_unsupported', message: 'pg_dump restores need a snapshot id', userMessage: 'pg_dump snapshots restore from a snapshot ID, not to a point in time.' });
    }
    const started = this.options.clock.now().getTime();
    const file = path.resolve(this.options.directory, `${req.snapshotId}.dump`);
    await onProgress?.(`Restoring \`${req.snapshotId}\` into the new database \`${req.target}\` with pg_restore…`);
    const { database, url } = await restoreDumpToNewDatabase(this.options.databaseUrl, file, req.target);
    return { identifier: database, endpoint: url, elapsedMs: this.options.clock.now().getTime() - started };
  }
}
