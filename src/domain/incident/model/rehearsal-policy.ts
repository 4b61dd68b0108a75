import { code, strong, type Words, type WordsLike, words } from '../../../shared/words.js';
import type { ServiceConfig } from '../../../config/services.js';
import type { StepOutcome } from './incident.js';

/** What a rehearsal found, as the plan card and the channel show it. */
export interface RehearsalResult {
  passed: boolean;
  /** The plan digest rehearsed: a result is shown only for the plan it was run on. */
  digest: string | null;
  steps: StepOutcome[];
  /** Why the rehearsal could not run at all (the restore failed), when it did not. */
  error?: WordsLike;
  /** ISO-8601 UTC. */
  at: string;
  /** Wall time, restore included, ms. */
  elapsedMs: number;
}

/**
 * Where a service's rehearsal copy comes from, or why it cannot have one: pg_dump restores a
 * new database on the service's server (or `rehearsal.database_url_env`); RDS and Aurora restore
 * a new instance only with `rehearsal.allow_cloud_restore: true` (it costs time and money).
 */
export function rehearsalRefusal(service: ServiceConfig): Words | null {
  if (service.snapshot.provider === 'none')
    return words`${strong(service.name)} takes no snapshots (waived in services.yaml), so there is no copy to rehearse on.`;
  if (service.snapshot.provider !== 'pg_dump' && !service.rehearsal.allow_cloud_restore) {
    return words`A rehearsal of ${strong(service.name)} restores a new ${service.snapshot.provider === 'rds' ? 'RDS instance' : 'Aurora cluster'}, which costs time and money; set ${code('rehearsal.allow_cloud_restore: true')} in services.yaml to allow it.`;
  }
  return null;
}
