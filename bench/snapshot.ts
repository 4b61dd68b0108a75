/**
 * Snapshot benchmark: `npm run bench:snapshot` (BENCH_ROWS, default 2,000,000; BENCH_RUNS, default 3).
 *
 * Builds a throw-away database on the local server with one table of BENCH_ROWS rows (about
 * 100 bytes each), then prints the median of BENCH_RUNS runs, ms, of: `pg_dump -Fc -f` by hand; the
 * bot's pg_dump snapshot (streamed into the file with its sha256 computed on the way, then
 * `pg_restore --list`); and the two verifications — the rollback gate's (`rehash: 'if_changed'`,
 * the file untouched since it was recorded) and the restore's full one (sha256 and `pg_restore --list`).
 * The same three with `storage: s3`, against moto's S3 on loopback (`moto_server`, so the figures
 * are moto's speed, not AWS's), with the process's peak RSS growth while the dump streams up.
 */
import { LocalDumpStore } from '../src/adapters/pgdump/local-dump-store.js';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { PgDumpSnapshotProvider } from '../src/adapters/pgdump/pg-dump-provider.js';
import { systemClock } from '../src/shared/clock.js';
import { formatBytes } from '../src/domain/triage/safe-value.js';
import { createTestDatabase } from '../test/support/postgres.js';
import { startMotoS3 } from '../test/support/moto-s3.js';
import { S3DumpStore } from '../src/adapters/s3/s3-dump-store.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 2_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const run = promisify(execFile);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Runs `fn` while sampling this process's RSS every 20 ms; returns its time and the peak RSS growth, bytes. */
async function timedWithPeak(fn: () => Promise<unknown>): Promise<{ ms: number; peakBytes: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const ms = await timed(fn);
    return { ms, peakBytes: Math.max(peak, process.memoryUsage().rss) - before };
  } finally {
    clearInterval(sampler);
  }
}

async function main(): Promise<void> {
  const db = await createTestDatabase('mb_bench_snap');
  const moto = await startMotoS3();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-snapshot-'));
  try {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query(
      `CREATE TABLE events AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS payload, now() - g * interval '1 second' AS at FROM generate_series(1, ${ROWS}) g`,
    );
    const { rows } = await c.query<{ size: string }>(
      'SELECT pg_size_pretty(pg_database_size(current_database())) AS size',
    );
    await c.end();
    const provider = new PgDumpSnapshotProvider({
      databaseUrl: db.url,
      store: new LocalDumpStore(dir),
      clock: systemClock,
    });
    const byHand: number[] = [];
    const bot: number[] = [];
    const gate: number[] = [];
    const full: number[] = [];
    let dumpBytes = 0;
    for (let i = 0; i < RUNS; i++) {
      const file = path.join(dir, `by-hand-${i}.dump`);
      byHand.push(await timed(() => run('pg_dump', ['--format=custom', `--file=${file}`, `--dbname=${db.url}`])));
      let record!: Awaited<ReturnType<typeof provider.create>>;
      bot.push(
        await timed(
          async () =>
            (record = await provider.create({
              incidentId: 'bench',
              service: 'bench',
              migration: '001',
              requestedBy: 'U',
              name: `bench-${i}`,
            })),
        ),
      );
      dumpBytes = (await stat(record.location!)).size;
      gate.push(await timed(async () => (record = await provider.verify(record, { rehash: 'if_changed' }))));
      full.push(await timed(() => provider.verify(record)));
      await rm(file, { force: true });
      await rm(record.location!, { force: true });
      await rm(path.join(dir, `bench-${i}.json`), { force: true });
    }
    const s3 = new PgDumpSnapshotProvider({
      databaseUrl: db.url,
      store: new S3DumpStore({
        client: moto.client,
        bucket: await moto.bucket('bench-snapshots'),
        prefix: 'bench/',
        service: 'bench',
      }),
      clock: systemClock,
    });
    const s3Create: number[] = [];
    const s3Peak: number[] = [];
    const s3Gate: number[] = [];
    const s3Full: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let record!: Awaited<ReturnType<typeof s3.create>>;
      const req = { incidentId: 'bench', service: 'bench', migration: '001', requestedBy: 'U', name: `bench-s3-${i}` };
      const created = await timedWithPeak(async () => (record = await s3.create(req)));
      s3Create.push(created.ms);
      s3Peak.push(created.peakBytes);
      s3Gate.push(await timed(async () => (record = await s3.verify(record, { rehash: 'if_changed' }))));
      s3Full.push(await timed(() => s3.verify(record)));
    }
    console.log(
      `${ROWS.toLocaleString('en-US')} rows, database ${rows[0]!.size}, dump ${formatBytes(dumpBytes)}; median of ${RUNS} runs.\n`,
    );
    console.log('| step | ms |');
    console.log('| --- | --: |');
    console.log(`| pg_dump -Fc by hand | ${median(byHand).toFixed(0)} |`);
    console.log(`| bot snapshot (streamed sha256 + pg_restore --list) | ${median(bot).toFixed(0)} |`);
    console.log(`| ratio bot ÷ by hand | ${(median(bot) / median(byHand)).toFixed(2)} |`);
    console.log(`| rollback gate verify (file unchanged) | ${median(gate).toFixed(1)} |`);
    console.log(`| full verify (restore: sha256 + pg_restore --list) | ${median(full).toFixed(0)} |`);
    console.log(`| S3 (moto): bot snapshot, multipart upload + S3 SHA-256 check | ${median(s3Create).toFixed(0)} |`);
    console.log(`| S3 (moto): peak RSS growth while uploading | ${formatBytes(median(s3Peak))} |`);
    console.log(`| S3 (moto): rollback gate verify (HeadObject: size + ETag) | ${median(s3Gate).toFixed(1)} |`);
    console.log(
      `| S3 (moto): full verify (GetObject streamed: sha256 + pg_restore --list) | ${median(s3Full).toFixed(0)} |`,
    );
  } finally {
    await moto.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
