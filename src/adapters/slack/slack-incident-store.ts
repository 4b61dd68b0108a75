import type { Incident } from '../../domain/incident/model/incident.js';

/**
 * What Slack keeps about one incident, for its own use: the incident channel, the plan card's
 * and the pinned summary's message ts (updated in place with `chat.update`), and the state the
 * channel topic last showed (the topic changes once per state). Owned by the Slack adapter; the
 * incident itself only knows it has a conversation.
 */
export interface SlackIncidentState {
  /** Slack channel ID of `#incident-db-migration-<ts>`; null until created. */
  channelId: string | null;
  channelName: string | null;
  /** ts of this round's plan card; null before it is posted (a new round starts without one). */
  planMessageTs: string | null;
  /** ts of the pinned live summary (the channel's first message); progress goes in its thread. */
  summaryTs: string | null;
  /** The incident state the channel topic last showed. */
  topicState: string | null;
}

/** An incident as the Slack notifier renders it: the incident and its Slack bookkeeping. */
export type SlackIncident = Incident & SlackIncidentState;

/** Nothing recorded yet. */
export const NO_SLACK_STATE: SlackIncidentState = {
  channelId: null,
  channelName: null,
  planMessageTs: null,
  summaryTs: null,
  topicState: null,
};

/**
 * The Slack adapter's store for {@link SlackIncidentState} (a table of its own in the state
 * database, `incident_slack`). Written only by notice delivery.
 * @throws only when the state database refuses the read or write
 */
export interface SlackIncidentStore {
  /** The incident's Slack state; `attempt` is the incident's round (a plan card belongs to one round). */
  get(incidentId: string, attempt: number): Promise<SlackIncidentState>;
  /** Records the incident channel once `conversations.create` made it. */
  setChannel(incidentId: string, channelId: string, channelName: string): Promise<void>;
  /** Records the plan card posted for round `attempt`. */
  setPlanMessage(incidentId: string, attempt: number, ts: string): Promise<void>;
  /** Records the live summary's ts and/or the state the channel topic now shows. */
  setSummary(incidentId: string, fields: { ts?: string; topicState?: string }): Promise<void>;
}
