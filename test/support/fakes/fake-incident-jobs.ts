import type { IncidentJobs, IncidentRef, JobState } from '../../../src/domain/incident/ports/job-queue.js';
import { AppError } from '../../../src/shared/errors.js';

/**
 * The IncidentJobs port in memory: records what was queued; `unreachable` makes every call throw
 * `job_queue_unreachable` as the BullMQ adapter does when Redis does not answer; `rollbackState`
 * is what `states` reports for the rollback job.
 */
export class FakeIncidentJobs implements IncidentJobs {
  readonly queued: Array<{ job: string; incidentId: string }> = [];
  unreachable = false;
  rollbackState: JobState = 'missing';
  readonly statusUpdates = new Set<string>();

  private add(job: string, incidentId: string): Promise<void> {
    if (this.unreachable) {
      return Promise.reject(
        new AppError({ code: 'job_queue_unreachable', message: 'Redis does not answer', retryable: true }),
      );
    }
    this.queued.push({ job, incidentId });
    return Promise.resolve();
  }

  /** Jobs queued under `name`, by incident id. */
  of(name: string): string[] {
    return this.queued.filter((q) => q.job === name).map((q) => q.incidentId);
  }

  prepare = (i: IncidentRef) => this.add('prepare', i.id);
  snapshot = (r: { service: string }) => this.add('snapshot', r.service);
  rollback = (i: IncidentRef) => this.add('rollback', i.id);
  resumeRollback = (i: IncidentRef) => this.add('resumeRollback', i.id);
  discard = (i: IncidentRef) => this.add('discard', i.id);
  archive = (i: IncidentRef) => this.add('archive', i.id);
  rehearse = (i: IncidentRef) => this.add('rehearse', i.id);
  deliver = (incidentId: string) => this.add('deliver', incidentId);
  integrations = (incidentId: string) => this.add('integrations', incidentId);
  approvalsPage = (i: IncidentRef) => this.add('approvals-page', i.id);
  commsReminder = (i: IncidentRef) => this.add('comms-reminder', i.id);
  startStatusUpdates = async (incidentId: string) => {
    await this.add('status-updates', incidentId);
    this.statusUpdates.add(incidentId);
  };
  stopStatusUpdates = async (incidentId: string) => {
    this.statusUpdates.delete(incidentId);
  };
  states = async (i: IncidentRef) => {
    if (this.unreachable) throw new AppError({ code: 'job_queue_unreachable', message: 'Redis', retryable: true });
    return {
      prepare: 'completed' as JobState,
      rollback: this.rollbackState,
      statusUpdates: this.statusUpdates.has(i.id),
    };
  };
  describe = async () => ({});
}
