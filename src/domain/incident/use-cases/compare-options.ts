import type { ServiceConfig } from '../../../config/services.js';
import { median, type OptionFacts } from '../../rollback/options.js';
import type { SnapshotRecord } from '../../snapshots/snapshot-provider.js';
import type { Incident } from '../model/incident.js';
import type { IncidentDeps } from '../ports/deps.js';

/** How many of the service's newest restores the comparison's restore time is the median of. */
export const RESTORE_HISTORY = 5;

/**
 * After the bot took a snapshot: samples the service database's write counters for it, so a
 * later plan card can say how much a restore of it would lose. A sample that cannot be taken is
 * logged and left out (the comparison then says none was sampled); the snapshot stands.
 */
export async function sampleAtSnapshot(
  deps: IncidentDeps,
  service: ServiceConfig,
  record: SnapshotRecord,
): Promise<void> {
  if (record.provider === 'none') return;
  try {
    await deps.samples.record(service, { id: record.id, takenAt: new Date(record.createdAt) });
  } catch (err) {
    deps.logger.warn({ err, service: service.name, snapshotId: record.id }, 'write counters not sampled');
  }
}

/**
 * Measures the facts of the plan card's comparison (roll back, restore the snapshot, fix forward)
 * and keeps them with the plan's risk: the writes since the newest snapshot sampled before the
 * impact started (or now) in the tables the downs touch and in the whole database, and the median
 * of the service's last {@link RESTORE_HISTORY} restores. Never fails the prepare job: a figure
 * that cannot be read is left out and the card says so.
 * @returns the incident with `risk.options`
 */
export async function assessOptions(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<Incident> {
  if (!incident.risk) return incident;
  const now = deps.clock.now();
  const before = incident.milestones.impactStarted ? new Date(incident.milestones.impactStarted) : now;
  const tables = new Map<string, { schema: string | null; name: string }>();
  for (const s of incident.risk.steps)
    for (const f of s.findings)
      if (f.source === 'down' && f.target && (f.class === 'data_loss' || f.class === 'blocking'))
        tables.set(`${f.target.schema}.${f.target.name}`, { schema: f.target.schema, name: f.target.name });
  const [writes, times] = await Promise.all([
    deps.samples.since(service, [...tables.values()], before).catch((err: unknown) => {
      deps.logger.warn({ err, incidentId: incident.id }, 'writes since the snapshot not counted');
      return null;
    }),
    deps.samples.restoreTimes(service.name, RESTORE_HISTORY).catch(() => []),
  ]);
  const medianMs = median(times);
  const options: OptionFacts = {
    before: before.toISOString(),
    writes,
    restores: medianMs === null ? null : { medianMs, count: times.length },
    measuredAt: now.toISOString(),
  };
  const risk = { ...incident.risk, options };
  await deps.repo.setRisk(incident.id, risk);
  return { ...incident, risk };
}
