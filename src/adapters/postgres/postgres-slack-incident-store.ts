import type pg from 'pg';
import type { SlackIncidentState, SlackIncidentStore } from '../slack/slack-incident-store.js';
import { NO_SLACK_STATE } from '../slack/slack-incident-store.js';

interface Row {
  channel_id: string | null;
  channel_name: string | null;
  plan_message_ts: string | null;
  plan_attempt: number | null;
  summary_ts: string | null;
  topic_state: string | null;
}

/** {@link SlackIncidentStore} on the state database's `incident_slack` table (one row per incident, upserted). */
export class PostgresSlackIncidentStore implements SlackIncidentStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(incidentId: string, attempt: number): Promise<SlackIncidentState> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM incident_slack WHERE incident_id = $1', [incidentId]);
    const r = rows[0];
    if (!r) return NO_SLACK_STATE;
    return {
      channelId: r.channel_id,
      channelName: r.channel_name,
      planMessageTs: r.plan_attempt === attempt ? r.plan_message_ts : null,
      summaryTs: r.summary_ts,
      topicState: r.topic_state,
    };
  }

  async setChannel(incidentId: string, channelId: string, channelName: string): Promise<void> {
    await this.upsert(incidentId, { channel_id: channelId, channel_name: channelName });
  }

  async setPlanMessage(incidentId: string, attempt: number, ts: string): Promise<void> {
    await this.upsert(incidentId, { plan_message_ts: ts, plan_attempt: attempt });
  }

  async setSummary(incidentId: string, fields: { ts?: string; topicState?: string }): Promise<void> {
    await this.upsert(incidentId, {
      ...(fields.ts !== undefined ? { summary_ts: fields.ts } : {}),
      ...(fields.topicState !== undefined ? { topic_state: fields.topicState } : {}),
    });
  }

  /** Inserts the incident's row with `fields`, or sets `fields` on the row it has. */
  private async upsert(incidentId: string, fields: Partial<Row>): Promise<void> {
    const cols = Object.keys(fields);
    if (!cols.length) return;
    const values = cols.map((c) => fields[c as keyof Row]);
    await this.pool.query(
      `INSERT INTO incident_slack (incident_id, ${cols.join(', ')}) VALUES ($1, ${cols.map((_, i) => `$${i + 2}`).join(', ')})
       ON CONFLICT (incident_id) DO UPDATE SET ${cols.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`,
      [incidentId, ...values],
    );
  }
}
