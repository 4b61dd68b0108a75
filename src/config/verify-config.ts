import { z } from 'zod';
import { DurationSchema } from './duration.js';
import { EnvVarName } from './env-var-name.js';

/** `verify:` of a service: checks after every rollback and on `/migrate verify` (runbook 003 "Post-rollback verification", runbook 001 postflight). */
export const VerifyConfigSchema = z
  .object({
    /** Read-only queries with what they must return: `expect_rows` (a row count) and/or `expect` (the first value, a boolean). */
    smoke_queries: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(/^[a-z0-9][a-z0-9_-]{0,59}$/, 'a smoke query name is lowercase letters, digits, _ and -'),
            sql: z.string().trim().min(1),
            expect_rows: z.number().int().nonnegative().optional(),
            expect: z.boolean().optional(),
          })
          .strict()
          .refine((q) => q.expect_rows !== undefined || q.expect !== undefined, {
            message: 'needs expect_rows or expect',
          }),
      )
      .max(50)
      .default([]),
    /** Service endpoints that must answer HTTP 2xx within `health_timeout`. */
    health_urls: z
      .array(z.url({ protocol: /^https?$/ }))
      .max(20)
      .default([]),
    health_timeout: DurationSchema.prefault('5s'),
    /** Env var with a connection string to a server where the bot may CREATE DATABASE for the schema fingerprint (default: the service's server). */
    scratch_database_url_env: EnvVarName.optional(),
  })
  .strict()
  .prefault({});

/** `rehearsal:` of a service (runbook 003 scenario 3: "reproduce on a restored test copy"). */
export const RehearsalConfigSchema = z
  .object({
    /** Env var with a connection string to a scratch server for pg_dump rehearsals (default: the service's own server, a new database). */
    database_url_env: EnvVarName.optional(),
    /** RDS/Aurora rehearsals restore a new instance (time and money): off unless set. */
    allow_cloud_restore: z.boolean().default(false),
  })
  .strict()
  .prefault({});
