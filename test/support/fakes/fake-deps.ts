import type { ServiceConfig } from '../../../src/config/services.js';
import type { IncidentDeps } from '../../../src/domain/incident/ports/deps.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { serviceConfigFor } from '../service-config.js';
import { FakeIncidentJobs } from './fake-incident-jobs.js';
import { InMemoryIncidentRepository } from './in-memory-incident-repository.js';
import { RecordingNotifier } from './recording-notifier.js';
import { InMemoryProcessRepository, RecordingIntegrations } from './in-memory-process-repository.js';

/** The use cases' ports with in-memory fakes, and the fakes themselves to look at. */
export interface FakeWorld {
  deps: IncidentDeps;
  repo: InMemoryIncidentRepository;
  notifier: RecordingNotifier;
  jobs: FakeIncidentJobs;
  process: InMemoryProcessRepository;
  integrations: RecordingIntegrations;
  service: ServiceConfig;
  /** Members of each approver user group, as `usergroups.users.list` would answer. */
  groups: Map<string, string[]>;
}

const unused = (port: string) => () => {
  throw new Error(`${port} is not part of this unit test; use an integration test for it`);
};

/**
 * In-memory ports for unit tests of the use cases: repository, notifier, job queue and approver
 * directory are fakes; migration tools, snapshot providers, triage and verification (I/O against
 * a database) throw if a use case reaches them. One service, `ticket-service`, with approvers
 * `U0SRE001` and `U0OWN001` (two approvals), changed by `service`.
 */
export function fakeWorld(service: Partial<ServiceConfig> = {}): FakeWorld {
  const svc: ServiceConfig = {
    ...serviceConfigFor('postgres://fake/ticket', 'ticket-service', { tool: 'knex', directory: '/fake' }),
    ...service,
  };
  const repo = new InMemoryIncidentRepository();
  const notifier = new RecordingNotifier();
  const jobs = new FakeIncidentJobs();
  const groups = new Map<string, string[]>();
  const process = new InMemoryProcessRepository(repo);
  const integrations = new RecordingIntegrations();
  const deps: IncidentDeps = {
    process,
    integrations,
    services: { file: '/fake/services.yaml', services: new Map([[svc.name, svc]]) },
    repo,
    notifier,
    jobs,
    migrationTool: unused('migrationTool'),
    snapshotProvider: unused('snapshotProvider'),
    restorer: unused('restorer'),
    triage: unused('triage'),
    measureRisk: unused('measureRisk'),
    verify: unused('verify'),
    expectSchema: unused('expectSchema'),
    checkPlanSchema: unused('checkPlanSchema'),
    archive: {
      resolve: async () => ({ resolved: [], privilegeProblem: null }),
      stats: async () => [],
      usage: async () => ({ objects: [], dependents: [], statsSince: null, statementsUnavailable: null }),
      list: async () => [],
      drop: async () => undefined,
      inspectUnarchive: unused('archive.inspectUnarchive'),
      writeBack: unused('archive.writeBack'),
      compareWriteBack: unused('archive.compareWriteBack'),
    },
    samples: { record: async () => undefined, since: async () => null, restoreTimes: async () => [] },
    directory: {
      usergroupMembers: async (id) => groups.get(id) ?? [],
      isActiveUser: async (id) => /^[UW][A-Z0-9]{2,}$/.test(id) && id !== 'U0GONE001',
    },
    clock: { now: () => new Date('2026-12-04T03:10:00Z') },
    logger: silentLogger,
  };
  return { deps, repo, notifier, jobs, process, integrations, service: svc, groups };
}
