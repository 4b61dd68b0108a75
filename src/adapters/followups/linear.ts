import type { ServiceFollowups } from '../../config/process-config.js';
import type { TicketRef } from '../../domain/incident/process/followup.js';
import type { NewTicket, TicketTracker } from '../../domain/incident/ports/ticket-tracker.js';
import { postJson, providerError } from '../http/provider-http.js';

type LinearConfig = Extract<ServiceFollowups, { provider: 'linear' }>;

const ISSUE_CREATE = `mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier url } }
}`;

/**
 * TicketTracker on Linear's GraphQL API (linear.app/developers "GraphQL API", mutation
 * `issueCreate` with `teamId`, `title`, `description` in Markdown). A personal API key is sent
 * as the `Authorization` header as it is; an OAuth token starting `lin_oauth_` as Bearer.
 * GraphQL errors come with HTTP 200 or 400: `RATELIMITED` is retried, others are final.
 */
export class LinearTracker implements TicketTracker {
  readonly name = 'Linear';
  constructor(private readonly config: LinearConfig) {}

  async create(ticket: NewTicket): Promise<TicketRef> {
    const token = this.config.token;
    const answer = await postJson(
      this.config.base_url,
      {
        query: ISSUE_CREATE,
        variables: {
          input: {
            teamId: this.config.team_id,
            title: ticket.title.replace(/\s+/g, ' ').slice(0, 255),
            description: [...ticket.description, ...(ticket.confidential ? ['Confidential incident.'] : [])].join(
              '\n\n',
            ),
          },
        },
      },
      { authorization: token.startsWith('lin_oauth_') ? `Bearer ${token}` : token },
      'ticket',
      this.name,
    );
    const b = answer.body as {
      data?: { issueCreate?: { success?: boolean; issue?: { identifier?: string; url?: string } } };
      errors?: Array<{ message?: string; extensions?: { code?: string } }>;
    } | null;
    const issue = b?.data?.issueCreate?.issue;
    if (
      answer.status === 200 &&
      b?.data?.issueCreate?.success &&
      issue?.identifier &&
      issue.url?.startsWith('https://')
    )
      return { key: issue.identifier, url: issue.url };
    const errors = Array.isArray(b?.errors) ? b.errors : [];
    const limited = errors.some((e) => e.extensions?.code === 'RATELIMITED');
    const said =
      errors
        .map((e) => e.message)
        .filter(Boolean)
        .join('; ') || (typeof b === 'string' ? b : 'the answer carried no issue');
    const status = limited ? 429 : answer.status === 200 ? 400 : answer.status;
    throw providerError('ticket', this.name, { ...answer, status }, said);
  }
}
