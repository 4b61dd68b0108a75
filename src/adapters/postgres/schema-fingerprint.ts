import type { ServiceConfig } from '../../config/services.js';
import type { MigrationTool } from '../../domain/rollback/migration-tool.js';
import { isAppError } from '../../shared/errors.js';
import type { VerificationCheck } from '../../domain/verify/verification.js';
import { expectedSchema, type ExpectedSchemaDeps } from './expected-schema.js';
import { schemaLines, trackingRelations } from './schema-lines.js';

/** What the fingerprint check needs from the composition root. */
export type FingerprintDeps = ExpectedSchemaDeps;

/**
 * Schema fingerprint (runbook 001 postflight "schema checksum"): the service database's
 * normalised schema is compared, object by object, with what a fresh migrate up with the
 * service's own tool through the migrations still applied gives. That expected schema is
 * usually built before approval by the prepare job and kept in the state database under a key
 * of the files' bytes and the names (see `expected-schema.ts`), so after the downs only the live
 * catalogs are read; otherwise it is built now on a scratch database, always dropped.
 * Skipped, saying why, when the tool cannot migrate a scratch database; failed, saying why,
 * when the scratch database cannot be made or migrated.
 */
export async function fingerprintCheck(
  service: ServiceConfig,
  serviceTool: MigrationTool,
  deps: FingerprintDeps,
): Promise<VerificationCheck> {
  const t0 = performance.now();
  const base = {
    name: 'schema_fingerprint',
    title: 'Schema fingerprint against a fresh migrate up (runbook 001 postflight)',
  };
  const done = (status: VerificationCheck['status'], detail: string, problems: string[] = []): VerificationCheck => ({
    ...base,
    status,
    detail,
    problems,
    durationMs: Math.round(performance.now() - t0),
  });
  if (!serviceTool.migrateUp)
    return done(
      'skipped',
      `${service.migrations.tool} cannot migrate a scratch database from the bot (its migrator applies the whole journal, not up to a point)`,
    );
  const applied = await serviceTool.listApplied();
  const exclude = trackingRelations(serviceTool);
  let expected: Awaited<ReturnType<typeof expectedSchema>>;
  let live: string[];
  try {
    [expected, live] = await Promise.all([
      expectedSchema(service, serviceTool, applied, deps),
      schemaLines(service.triage.database_url, exclude),
    ]);
  } catch (err) {
    if (isAppError(err) && Array.isArray(err.details?.problems))
      return done('failed', err.message, err.details.problems as string[]);
    throw err;
  }
  const expectedSet = new Set(expected.lines);
  const liveSet = new Set(live);
  const problems = [
    ...live.filter((l) => !expectedSet.has(l)).map((l) => `only in the service database: ${l}`),
    ...expected.lines
      .filter((l) => !liveSet.has(l))
      .map(
        (l) =>
          `missing from the service database (a fresh migrate up to \`${applied[applied.length - 1]?.name ?? '(nothing)'}\` has it): ${l}`,
      ),
  ];
  const source = expected.cached ? 'reference built before approval' : `reference built now in ${expected.builtMs} ms`;
  return done(
    problems.length ? 'failed' : 'passed',
    `${live.length} schema objects compared with a fresh migrate up through ${applied.length} migration(s)${problems.length ? `: ${problems.length} difference(s)` : ': identical'}; ${source}`,
    problems,
  );
}
