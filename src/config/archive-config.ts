import bytes from 'bytes';
import { z } from 'zod';

/** A size as people write it (`1GiB`, `500MB`, `2048`: bytes), parsed with the `bytes` package (1 KB = 1024 B). */
export const ByteSizeSchema = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : bytes.parse(v);
  if (n === null || !Number.isFinite(n) || n <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(v)} is not a size: write it like 1GiB, 500MB or a number of bytes`,
    });
    return z.NEVER;
  }
  return Math.round(n);
});

/**
 * `archive:` of a service: before a down destroys data (DROP TABLE/COLUMN, TRUNCATE, DELETE or
 * UPDATE without WHERE, a narrowing ALTER COLUMN TYPE), the rollback copies what would be lost into
 * `schema` of the service database (docs/archive.md). `off` turns it off.
 */
export const ArchiveConfigSchema = z
  .union([
    z.literal('off'),
    z
      .object({
        /** Where archive tables go; the bot's own `migrate_bot_` namespace, left out of verification's schema comparisons. */
        schema: z
          .string()
          .regex(
            /^migrate_bot_[a-z0-9_]{1,40}$/,
            'the archive schema is named migrate_bot_<lowercase letters, digits, _>',
          )
          .default('migrate_bot_archive'),
        /** The most one incident may archive, estimated before approval (default 1 GiB). */
        max_bytes: ByteSizeSchema.default(1024 ** 3),
        /** How long archive tables are kept before `/migrate archive drop` may remove them, days (default 14). */
        keep_days: z.number().int().positive().max(3650).default(14),
      })
      .strict(),
  ])
  .prefault({});

/** `archive:` as the rest of the bot reads it: off, or on with its schema and limits. */
export type ArchiveConfig = z.infer<typeof ArchiveConfigSchema>;
