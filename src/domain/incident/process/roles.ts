/**
 * Who holds the incident (incident.io, incidentbot, Mattermost Playbooks' owner): the incident
 * commander decides and runs it — the requester until someone takes it — and the comms lead
 * keeps stakeholders informed. Slack user ids (or a CLI operator's name).
 */
export interface IncidentRoles {
  commander: string;
  comms: string | null;
}

/** The roles a person can be given with `/migrate role`. */
export const ROLE_NAMES = ['commander', 'comms'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** What each role is called in messages. */
export const ROLE_WORDS: Record<RoleName, string> = { commander: 'incident commander', comms: 'comms lead' };

/** Minutes a SEV1/SEV2 incident may go without a comms lead before the commander is reminded (once). */
export const COMMS_REMINDER_MINUTES = 10;
