import type { ServiceConfig } from '../../../config/services.js';
import { AppError } from '../../../shared/errors.js';
import { code, strong, type Words, words } from '../../../shared/words.js';
import { isApprover } from '../ports/approvers.js';
import type { ArchiveTableInfo } from '../ports/archive-catalog.js';
import type { IncidentDeps } from '../ports/deps.js';
import { requireReader } from './access.js';

const DAY_MS = 86_400_000;

/** An archive table with when `archive.keep_days` lets it go (ISO-8601), or null when its copy time is unknown. */
export interface ArchiveListing extends ArchiveTableInfo {
  keepUntil: string | null;
  /** True once keep_days have passed: `/migrate archive drop` needs no `--force`. */
  expired: boolean;
}

/**
 * The service's `archive:` settings.
 * @throws AppError `archive_off` when the service has `archive: off`
 */
export function archiveSettingsOf(service: ServiceConfig): Exclude<ServiceConfig['archive'], 'off'> {
  const settings = service.archive;
  if (settings === 'off')
    throw new AppError({
      code: 'archive_off',
      message: `${service.name}: archive off`,
      userMessage: words`${strong(service.name)} has ${code('archive: off')}: nothing is archived before its downs.`,
    });
  return settings;
}

/**
 * `/migrate archive list`: the tables of the service's archive schema (what a down destroyed,
 * copied before it ran), with rows, size, the incident and migration, and when `archive.keep_days`
 * lets them go. For readers of the service. Read-only.
 * @throws AppError `command_unknown_service`, `access_refused`, `archive_off`, `service_db_unreachable`
 */
export async function listArchives(
  deps: IncidentDeps,
  serviceName: string | undefined,
  userId: string,
): Promise<{ service: string; schema: string; keepDays: number; tables: ArchiveListing[] }> {
  const service = await requireReader(deps, serviceName, userId, 'archive list');
  const settings = archiveSettingsOf(service);
  const now = deps.clock.now().getTime();
  const tables = (await deps.archive.list(service, settings.schema)).map((t): ArchiveListing => {
    const until = t.copiedAt ? new Date(new Date(t.copiedAt).getTime() + settings.keep_days * DAY_MS) : null;
    return { ...t, keepUntil: until?.toISOString() ?? null, expired: until !== null && until.getTime() <= now };
  });
  return { service: service.name, schema: settings.schema, keepDays: settings.keep_days, tables };
}

/**
 * `/migrate archive drop <table> [--force]`: an approver of the service drops one archive table
 * (that is the approval: data copies of production are not dropped on a requester's word). A table
 * still within `archive.keep_days` needs `--force`. Logged as `archive_dropped` on the incident that
 * made it, when it still exists.
 * @returns what to tell the person
 * @throws AppError `archive_drop_refused` (with why; nothing dropped), `command_unknown_service`,
 *   `access_refused`, `archive_off`, `service_db_unreachable`
 */
export async function dropArchive(
  deps: IncidentDeps,
  input: { service?: string; userId: string; table: string; force: boolean },
): Promise<Words> {
  const listing = await listArchives(deps, input.service, input.userId);
  const service = deps.services.services.get(listing.service)!;
  const refuse = (why: Words): never => {
    throw new AppError({
      code: 'archive_drop_refused',
      message: `archive drop refused: ${input.table}`,
      userMessage: words`${why} Nothing was dropped.`,
    });
  };
  if (!(await isApprover(deps.directory, service, input.userId)))
    refuse(
      words`Only an approver of ${strong(service.name)} may drop an archive: it is the only copy of data a down destroyed.`,
    );
  const table = listing.tables.find((t) => t.table === input.table);
  if (!table)
    refuse(
      words`There is no archive table ${code(input.table)} in ${code(listing.schema)}; ${code('/migrate archive list')} shows them.`,
    );
  if (!table!.incidentId) refuse(words`${code(input.table)} was not made by migrate-bot (no archive comment on it).`);
  if (!table!.expired && !input.force)
    refuse(
      words`${code(input.table)} is kept until ${table!.keepUntil?.slice(0, 10) ?? 'an unknown date'} (${code(`archive.keep_days: ${listing.keepDays}`)}); add ${code('--force')} to drop it now.`,
    );
  await deps.archive.drop(service, listing.schema, input.table);
  const incident = await deps.repo.get(table!.incidentId!).catch(() => null);
  if (incident)
    await deps.repo.log(incident.id, 'archive_dropped', input.userId, {
      table: `${listing.schema}.${input.table}`,
      object: table!.object,
      rows: table!.rows,
      bytes: table!.bytes,
      forced: !table!.expired,
    });
  return words`Dropped ${code(`${listing.schema}.${input.table}`)} (${String(table!.rows)} rows of ${table!.object ?? 'archived data'}).`;
}

/**
 * Retention (`archive.keep_days`): drops every archive table the bot made whose copy is older than
 * its service's `keep_days`, logging `archive_dropped` (actor `migrate-bot`, `expired: true`) on the
 * incident that made it. A service with an open incident is left for the next pass (an unarchive
 * may be about to read its archive), as is an archive of an incident still open. A service whose
 * database does not answer, or a table another replica dropped first, is logged and skipped. Run
 * by the reconciler, at most once per `archiveExpiryEveryMs`.
 * @returns how many tables were dropped
 */
export async function expireArchives(deps: IncidentDeps): Promise<number> {
  let dropped = 0;
  for (const service of deps.services.services.values()) {
    if (service.archive === 'off') continue;
    const settings = service.archive;
    try {
      if (await deps.repo.findOpenByService(service.name)) continue;
      const now = deps.clock.now().getTime();
      for (const t of await deps.archive.list(service, settings.schema)) {
        if (!t.incidentId || !t.copiedAt) continue;
        if (new Date(t.copiedAt).getTime() + settings.keep_days * DAY_MS > now) continue;
        try {
          await deps.archive.drop(service, settings.schema, t.table);
        } catch (err) {
          deps.logger.warn({ err, service: service.name, table: t.table }, 'expired archive not dropped');
          continue;
        }
        dropped += 1;
        deps.logger.info({ service: service.name, table: t.table, rows: t.rows }, 'expired archive dropped');
        const incident = await deps.repo.get(t.incidentId).catch(() => null);
        if (incident)
          await deps.repo.log(incident.id, 'archive_dropped', 'migrate-bot', {
            table: `${settings.schema}.${t.table}`,
            object: t.object,
            rows: t.rows,
            bytes: t.bytes,
            expired: true,
            keepDays: settings.keep_days,
          });
      }
    } catch (err) {
      deps.logger.warn({ err, service: service.name }, 'archive retention skipped this service');
    }
  }
  return dropped;
}
