import type pg from 'pg';
import type { DownCheckRecord, DownCheckRecords } from '../../domain/rollback/down-check-record.js';

/**
 * `migrate-bot check --record` results in the state database's `down_checks` table, one row per
 * (service, migration, checksum of the files that define its down): a file changed since the
 * check is a new key, so an old pass never vouches for a new file.
 */
export class PostgresDownCheckStore implements DownCheckRecords {
  constructor(private readonly pool: pg.Pool) {}

  /** Writes (or replaces) the result of one migration's check. */
  async record(r: DownCheckRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO down_checks (service, migration, checksum, tool, passed, detail, checked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (service, migration, checksum)
       DO UPDATE SET tool = EXCLUDED.tool, passed = EXCLUDED.passed, detail = EXCLUDED.detail, checked_at = EXCLUDED.checked_at`,
      [r.service, r.migration, r.checksum, r.tool, r.passed, JSON.stringify(r.detail), r.checkedAt],
    );
  }

  /** The newest check of each of `migrations` for `service`, whatever its checksum. */
  async latest(service: string, migrations: readonly string[]): Promise<DownCheckRecord[]> {
    const { rows } = await this.pool.query<{
      migration: string;
      checksum: string;
      tool: string;
      passed: boolean;
      detail: DownCheckRecord['detail'];
      checked_at: Date;
    }>(
      `SELECT DISTINCT ON (migration) migration, checksum, tool, passed, detail, checked_at FROM down_checks
       WHERE service = $1 AND migration = ANY($2::text[]) ORDER BY migration, checked_at DESC`,
      [service, migrations],
    );
    return rows.map((r) => ({
      service,
      migration: r.migration,
      checksum: r.checksum,
      tool: r.tool,
      passed: r.passed,
      detail: r.detail,
      checkedAt: r.checked_at.toISOString(),
    }));
  }
}
