import type { IncidentDeps } from '../../domain/incident/ports/deps.js';
import type { Incident, IncidentState } from '../../domain/incident/model/incident.js';
import { eventWords } from '../../domain/incident/model/timeline.js';
import { AppError } from '../../shared/errors.js';
import type { Progress } from './progress.js';

/** What the CLI shows while it waits: the current state in words. */
const WAITING: Partial<Record<IncidentState, string>> = {
  opened: 'triage and plan',
  snapshotting: 'taking the snapshot',
  rolling_back: 'running the down migrations',
};

/**
 * Follows an incident until `until(incident)` holds, printing each new event of its log as
 * a line (the same words as the timeline) and the current state as the status line.
 * Polls the state database every `pollMs` (default 250 ms), reading only the events after the
 * last one shown (`seen`: its id in the log; pass the returned one to a second watch to go on).
 * @throws AppError `cli_wait_timeout` after `timeoutMs`; the incident goes on (the CLI only stops watching)
 */
export async function watchIncident(
  deps: Pick<IncidentDeps, 'repo'>,
  incidentId: string,
  progress: Progress,
  until: (incident: Incident) => boolean,
  options: {
    timeoutMs: number;
    pollMs?: number /** Id of the last event already shown; 0: show them all. */;
    seen?: number;
  },
): Promise<{ incident: Incident; seen: number }> {
  const deadline = Date.now() + options.timeoutMs;
  let seen = options.seen ?? 0;
  for (;;) {
    const [incident, events] = await Promise.all([
      deps.repo.get(incidentId),
      deps.repo.listEvents(incidentId, { afterId: seen }),
    ]);
    if (!incident) throw new AppError({ code: 'incident_not_found', message: `incident ${incidentId} disappeared` });
    for (const e of events)
      progress.line(
        `${e.at.toISOString().slice(11, 19)} ${e.actor === 'migrate-bot' ? '' : `${e.actor} `}${eventWords(e)}`,
      );
    seen = events.at(-1)?.id ?? seen;
    if (until(incident)) return { incident, seen };
    const step =
      incident.state === 'rolling_back'
        ? ` (${incident.steps.filter((s) => s.status === 'done').length}/${incident.plan.length} steps done)`
        : '';
    // Approvals from the CLI are recorded with the plan: what is awaited then is the snapshot.
    const waiting =
      incident.state === 'awaiting_approval' && incident.snapshot?.status !== 'available'
        ? 'waiting for the snapshot'
        : incident.state === 'awaiting_approval'
          ? 'approved; the rollback starts'
          : WAITING[incident.state];
    progress.status(`${waiting ?? incident.state}${step}`);
    if (Date.now() > deadline) {
      throw new AppError({
        code: 'cli_wait_timeout',
        message: `stopped watching incident ${incidentId} in state ${incident.state} after ${Math.round(options.timeoutMs / 60_000)} min; it goes on (migrate-bot status ${incident.service})`,
      });
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
}
