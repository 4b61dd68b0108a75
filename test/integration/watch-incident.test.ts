import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresIncidentRepository } from '../../src/adapters/postgres/postgres-incident-repository.js';
import { watchIncident } from '../../src/surfaces/cli/watch-incident.js';
import { systemClock } from '../../src/shared/clock.js';
import { createStateDatabase, type StateDatabase } from '../support/state-db.js';

describe('the CLI following an incident', () => {
  let state: StateDatabase;
  beforeAll(async () => {
    state = await createStateDatabase('mb_state_watch');
  });
  afterAll(async () => state?.close());

  it('prints each event once, in order, reading only the new ones; a second watch goes on from the first', async () => {
    const repo = new PostgresIncidentRepository(state.pool, systemClock);
    const incident = await repo.create({
      service: 'ticket-service',
      migration: '007_add_security_tables.ts',
      requestedBy: 'U0REQ001',
      plan: [],
    });
    const lines: string[] = [];
    const progress = {
      line: (t: string) => void lines.push(t.slice(9)),
      status: () => undefined,
      done: () => undefined,
    };
    const reads: Array<number | undefined> = [];
    let readsDone = 0;
    const counting = {
      ...repo,
      get: (id: string) => repo.get(id),
      listEvents: async (id: string, o?: { afterId?: number }) => {
        reads.push(o?.afterId);
        const events = await repo.listEvents(id, o);
        readsDone += 1;
        return events;
      },
    };

    await repo.log(incident.id, 'human_update', 'U0REQ001', { text: 'one' });
    /** Waits until the watch has finished reading the log `n` times (each event lands after a read, whatever the machine's load). */
    const afterRead = async (n: number): Promise<void> => {
      while (readsDone < n) await new Promise((r) => setTimeout(r, 5));
    };
    const writer = (async () => {
      await afterRead(1);
      await repo.log(incident.id, 'human_update', 'U0REQ001', { text: 'two' });
      await afterRead(readsDone + 1);
      await repo.log(incident.id, 'human_update', 'U0REQ001', { text: 'three' });
    })();
    const first = await watchIncident(
      { repo: counting as unknown as PostgresIncidentRepository },
      incident.id,
      progress,
      () => lines.length >= 4,
      { timeoutMs: 5000, pollMs: 20 },
    );
    await writer;
    expect(lines.slice(1)).toEqual(['U0REQ001 update: one', 'U0REQ001 update: two', 'U0REQ001 update: three']);
    // The first read takes the whole log; each later one starts after the newest event already shown.
    expect(reads[0]).toBe(0);
    expect(reads.slice(1).every((r, i) => r! > 0 && r! >= reads[i]!)).toBe(true);
    expect(reads.length).toBeGreaterThan(2);

    await repo.log(incident.id, 'human_update', 'U0REQ001', { text: 'four' });
    await watchIncident({ repo }, incident.id, progress, () => lines.length >= 5, {
      timeoutMs: 5000,
      pollMs: 20,
      seen: first.seen,
    });
    expect(lines.slice(4)).toEqual(['U0REQ001 update: four']);
  });
});
