import type { Incident } from '../../../src/domain/incident/model/incident.js';
import type { IncidentNotice, StatusChange } from '../../../src/domain/incident/model/notices.js';
import type { Notifier } from '../../../src/domain/incident/ports/notifier.js';

/** One Notifier call: the method, the incident's id and state at the time, and the other arguments. */
export interface NotifierCall {
  method: keyof Notifier;
  incidentId: string | null;
  state: Incident['state'] | null;
  args: unknown[];
}

/**
 * The Notifier port recording every call, for unit tests of the use cases (the outbox adapter
 * and Slack delivery are tested against the real database and the Slack stand-in).
 */
export class RecordingNotifier implements Notifier {
  readonly calls: NotifierCall[] = [];

  /** The notices given to `progress`, in order. */
  get notices(): IncidentNotice[] {
    return this.calls.filter((c) => c.method === 'progress').map((c) => c.args[0] as IncidentNotice);
  }

  /** The status changes given to `announce`, in order. */
  get announced(): StatusChange[] {
    return this.calls.filter((c) => c.method === 'announce').map((c) => c.args[0] as StatusChange);
  }

  /** The methods called, in order. */
  get methods(): Array<keyof Notifier> {
    return this.calls.map((c) => c.method);
  }

  private record(method: keyof Notifier, incident: Incident | null, ...args: unknown[]): Promise<void> {
    this.calls.push({ method, incidentId: incident?.id ?? null, state: incident?.state ?? null, args });
    return Promise.resolve();
  }

  createIncidentChannel = (i: Incident, ...a: unknown[]) => this.record('createIncidentChannel', i, ...a);
  channelLink = (i: Incident, ...a: unknown[]) => this.record('channelLink', i, ...a);
  opened = (i: Incident) => this.record('opened', i);
  triage = (i: Incident, ...a: unknown[]) => this.record('triage', i, ...a);
  progress = (i: Incident, notice: IncidentNotice) => this.record('progress', i, notice);
  initialNotice = (i: Incident, ...a: unknown[]) => this.record('initialNotice', i, ...a);
  planCard = (i: Incident, ...a: unknown[]) => this.record('planCard', i, ...a);
  updatePlanCard = (i: Incident, ...a: unknown[]) => this.record('updatePlanCard', i, ...a);
  statusUpdate = (i: Incident, ...a: unknown[]) => this.record('statusUpdate', i, ...a);
  resolution = (i: Incident, ...a: unknown[]) => this.record('resolution', i, ...a);
  archiveChannel = (i: Incident) => this.record('archiveChannel', i);
  timeline = (i: Incident, ...a: unknown[]) => this.record('timeline', i, ...a);
  verification = (i: Incident, ...a: unknown[]) => this.record('verification', i, ...a);
  restoreComplete = (i: Incident, ...a: unknown[]) => this.record('restoreComplete', i, ...a);
  failure = (i: Incident, ...a: unknown[]) => this.record('failure', i, ...a);
  cancelled = (i: Incident, ...a: unknown[]) => this.record('cancelled', i, ...a);
  followUps = (i: Incident, ...a: unknown[]) => this.record('followUps', i, ...a);
  announce = (i: Incident, change: StatusChange) => this.record('announce', i, change);
  reply = (_url: string, message: IncidentNotice | string) => this.record('reply', null, message);
}
