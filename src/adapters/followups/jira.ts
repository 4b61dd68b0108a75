import type { ServiceFollowups } from '../../config/process-config.js';
import type { TicketRef } from '../../domain/incident/process/followup.js';
import type { NewTicket, TicketTracker } from '../../domain/incident/ports/ticket-tracker.js';
import { postJson, providerError } from '../http/provider-http.js';

type JiraConfig = Extract<ServiceFollowups, { provider: 'jira' }>;

/**
 * A ticket's description as Atlassian Document Format (developer.atlassian.com "Atlassian
 * Document Format"): one paragraph per line, text nodes only (no marks), which Jira REST v3
 * requires for `description`.
 */
export function toAdf(paragraphs: readonly string[]): object {
  return {
    type: 'doc',
    version: 1,
    content: paragraphs
      .filter((p) => p.trim() !== '')
      .map((p) => ({ type: 'paragraph', content: [{ type: 'text', text: p }] })),
  };
}

/**
 * TicketTracker on Jira's REST API v3 (developer.atlassian.com "The Jira Cloud platform REST
 * API", "Issues: Create issue", `POST /rest/api/3/issue`). The token variable holds
 * `email:api_token` for Jira Cloud (HTTP Basic, "Basic auth for REST APIs") or a Data Center
 * personal access token (Bearer). 201 gives the issue key; its link is `<site>/browse/<key>`.
 */
export class JiraTracker implements TicketTracker {
  readonly name = 'Jira';
  constructor(private readonly config: JiraConfig) {}

  private authorization(): string {
    const t = this.config.token;
    return t.includes(':') ? `Basic ${Buffer.from(t).toString('base64')}` : `Bearer ${t}`;
  }

  async create(ticket: NewTicket): Promise<TicketRef> {
    const site = this.config.base_url.replace(/\/+$/, '');
    const answer = await postJson(
      `${site}/rest/api/3/issue`,
      {
        fields: {
          project: { key: this.config.project_key },
          issuetype: { name: this.config.issue_type },
          summary: ticket.title.replace(/\s+/g, ' ').slice(0, 255),
          description: toAdf(ticket.description),
          labels: [...ticket.labels, ...(ticket.confidential ? ['confidential'] : [])],
        },
      },
      { authorization: this.authorization() },
      'ticket',
      this.name,
    );
    if (answer.status === 201 || answer.status === 200) {
      const key = (answer.body as { key?: unknown } | null)?.key;
      if (typeof key === 'string' && /^[A-Z][A-Z0-9_]*-\d+$/.test(key)) return { key, url: `${site}/browse/${key}` };
    }
    const b = answer.body as { errorMessages?: string[]; errors?: Record<string, string> } | string | null;
    const said =
      typeof b === 'string'
        ? b
        : [...(b?.errorMessages ?? []), ...Object.entries(b?.errors ?? {}).map(([k, v]) => `${k}: ${v}`)].join('; ') ||
          (answer.status < 300 ? 'the answer carried no issue key' : 'no details');
    throw providerError('ticket', this.name, answer.status < 300 ? { ...answer, status: 502 } : answer, said);
  }
}
