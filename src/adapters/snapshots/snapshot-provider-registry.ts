import { strong, words } from '../../shared/words.js';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ServiceConfig } from '../../config/services.js';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Restorer } from '../../domain/snapshots/restorer.js';
import type { SnapshotProvider } from '../../domain/snapshots/snapshot-provider.js';
import type { DumpStore } from '../pgdump/dump-store.js';
import { LocalDumpStore } from '../pgdump/local-dump-store.js';
import { PgDumpSnapshotProvider } from '../pgdump/pg-dump-provider.js';
import { S3DumpStore } from '../s3/s3-dump-store.js';
import { PgDumpRestorer } from '../pgdump/pg-dump-restorer.js';
import { RdsClusterSnapshotProvider } from '../rds/rds-cluster-snapshot-provider.js';
import { RdsRestorer } from '../rds/rds-restorer.js';
import { RdsSnapshotProvider } from '../rds/rds-snapshot-provider.js';

/** What every snapshot adapter may need from the process, built once by the composition root. */
export interface SnapshotContext {
  /** SNAPSHOT_DIR (pg_dump files with `storage: local`). */
  directory: string;
  /** The RDS client, created on first use. */
  rds: () => RDSClient;
  /** The S3 client (path-style or not), created on first use. */
  s3: (options: { forcePathStyle: boolean }) => S3Client;
  /** Snapshot ids retention must keep (those of open incidents). */
  protectedIds: () => Promise<ReadonlySet<string>>;
  /** Waiter backoff floor and ceiling, s (tests poll faster than the providers' 15–60 s). */
  pollSeconds?: number;
  pollCeilingSeconds?: number;
  clock: Clock;
  logger: Logger;
}

type Snapshot<P extends ServiceConfig['snapshot']['provider']> = Extract<ServiceConfig['snapshot'], { provider: P }>;

/** One snapshot provider as a plugin: how it snapshots a service and how it restores one. */
interface SnapshotPlugin<P extends ServiceConfig['snapshot']['provider']> {
  snapshotProvider(service: ServiceConfig, snap: Snapshot<P>, ctx: SnapshotContext): SnapshotProvider;
  restorer(service: ServiceConfig, snap: Snapshot<P>, ctx: SnapshotContext): Restorer;
}

/** Restores take 10–60 minutes: wait up to twice the snapshot wait, at least an hour. */
const restoreWaitMinutes = (snapshotWait: number): number => Math.max(60, snapshotWait * 2);
/**
 * Where a pg_dump service keeps its dumps: SNAPSHOT_DIR, or its S3 bucket under
 * `prefix` (default `migrate-bot/<service>/`).
 */
function dumpStore(service: ServiceConfig, snap: Snapshot<'pg_dump'>, ctx: SnapshotContext): DumpStore {
  if (snap.storage === 'local') return new LocalDumpStore(ctx.directory);
  const prefix = snap.prefix ?? `migrate-bot/${service.name}/`;
  return new S3DumpStore({
    client: ctx.s3({ forcePathStyle: snap.force_path_style }),
    bucket: snap.bucket!,
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    service: service.name,
    ...(snap.kms_key_id ? { kmsKeyId: snap.kms_key_id } : {}),
  });
}

const rdsWaits = (ctx: SnapshotContext) => ({
  minDelaySeconds: ctx.pollSeconds,
  maxDelaySeconds: ctx.pollCeilingSeconds,
});

/**
 * The snapshot providers, one entry each (`snapshot.provider` in services.yaml; DESIGN.md
 * "Plugins come from registries"): the composition root asks this map, nothing else names a
 * provider to build one.
 */
const SNAPSHOT_PLUGINS: { [P in ServiceConfig['snapshot']['provider']]: SnapshotPlugin<P> } = {
  pg_dump: {
    snapshotProvider: (service, snap, ctx) =>
      new PgDumpSnapshotProvider({
        databaseUrl: service.database_url,
        store: dumpStore(service, snap, ctx),
        clock: ctx.clock,
        keep: snap.keep,
        lockWaitTimeout: snap.lock_wait_timeout.text,
        protectedIds: ctx.protectedIds,
        logger: ctx.logger,
      }),
    restorer: (service, snap, ctx) =>
      new PgDumpRestorer({
        databaseUrl: service.database_url,
        store: dumpStore(service, snap, ctx),
        service: service.name,
        clock: ctx.clock,
        verify: (record) => SNAPSHOT_PLUGINS.pg_dump.snapshotProvider(service, snap, ctx).verify(record),
      }),
  },
  rds: {
    snapshotProvider: (service, snap, ctx) =>
      new RdsSnapshotProvider({
        client: ctx.rds(),
        instance: snap.instance,
        maxWaitMinutes: snap.max_wait_minutes,
        ...rdsWaits(ctx),
        service: service.name,
        clock: ctx.clock,
        logger: ctx.logger,
        ...(snap.keep !== undefined ? { keep: snap.keep, protectedIds: ctx.protectedIds } : {}),
      }),
    restorer: (service, snap, ctx) =>
      new RdsRestorer({
        client: ctx.rds(),
        kind: 'instance',
        source: snap.instance,
        maxWaitMinutes: restoreWaitMinutes(snap.max_wait_minutes),
        ...rdsWaits(ctx),
        service: service.name,
        clock: ctx.clock,
        logger: ctx.logger,
      }),
  },
  'rds-cluster': {
    snapshotProvider: (service, snap, ctx) =>
      new RdsClusterSnapshotProvider({
        client: ctx.rds(),
        cluster: snap.cluster,
        maxWaitMinutes: snap.max_wait_minutes,
        ...rdsWaits(ctx),
        service: service.name,
        clock: ctx.clock,
        logger: ctx.logger,
        ...(snap.keep !== undefined ? { keep: snap.keep, protectedIds: ctx.protectedIds } : {}),
      }),
    restorer: (service, snap, ctx) =>
      new RdsRestorer({
        client: ctx.rds(),
        kind: 'cluster',
        source: snap.cluster,
        writerInstanceClass: snap.writer_instance_class,
        maxWaitMinutes: restoreWaitMinutes(snap.max_wait_minutes),
        ...rdsWaits(ctx),
        service: service.name,
        clock: ctx.clock,
        logger: ctx.logger,
      }),
  },
  none: {
    snapshotProvider: (service) => {
      throw new AppError({ code: 'snapshot_waived', message: `${service.name} waives snapshots` });
    },
    restorer: (service) => {
      throw new AppError({
        code: 'restore_unsupported',
        message: `${service.name} waives snapshots`,
        userMessage: words`${strong(service.name)} takes no snapshots (waived in services.yaml), so there is nothing the bot can restore.`,
      });
    },
  },
};

/** The service's SnapshotProvider, from `snapshot.provider`. @throws AppError `snapshot_waived` for `none` */
export function createSnapshotProvider(service: ServiceConfig, ctx: SnapshotContext): SnapshotProvider {
  const plugin = SNAPSHOT_PLUGINS[service.snapshot.provider] as SnapshotPlugin<ServiceConfig['snapshot']['provider']>;
  return plugin.snapshotProvider(service, service.snapshot, ctx);
}

/** The service's Restorer, from `snapshot.provider`. @throws AppError `restore_unsupported` for `none` */
export function createRestorer(service: ServiceConfig, ctx: SnapshotContext): Restorer {
  const plugin = SNAPSHOT_PLUGINS[service.snapshot.provider] as SnapshotPlugin<ServiceConfig['snapshot']['provider']>;
  return plugin.restorer(service, service.snapshot, ctx);
}
