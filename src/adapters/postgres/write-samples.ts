import type pg from 'pg';
import type { ServiceConfig } from '../../config/services.js';
import type { TableWritesSince, WriteSamples, WritesSince } from '../../domain/incident/ports/write-samples.js';
import { qualified, readOnly } from './service-session.js';

/** Inserts, updates and deletes of one table since the statistics were reset. */
type Counters = [number, number, number];

/** `pg_stat_user_tables` counters of every user table outside the bot's own `migrate_bot_*` schemas. */
async function counters(c: pg.Client): Promise<Record<string, Counters>> {
  const { rows } = await c.query<{ t: string; ins: string; upd: string; del: string }>(
    `SELECT schemaname || '.' || relname AS t, n_tup_ins::text AS ins, n_tup_upd::text AS upd, n_tup_del::text AS del
       FROM pg_stat_user_tables WHERE schemaname NOT LIKE 'migrate\\_bot\\_%'`,
  );
  return Object.fromEntries(rows.map((r) => [r.t, [Number(r.ins), Number(r.upd), Number(r.del)] as Counters]));
}

/** Writes between two samples of one table; a table new since counts all of its writes, a reset counts from zero. */
function delta(then: Counters | undefined, now: Counters): number {
  const sum = (c: Counters) => c[0] + c[1] + c[2];
  if (!then) return sum(now);
  return sum(now) >= sum(then) ? sum(now) - sum(then) : sum(now);
}

/** Rows of one table written after `since`: by `created_at`/`updated_at` when it has them, else by counters. */
async function tableWrites(
  c: pg.Client,
  table: { schema: string | null; name: string },
  since: Date,
  then: Record<string, Counters>,
  now: Record<string, Counters>,
): Promise<TableWritesSince | null> {
  const { rows } = await c.query<{ oid: number; t: string }>(
    `SELECT c.oid::int AS oid, n.nspname || '.' || c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')`,
    [qualified(table.schema, table.name)],
  );
  const rel = rows[0];
  if (!rel) return null;
  const { rows: stamps } = await c.query<{ attname: string }>(
    `SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attname IN ('created_at', 'updated_at') AND NOT attisdropped
        AND atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype) ORDER BY attname`,
    [rel.oid],
  );
  if (stamps.length) {
    const newest = stamps.map((s) => qualified(null, s.attname)).join(', ');
    const { rows: n } = await c.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${qualified(table.schema, table.name)} WHERE greatest(${newest}) > $1`,
      [since],
    );
    return { table: rel.t, rows: Number(n[0]!.n), how: 'timestamps' };
  }
  return { table: rel.t, rows: delta(then[rel.t], now[rel.t] ?? [0, 0, 0]), how: 'statistics' };
}

/** {@link WriteSamples} with samples in the state database's `snapshot_samples` table. */
export class PostgresWriteSamples implements WriteSamples {
  constructor(private readonly pool: pg.Pool) {}

  async record(service: ServiceConfig, snapshot: { id: string; takenAt: Date }): Promise<void> {
    const tables = await readOnly(service, 'sample the write counters', counters);
    await this.pool.query(
      `INSERT INTO snapshot_samples (service, snapshot_id, taken_at, tables) VALUES ($1, $2, $3, $4)
       ON CONFLICT (service, snapshot_id) DO NOTHING`,
      [service.name, snapshot.id, snapshot.takenAt, JSON.stringify(tables)],
    );
  }

  async since(
    service: ServiceConfig,
    tables: ReadonlyArray<{ schema: string | null; name: string }>,
    before: Date,
  ): Promise<WritesSince | null> {
    const { rows } = await this.pool.query<{ snapshot_id: string; taken_at: Date; tables: Record<string, Counters> }>(
      `SELECT snapshot_id, taken_at, tables FROM snapshot_samples WHERE service = $1 AND taken_at < $2
        ORDER BY taken_at DESC LIMIT 1`,
      [service.name, before],
    );
    const sample = rows[0];
    if (!sample) return null;
    return readOnly(service, 'count the writes since the snapshot', async (c) => {
      const now = await counters(c);
      const seen = new Set<string>();
      const out: TableWritesSince[] = [];
      for (const t of tables) {
        const w = await tableWrites(c, t, sample.taken_at, sample.tables, now);
        if (w && !seen.has(w.table)) {
          seen.add(w.table);
          out.push(w);
        }
      }
      const database = Object.entries(now).reduce((sum, [t, n]) => sum + delta(sample.tables[t], n), 0);
      return { snapshotId: sample.snapshot_id, takenAt: sample.taken_at.toISOString(), tables: out, database };
    });
  }

  async restoreTimes(service: string, limit: number): Promise<number[]> {
    const { rows } = await this.pool.query<{ ms: number }>(
      `SELECT (restore->'result'->>'elapsedMs')::float8 AS ms FROM incidents
        WHERE service = $1 AND kind = 'restore' AND restore->'result'->>'elapsedMs' IS NOT NULL
        ORDER BY ended_at DESC NULLS LAST LIMIT $2`,
      [service, limit],
    );
    return rows.map((r) => r.ms);
  }
}
