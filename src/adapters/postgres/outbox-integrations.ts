import type { Incident } from '../../domain/incident/model/incident.js';
import type { IntegrationMethod, Integrations } from '../../domain/incident/ports/integrations.js';
import type { PageEvent, PageReason } from '../../domain/incident/ports/paging.js';
import type { Logger } from '../../shared/logger.js';
import type { PostgresOutbox } from './postgres-outbox.js';

/**
 * The Integrations port on the `integration_calls` outbox: each call is stored with its
 * arguments and a delivery job is asked for; a queue that does not answer is only logged (the
 * reconciler's sweep queues what is left undelivered).
 */
export class OutboxIntegrations implements Integrations {
  constructor(
    private readonly outbox: PostgresOutbox<IntegrationMethod>,
    private readonly kick: (incidentId: string, callId: number) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  private async store(incident: Incident, method: IntegrationMethod, args: unknown[], once: string): Promise<void> {
    const id = await this.outbox.add(incident.id, method, args, once);
    if (id === null) return;
    void this.kick(incident.id, id).catch((err: unknown) =>
      this.logger.warn(
        { err, incidentId: incident.id, callId: id },
        'could not queue an integration call; the reconciler will',
      ),
    );
  }

  page(incident: Incident, event: PageEvent, once: string, reason: PageReason): Promise<void> {
    return this.store(
      incident,
      'page',
      [{ service: incident.service, private: incident.private, event, reason }],
      once,
    );
  }

  fileTicket(incident: Incident, followUpId: number, retry?: number): Promise<void> {
    return this.store(
      incident,
      'ticket',
      [{ service: incident.service, followUpId }],
      `ticket:${followUpId}${retry ? `:${retry}` : ''}`,
    );
  }
}
