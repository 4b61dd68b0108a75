import type { TriageCheck } from '../check.js';
import { blockingLocksCheck } from './blocking-locks.js';
import { connectionPressureCheck } from './connection-pressure.js';
import { locksNotGrantedCheck } from './locks-not-granted.js';
import { longRunningTransactionsCheck } from './long-running-transactions.js';
import { migrationHistoryCheck } from './migration-history.js';
import { touchedObjectsCheck } from './touched-objects.js';
import { trackingTableHealthCheck } from './tracking-table-health.js';
import { unvalidatedConstraintsAndInvalidIndexesCheck } from './unvalidated-constraints-and-invalid-indexes.js';

/**
 * Every triage check, in display order: what the offender is, whether
 * the migrator itself is stuck, what is blocking, what the migration touched,
 * half-done DDL, and how full the server is.
 */
export const triageChecks: readonly TriageCheck[] = [
  migrationHistoryCheck,
  trackingTableHealthCheck,
  longRunningTransactionsCheck,
  blockingLocksCheck,
  locksNotGrantedCheck,
  touchedObjectsCheck,
  unvalidatedConstraintsAndInvalidIndexesCheck,
  connectionPressureCheck,
];
