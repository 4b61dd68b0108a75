import { z } from 'zod';
import { DurationSchema } from './duration.js';

const MaxWaitMinutes = z
  .number()
  .positive()
  .max(24 * 60)
  .default(30);

/**
 * `snapshot:` section. One provider per service. `none` needs a written
 * waiver, and every incident then says loudly that no snapshot exists.
 */
export const SnapshotConfigSchema = z.discriminatedUnion('provider', [
  z
    .object({
      provider: z.literal('pg_dump'),
      /** Keep at most this many bot-made dumps of this service; oldest removed first. */
      keep: z.number().int().min(1).max(1000).optional(),
      /** pg_dump `--lock-wait-timeout`: fail, naming the lock holder, instead of waiting behind an ACCESS EXCLUSIVE lock. */
      lock_wait_timeout: DurationSchema.prefault('1min'),
      /** Where dumps are kept: `local` (SNAPSHOT_DIR, the default) or `s3` (any node can restore them). */
      storage: z.enum(['local', 's3']).default('local'),
      /** S3 bucket name (storage `s3`), per S3's bucket naming rules. */
      bucket: z
        .string()
        .regex(
          /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
          'must be an S3 bucket name: 3–63 lowercase letters, digits, dots and hyphens',
        )
        .optional(),
      /** Key prefix inside the bucket; a trailing `/` is added. Default `migrate-bot/<service>/`. */
      prefix: z
        .string()
        .max(512)
        .regex(/^[A-Za-z0-9!_.*'()/-]*$/, "may hold only letters, digits and ! _ . * ' ( ) / -")
        .refine((p) => !p.startsWith('/') && !p.includes('//') && !p.split('/').includes('..'), {
          message: 'must not start with /, hold // or a .. segment',
        })
        .optional(),
      /** SSE-KMS key id or ARN for the dumps; without it the bucket's default encryption applies. */
      kms_key_id: z.string().min(1).max(2048).optional(),
      /** Path-style addressing, for S3-compatible stores without virtual-hosted buckets (MinIO, Ceph). */
      force_path_style: z.boolean().default(false),
    })
    .superRefine((snap, ctx) => {
      if (snap.storage === 's3' && !snap.bucket)
        ctx.addIssue({ code: 'custom', path: ['bucket'], message: 'is required with `storage: s3`' });
      if (snap.storage === 'local')
        for (const key of ['bucket', 'prefix', 'kms_key_id'] as const)
          if (snap[key] !== undefined)
            ctx.addIssue({ code: 'custom', path: [key], message: 'applies only with `storage: s3`' });
    }),
  z.object({
    provider: z.literal('rds'),
    /** RDS DB instance identifier, e.g. `tickettoken-production`. */
    instance: z.string().min(1).max(63),
    max_wait_minutes: MaxWaitMinutes,
    /** Keep at most this many of the bot's own manual snapshots of this service (tagged `created-by: migrate-bot`); oldest deleted first. */
    keep: z.number().int().min(1).max(1000).optional(),
  }),
  z.object({
    provider: z.literal('rds-cluster'),
    /** Aurora DB cluster identifier. */
    cluster: z.string().min(1).max(63),
    /** Class of the writer instance a restored cluster gets (default: the source cluster writer's class). */
    writer_instance_class: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a DB instance class like db.r6g.large')
      .optional(),
    max_wait_minutes: MaxWaitMinutes,
    /** As for `rds`: the bot's own manual cluster snapshots kept, oldest deleted first. */
    keep: z.number().int().min(1).max(1000).optional(),
  }),
  z.object({
    provider: z.literal('none'),
    waiver_reason: z.string().trim().min(10, 'must say why no snapshot is taken (at least 10 characters)'),
  }),
]);
