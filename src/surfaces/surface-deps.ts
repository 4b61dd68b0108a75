import type { CommandRateLimiter } from '../adapters/redis/command-rate-limiter.js';
import type { IncidentDeps } from '../domain/incident/ports/deps.js';
import type { Metrics } from './ops/metrics.js';

/**
 * What a surface (Slack listeners, workers, the CLI) is handed by the composition root: the use
 * cases' ports, and the process's Prometheus metrics, which the surfaces count and the domain
 * never sees.
 */
export type SurfaceDeps = IncidentDeps & {
  /** The process's Prometheus metrics (commands, jobs, Slack calls, snapshots, down steps). */
  metrics: Metrics;
  /** Per-user command limits (services.yaml `access.rate_limits`); absent: no limits (the CLI). */
  rateLimiter?: Pick<CommandRateLimiter, 'consume'>;
};
