import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 } as const;

/**
 * A PostgreSQL-style duration as written in services.yaml (`500ms`, `5s`, `2min`, `1h`),
 * validated and converted to milliseconds. The same text is valid as a value for
 * `SET lock_timeout` / `SET statement_timeout` (PostgreSQL docs, "Resource Consumption").
 */
export const DurationSchema = z
  .string()
  .regex(/^\d{1,7}(ms|s|min|h)$/, 'must be a duration like 500ms, 5s, 2min or 1h')
  .transform((text) => {
    const m = /^(\d+)(ms|s|min|h)$/.exec(text)!;
    return { text, ms: Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] };
  })
  .refine((d) => d.ms > 0, 'must be greater than zero');

/** A parsed duration: the original text and its value in milliseconds. */
export type Duration = z.infer<typeof DurationSchema>;
