import { AppError } from '../../shared/errors.js';
import { utcSecondStamp } from '../../shared/clock.js';

/**
 * Snapshot and recovery-instance names, checked against RDS identifier rules
 * before any AWS call (AWS "DB snapshot identifier" rules; runbook 004 "Take Manual Backup":
 * `pre-rollback-$(date +%Y%m%d-%H%M%S)`; runbook 003 "Restore to a new DB instance").
 *
 * RDS rules (CreateDBSnapshot / CreateDBClusterSnapshot / CreateDBInstance API reference):
 * ASCII letters, digits and hyphens; first character a letter; no two consecutive
 * hyphens; no trailing hyphen; at most 255 characters for DB snapshots and
 * 63 for DB cluster snapshots and DB instance identifiers. RDS stores identifiers
 * in lower case, so every name built here is lower case.
 */

/** Which RDS resource an identifier names; decides the length limit. */
export type RdsIdentifierKind = 'instance' | 'cluster';

/** Longest identifier RDS accepts, characters: DB snapshot 255, DB cluster snapshot 63. */
export const SNAPSHOT_IDENTIFIER_MAX_LENGTH: Readonly<Record<RdsIdentifierKind, number>> = {
  instance: 255,
  cluster: 63,
};

/** Longest DB instance (and DB cluster) identifier RDS accepts, characters. */
export const INSTANCE_IDENTIFIER_MAX_LENGTH = 63;

/**
 * Every rule `id` breaks, in plain words; empty when valid. Pure.
 * @param maxLength longest allowed identifier, characters
 */
export function rdsIdentifierProblems(id: string, maxLength: number): string[] {
  const problems: string[] = [];
  if (id.length === 0) return ['it is empty'];
  if (id.length > maxLength) problems.push(`it is ${id.length} characters long; at most ${maxLength} are allowed`);
  if (!/^[A-Za-z]/.test(id)) problems.push('it must start with a letter');
  if (/[^A-Za-z0-9-]/.test(id)) problems.push('it may contain only ASCII letters, digits and hyphens');
  if (id.includes('--')) problems.push('it must not contain two consecutive hyphens');
  if (id.endsWith('-')) problems.push('it must not end with a hyphen');
  return problems;
}

/**
 * Throws unless `id` is a valid RDS snapshot identifier for `kind`
 * (`instance`: DB snapshot, ≤ 255 characters; `cluster`: DB cluster snapshot, ≤ 63).
 * @throws AppError `snapshot_name_invalid` (not retryable) listing every broken rule;
 *   its userMessage names the identifier and what to change.
 */
export function assertValidSnapshotIdentifier(id: string, kind: RdsIdentifierKind): void {
  const problems = rdsIdentifierProblems(id, SNAPSHOT_IDENTIFIER_MAX_LENGTH[kind]);
  if (problems.length === 0) return;
  const what = kind === 'cluster' ? 'DB cluster snapshot' : 'DB snapshot';
  throw new AppError({
    code: 'snapshot_name_invalid',
    message: `"${id}" is not a valid RDS ${what} identifier: ${problems.join('; ')}`,
    userMessage:
      `Snapshot name \`${id}\` is not a valid RDS ${what} identifier (${problems.join('; ')}). ` +
      'No snapshot was requested. Service names in services.yaml become part of the name ' +
      (kind === 'cluster'
        ? '(at most 34 characters for Aurora clusters, no trailing hyphen).'
        : '(no trailing hyphen).'),
    details: { id, kind, problems },
  });
}

/**
 * The snapshot name for `service` taken at `at`: `pre-rollback-<service>-<yyyymmdd-hhmmss>`
 * in UTC, lower case (runbook 004 "Take Manual Backup"), e.g.
 * `pre-rollback-tickets-20261121-031207`.
 *
 * Validated with DB snapshot rules (≤ 255 characters); an Aurora provider must also
 * check it with `assertValidSnapshotIdentifier(name, 'cluster')` (≤ 63 characters,
 * which leaves 34 characters for the service name).
 * @throws AppError `snapshot_name_invalid` when the service name makes it invalid
 *   (e.g. a service name ending in `-` would create `--`).
 */
export function snapshotName(service: string, at: Date): string {
  const name = `pre-rollback-${service.toLowerCase()}-${utcSecondStamp(at)}`;
  assertValidSnapshotIdentifier(name, 'instance');
  return name;
}

/**
 * The identifier of a restored copy of `source`: `<source>-recovery-<yyyymmdd-hhmmss>` in UTC,
 * lower case (runbook 004 uses `tickettoken-recovery`); to the second, so two restores of one
 * source in the same minute get different targets.
 * When the result would exceed the 63-character DB instance limit, the `source` part is
 * shortened (and trailing hyphens removed) so the suffix stays whole.
 * @throws AppError `restore_name_invalid` when `source` cannot produce a valid identifier
 *   (characters outside letters, digits and hyphens, `--`, not starting with a letter).
 */
/** Why a copy is restored: `recovery` (a restore incident) or `rehearsal` (a scratch copy to try the plan on, dropped after). */
export type RestorePurpose = 'recovery' | 'rehearsal';

export function recoveryInstanceName(source: string, at: Date, purpose: RestorePurpose = 'recovery'): string {
  const suffix = `-${purpose}-${utcSecondStamp(at)}`;
  let base = source.toLowerCase();
  if (base.length + suffix.length > INSTANCE_IDENTIFIER_MAX_LENGTH) {
    base = base.slice(0, INSTANCE_IDENTIFIER_MAX_LENGTH - suffix.length).replace(/-+$/, '');
  }
  const name = `${base}${suffix}`;
  const problems = rdsIdentifierProblems(name, INSTANCE_IDENTIFIER_MAX_LENGTH);
  if (problems.length > 0) {
    throw new AppError({
      code: 'restore_name_invalid',
      message: `cannot build a recovery identifier from "${source}": "${name}" is invalid: ${problems.join('; ')}`,
      userMessage:
        `Cannot name a recovery instance after \`${source}\`: \`${name}\` breaks RDS identifier rules ` +
        `(${problems.join('; ')}). Nothing was restored.`,
      details: { source, name, problems },
    });
  }
  return name;
}
