import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

/**
 * A loopback Amazon RDS endpoint for tests (DESIGN.md "Testing Slack and AWS for real":
 * faithful to the public docs, not to our code). It speaks the RDS Query protocol as the public API reference describes
 * it, so the real `@aws-sdk/client-rds` can be pointed at it with `AWS_ENDPOINT_URL_RDS`:
 *
 * - requests: `POST /` with `Content-Type: application/x-www-form-urlencoded`, body
 *   `Action=<Action>&Version=2014-10-31&…`; lists as `Tags.Tag.N.Key` / `Tags.Tag.N.Value` and
 *   `VpcSecurityGroupIds.VpcSecurityGroupId.N` (what the SDK sends, and what the API reference
 *   lists; the generic Query form `Tags.member.N.Key` is accepted too). SigV4 signatures are not
 *   checked, but an `Authorization` header must be present (else 403 `MissingAuthenticationToken`).
 * - results: `<ActionResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><ActionResult>…
 *   </ActionResult><ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></ActionResponse>`,
 *   list members named as in the API (`<DBSnapshots><DBSnapshot>…`, `<TagList><Tag>…`).
 * - errors: `<ErrorResponse><Error><Type>Sender|Receiver</Type><Code>…</Code><Message>…</Message>
 *   </Error><RequestId>…</RequestId></ErrorResponse>` with the status the API reference gives
 *   (404 for `DBInstanceNotFound`, `DBSnapshotNotFound`, `DBClusterNotFoundFault`,
 *   `DBClusterSnapshotNotFoundFault`; 400 for other client faults incl. `Throttling`; 503 for
 *   `ServiceUnavailable`; 500 for `InternalFailure`).
 *
 * Actions: CreateDBSnapshot, DescribeDBSnapshots, CreateDBClusterSnapshot,
 * DescribeDBClusterSnapshots, DescribeDBInstances, DescribeDBClusters,
 * RestoreDBInstanceFromDBSnapshot, RestoreDBInstanceToPointInTime, RestoreDBClusterFromSnapshot,
 * CreateDBInstance (an Aurora cluster's instance: `DBClusterIdentifier`, `DBInstanceClass` and an
 * `Engine` matching the cluster's are required; the cluster must be `available`; the first instance
 * is the writer, listed in the cluster's `DBClusterMembers`), DeleteDBInstance and DeleteDBCluster
 * (`SkipFinalSnapshot=true` or a `Final…SnapshotIdentifier` is required; the resource shows
 * `deleting` for `restoreDelayMs`, then Describe answers not found; a cluster that still has
 * instances cannot be deleted: `InvalidDBClusterStateFault`).
 *
 * Behaviour kept from the API reference: identifiers are case-insensitive and stored lower case;
 * snapshot identifiers are validated (letters, digits, hyphens; first a letter; no `--`; no
 * trailing hyphen; ≤ 255, cluster snapshots ≤ 63); CreateDBSnapshot needs the instance
 * `available` or `storage-optimization` (else `InvalidDBInstanceState`), CreateDBClusterSnapshot
 * needs the cluster `available` (else `InvalidDBClusterStateFault`); a manual-snapshot quota
 * (`SnapshotQuotaExceeded`); restores need an `available` snapshot and a new identifier; a
 * restored instance has no `Endpoint` until it is `available`; point-in-time restores must not be
 * later than the source's `LatestRestorableTime`; RestoreDBClusterFromSnapshot requires `Engine`
 * matching the snapshot's.
 *
 * Time: snapshots move `creating` → `available` `snapshotDelayMs` after creation, restored
 * instances/clusters `creating` → `available` after `restoreDelayMs` (real wall-clock time).
 */

export const RDS_XMLNS = 'http://rds.amazonaws.com/doc/2014-10-31/';
const API_VERSION = '2014-10-31';
const ACCOUNT = '123456789012';

/** One request as received: the action and every form parameter (flat, as sent). */
export interface RdsRequest {
  action: string;
  params: Record<string, string>;
}

export interface RdsServerOptions {
  /** Time from CreateDB(Cluster)Snapshot to a final status, ms (default 1500). */
  snapshotDelayMs?: number;
  /** Time from a Restore… call to `available`, ms (default 1000). */
  restoreDelayMs?: number;
  /** Manual snapshots allowed per kind (instance / cluster), like the RDS service quota (default 100). */
  snapshotQuota?: number;
  /** Region used in ARNs and endpoint host names (default `us-east-1`). */
  region?: string;
}

export interface InstanceSeed {
  /** `DBInstanceStatus` (default `available`). */
  status?: string;
  /** `LatestRestorableTime`; `null` means backups are off (no point-in-time restore). Default: now − 5 min. */
  latestRestorableTime?: Date | null;
  endpoint?: { address: string; port: number };
  engine?: string;
  engineVersion?: string;
  instanceClass?: string;
  subnetGroup?: string;
  securityGroups?: string[];
  /** The Aurora cluster this instance belongs to (its first member is the writer). */
  cluster?: string;
}

export interface ClusterSeed {
  status?: string;
  latestRestorableTime?: Date | null;
  /** Writer endpoint host and port. */
  endpoint?: { address: string; port: number };
  engine?: string;
  engineVersion?: string;
  subnetGroup?: string;
  securityGroups?: string[];
}

/** Final status injected with {@link RdsServer.failSnapshotsWith}. */
export type SnapshotFailure = 'failed' | 'deleted' | 'incompatible-restore' | 'incompatible-parameters';

interface Tag {
  key: string;
  value: string;
}

interface InstanceState {
  id: string;
  status: string;
  /** When set, status is `creating` until this time (ms), then `available`. */
  readyAt?: number;
  latestRestorableTime: Date | null;
  address: string;
  port: number;
  engine: string;
  engineVersion: string;
  instanceClass: string;
  subnetGroup: string;
  securityGroups: string[];
  createdAt: Date;
  tags: Tag[];
  clusterId?: string;
}

interface ClusterState {
  id: string;
  status: string;
  readyAt?: number;
  latestRestorableTime: Date | null;
  address: string;
  port: number;
  engine: string;
  engineVersion: string;
  subnetGroup: string;
  securityGroups: string[];
  createdAt: Date;
  tags: Tag[];
}

interface SnapshotState {
  kind: 'instance' | 'cluster';
  id: string;
  sourceId: string;
  createdAt: Date;
  /** Status after the delay (`available`, or an injected failure). */
  finalStatus: string;
  /** Explicit status override (e.g. `deleted` by {@link RdsServer.setSnapshotStatus}). */
  forcedStatus?: string;
  engine: string;
  engineVersion: string;
  port: number;
  tags: Tag[];
}

interface Fault {
  code: string;
  status: number;
  message: string;
}

class RdsFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = defaultStatus(code),
  ) {
    super(message);
  }
}

const NOT_FOUND_404 = new Set([
  'DBInstanceNotFound',
  'DBSnapshotNotFound',
  'DBClusterNotFoundFault',
  'DBClusterSnapshotNotFoundFault',
]);

/** HTTP status the RDS API reference documents for an error code. */
export function defaultStatus(code: string): number {
  if (NOT_FOUND_404.has(code)) return 404;
  if (code === 'ServiceUnavailable') return 503;
  if (code === 'InternalFailure') return 500;
  if (code === 'MissingAuthenticationToken' || code === 'AccessDenied') return 403;
  return 400;
}

type XmlValue = string | number | boolean | Date | undefined | null | XmlList | { [key: string]: XmlValue };
interface XmlList {
  member: string;
  items: XmlValue[];
}
const list = (member: string, items: XmlValue[]): XmlList => ({ member, items });
const isList = (v: unknown): v is XmlList => typeof v === 'object' && v !== null && 'member' in v && 'items' in v;

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

function xml(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (isList(value)) return `<${name}>${value.items.map((i) => xml(value.member, i)).join('')}</${name}>`;
  if (typeof value === 'object') {
    return `<${name}>${Object.entries(value)
      .map(([k, v]) => xml(k, v))
      .join('')}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function identifierProblem(id: string, max: number): boolean {
  return !/^[A-Za-z][A-Za-z0-9-]*$/.test(id) || id.includes('--') || id.endsWith('-') || id.length > max;
}

/** Reads `Prefix.Member.N[.Field]` or `Prefix.member.N[.Field]` lists from flat Query params. */
function readList(
  params: Record<string, string>,
  prefix: string,
  member: string,
): Array<Record<string, string> | string> {
  const byIndex = new Map<number, Record<string, string> | string>();
  const re = new RegExp(`^${prefix}\\.(?:${member}|member)\\.(\\d+)(?:\\.(\\w+))?$`);
  for (const [k, v] of Object.entries(params)) {
    const m = re.exec(k);
    if (!m) continue;
    const index = Number(m[1]);
    if (m[2] === undefined) byIndex.set(index, v);
    else {
      const cur = byIndex.get(index);
      const obj = typeof cur === 'object' ? cur : {};
      obj[m[2]] = v;
      byIndex.set(index, obj);
    }
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, v]) => v);
}

function readTags(params: Record<string, string>): Tag[] {
  return readList(params, 'Tags', 'Tag')
    .filter((t): t is Record<string, string> => typeof t === 'object')
    .map((t) => ({ key: t['Key'] ?? '', value: t['Value'] ?? '' }));
}

const tagList = (tags: Tag[]): XmlList =>
  list(
    'Tag',
    tags.map((t) => ({ Key: t.key, Value: t.value })),
  );

/**
 * The server. Seed state with {@link addInstance}/{@link addCluster}, inject faults, then
 * `await start()`; read {@link requests} to assert what the client sent.
 */
export class RdsServer {
  /** Every request received, in order, including those answered with an injected fault. */
  readonly requests: RdsRequest[] = [];
  snapshotDelayMs: number;
  restoreDelayMs: number;
  snapshotQuota: number;
  /** When true, snapshots stay `creating` forever (snapshot waiter timeouts). */
  neverComplete = false;
  /** When true, restored instances and clusters stay `creating` forever (restore waiter timeouts). */
  restoresNeverComplete = false;
  readonly region: string;

  private readonly instances = new Map<string, InstanceState>();
  private readonly clusters = new Map<string, ClusterState>();
  private readonly snapshots = new Map<string, SnapshotState>();
  private readonly clusterSnapshots = new Map<string, SnapshotState>();
  /** Snapshots deleted through the API, in order. */
  readonly deletedSnapshots: string[] = [];
  private readonly faults = new Map<string, Fault[]>();
  private snapshotOutcome: string = 'available';
  private server: http.Server | undefined;
  url = '';

  constructor(options: RdsServerOptions = {}) {
    this.snapshotDelayMs = options.snapshotDelayMs ?? 1500;
    this.restoreDelayMs = options.restoreDelayMs ?? 1000;
    this.snapshotQuota = options.snapshotQuota ?? 100;
    this.region = options.region ?? 'us-east-1';
  }

  /** Seeds a DB instance (identifier stored lower case). */
  addInstance(id: string, seed: InstanceSeed = {}): this {
    const key = id.toLowerCase();
    this.instances.set(key, {
      id: key,
      status: seed.status ?? 'available',
      latestRestorableTime:
        seed.latestRestorableTime === undefined ? new Date(Date.now() - 5 * 60_000) : seed.latestRestorableTime,
      address: seed.endpoint?.address ?? `${key}.c0abcdefghij.${this.region}.rds.amazonaws.com`,
      port: seed.endpoint?.port ?? 5432,
      engine: seed.engine ?? 'postgres',
      engineVersion: seed.engineVersion ?? '16.4',
      instanceClass: seed.instanceClass ?? 'db.r6g.large',
      subnetGroup: seed.subnetGroup ?? 'default',
      securityGroups: seed.securityGroups ?? ['sg-0default'],
      createdAt: new Date(Date.now() - 86_400_000),
      tags: [],
      ...(seed.cluster ? { clusterId: seed.cluster.toLowerCase() } : {}),
    });
    return this;
  }

  /** Seeds an Aurora DB cluster (identifier stored lower case). */
  addCluster(id: string, seed: ClusterSeed = {}): this {
    const key = id.toLowerCase();
    this.clusters.set(key, {
      id: key,
      status: seed.status ?? 'available',
      latestRestorableTime:
        seed.latestRestorableTime === undefined ? new Date(Date.now() - 5 * 60_000) : seed.latestRestorableTime,
      address: seed.endpoint?.address ?? `${key}.cluster-c0abcdefghij.${this.region}.rds.amazonaws.com`,
      port: seed.endpoint?.port ?? 5432,
      engine: seed.engine ?? 'aurora-postgresql',
      engineVersion: seed.engineVersion ?? '16.4',
      subnetGroup: seed.subnetGroup ?? 'default',
      securityGroups: seed.securityGroups ?? ['sg-0default'],
      createdAt: new Date(Date.now() - 86_400_000),
      tags: [],
    });
    return this;
  }

  /** Changes a seeded instance's status (e.g. `backing-up` to provoke `InvalidDBInstanceState`). */
  setInstanceStatus(id: string, status: string): void {
    const i = this.instances.get(id.toLowerCase());
    if (!i) throw new Error(`no instance ${id}`);
    i.status = status;
    delete i.readyAt;
  }

  /** Snapshots still `creating`, and every later one, end in `status` instead of `available`. */
  failSnapshotsWith(status: SnapshotFailure): void {
    this.snapshotOutcome = status;
    for (const s of [...this.snapshots.values(), ...this.clusterSnapshots.values()]) {
      if (this.snapshotStatus(s) === 'creating') s.finalStatus = status;
    }
  }

  /** Forces a snapshot's status now (e.g. `deleted`), whatever its timing. */
  setSnapshotStatus(id: string, status: string): void {
    const s = this.snapshots.get(id.toLowerCase()) ?? this.clusterSnapshots.get(id.toLowerCase());
    if (!s) throw new Error(`no snapshot ${id}`);
    s.forcedStatus = status;
  }

  /** Removes a snapshot, so Describe answers `DBSnapshotNotFound` (a deletion that completed). */
  removeSnapshot(id: string): void {
    this.snapshots.delete(id.toLowerCase());
    this.clusterSnapshots.delete(id.toLowerCase());
  }

  /**
   * The next request for `action` fails with `code` (HTTP status from {@link defaultStatus}
   * unless given). Calls queue up: two calls fail the next two requests.
   */
  failNext(action: string, code: string, httpStatus?: number, message?: string): this {
    const queue = this.faults.get(action) ?? [];
    queue.push({ code, status: httpStatus ?? defaultStatus(code), message: message ?? `Injected fault: ${code}` });
    this.faults.set(action, queue);
    return this;
  }

  /** Requests for one action. */
  requestsFor(action: string): RdsRequest[] {
    return this.requests.filter((r) => r.action === action);
  }

  /** Identifiers of the DB snapshots the server holds. */
  snapshotIds(): string[] {
    return [...this.snapshots.keys()];
  }

  /** Identifiers of the DB cluster snapshots the server holds. */
  clusterSnapshotIds(): string[] {
    return [...this.clusterSnapshots.keys()];
  }

  /** Identifiers of all DB instances (seeded and restored). */
  instanceIds(): string[] {
    return [...this.instances.keys()];
  }

  /** Identifiers of all DB clusters (seeded and restored). */
  clusterIds(): string[] {
    return [...this.clusters.keys()];
  }

  /** Tags on a snapshot, instance or cluster, as a map. */
  tagsOf(id: string): Record<string, string> {
    const key = id.toLowerCase();
    const tags =
      (this.snapshots.get(key) ?? this.clusterSnapshots.get(key) ?? this.instances.get(key) ?? this.clusters.get(key))
        ?.tags ?? [];
    return Object.fromEntries(tags.map((t) => [t.key, t.value]));
  }

  /** Starts listening on 127.0.0.1 (random port). `url` is what `AWS_ENDPOINT_URL_RDS` should be. */
  async start(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return { url: this.url, close: () => this.close() };
  }

  /** Stops the server and drops keep-alive connections. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- protocol -------------------------------------------------------------------------------

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const requestId = randomUUID();
    const send = (status: number, payload: string): void => {
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${payload}`);
    };
    const fail = (f: { code: string; status: number; message: string }): void =>
      send(
        f.status,
        `<ErrorResponse xmlns="${RDS_XMLNS}"><Error><Type>${f.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
          `<Code>${escapeXml(f.code)}</Code><Message>${escapeXml(f.message)}</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      );

    const params: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(body)) params[k] = v;
    const action = params['Action'] ?? '';
    this.requests.push({ action, params });

    if (req.method !== 'POST') return fail({ code: 'InvalidAction', status: 400, message: 'Only POST is supported.' });
    if (!req.headers.authorization) {
      return fail({
        code: 'MissingAuthenticationToken',
        status: 403,
        message: 'Request is missing Authentication Token',
      });
    }
    if (!action)
      return fail({ code: 'MissingAction', status: 400, message: 'The request must contain the parameter Action.' });
    if (params['Version'] !== API_VERSION) {
      return fail({
        code: 'NoSuchVersion',
        status: 400,
        message: `Version ${params['Version'] ?? '(none)'} is not supported.`,
      });
    }
    const injected = this.faults.get(action)?.shift();
    if (injected) return fail(injected);

    const handler = this.handlers[action];
    if (!handler) return fail({ code: 'InvalidAction', status: 400, message: `Could not find operation ${action}.` });
    try {
      const result = handler(params);
      send(
        200,
        `<${action}Response xmlns="${RDS_XMLNS}"><${action}Result>${result}</${action}Result>` +
          `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
      );
    } catch (err) {
      if (err instanceof RdsFault) return fail({ code: err.code, status: err.status, message: err.message });
      fail({ code: 'InternalFailure', status: 500, message: (err as Error).message });
    }
  }

  private readonly handlers: Record<string, (p: Record<string, string>) => string> = {
    CreateDBSnapshot: (p) => this.createSnapshot(p, 'instance'),
    CreateDBClusterSnapshot: (p) => this.createSnapshot(p, 'cluster'),
    DescribeDBSnapshots: (p) => this.describeSnapshots(p, 'instance'),
    DescribeDBClusterSnapshots: (p) => this.describeSnapshots(p, 'cluster'),
    DeleteDBSnapshot: (p) => this.deleteSnapshot(p, 'instance'),
    DeleteDBClusterSnapshot: (p) => this.deleteSnapshot(p, 'cluster'),
    DescribeDBInstances: (p) => {
      const id = p['DBInstanceIdentifier']?.toLowerCase();
      if (id !== undefined && !this.instances.has(id))
        throw new RdsFault('DBInstanceNotFound', `DBInstance ${id} not found.`);
      const items = id !== undefined ? [this.instances.get(id)!] : [...this.instances.values()];
      return xml(
        'DBInstances',
        list(
          'DBInstance',
          items.map((i) => this.instanceXml(i)),
        ),
      );
    },
    DescribeDBClusters: (p) => {
      const id = p['DBClusterIdentifier']?.toLowerCase();
      if (id !== undefined && !this.clusters.has(id))
        throw new RdsFault('DBClusterNotFoundFault', `DBCluster ${id} not found.`);
      const items = id !== undefined ? [this.clusters.get(id)!] : [...this.clusters.values()];
      return xml(
        'DBClusters',
        list(
          'DBCluster',
          items.map((c) => this.clusterXml(c)),
        ),
      );
    },
    RestoreDBInstanceFromDBSnapshot: (p) => {
      const target = required(p, 'DBInstanceIdentifier').toLowerCase();
      const snapshotId = required(p, 'DBSnapshotIdentifier').toLowerCase();
      checkNewInstanceId(target);
      if (this.instances.has(target)) throw new RdsFault('DBInstanceAlreadyExists', 'DB instance already exists');
      const snap = this.snapshots.get(snapshotId);
      if (!snap) throw new RdsFault('DBSnapshotNotFound', `DBSnapshot ${snapshotId} not found.`);
      if (this.snapshotStatus(snap) !== 'available') {
        throw new RdsFault('InvalidDBSnapshotState', `Snapshot ${snapshotId} is not in available state.`);
      }
      const instance = this.newInstance(target, p, {
        engine: snap.engine,
        engineVersion: snap.engineVersion,
        port: snap.port,
      });
      return xml('DBInstance', this.instanceXml(instance));
    },
    RestoreDBInstanceToPointInTime: (p) => {
      const sourceId = required(p, 'SourceDBInstanceIdentifier').toLowerCase();
      const target = required(p, 'TargetDBInstanceIdentifier').toLowerCase();
      const source = this.instances.get(sourceId);
      if (!source) throw new RdsFault('DBInstanceNotFound', `DBInstance ${sourceId} not found.`);
      checkNewInstanceId(target);
      if (this.instances.has(target)) throw new RdsFault('DBInstanceAlreadyExists', 'DB instance already exists');
      const useLatest = p['UseLatestRestorableTime'] === 'true';
      if (useLatest && p['RestoreTime']) {
        throw new RdsFault(
          'InvalidParameterCombination',
          'Cannot specify both RestoreTime and UseLatestRestorableTime.',
        );
      }
      if (!useLatest && !p['RestoreTime']) {
        throw new RdsFault(
          'InvalidParameterCombination',
          'Must specify either RestoreTime or UseLatestRestorableTime.',
        );
      }
      if (!source.latestRestorableTime) {
        throw new RdsFault('PointInTimeRestoreNotEnabled', `Point-in-time restore is not enabled for ${sourceId}.`);
      }
      if (p['RestoreTime']) {
        const t = new Date(p['RestoreTime']);
        if (Number.isNaN(t.getTime()))
          throw new RdsFault('InvalidParameterValue', `Invalid RestoreTime ${p['RestoreTime']}.`);
        if (t.getTime() > source.latestRestorableTime.getTime()) {
          throw new RdsFault('InvalidRestoreFault', 'The restore time must be before the latest restorable time.');
        }
      }
      const instance = this.newInstance(target, p, {
        engine: source.engine,
        engineVersion: source.engineVersion,
        port: source.port,
      });
      return xml('DBInstance', this.instanceXml(instance));
    },
    RestoreDBClusterFromSnapshot: (p) => {
      const target = required(p, 'DBClusterIdentifier').toLowerCase();
      const snapshotId = required(p, 'SnapshotIdentifier').toLowerCase();
      const engine = required(p, 'Engine');
      checkNewInstanceId(target);
      if (this.clusters.has(target)) throw new RdsFault('DBClusterAlreadyExistsFault', 'DB cluster already exists');
      const snap = this.clusterSnapshots.get(snapshotId);
      if (!snap) throw new RdsFault('DBClusterSnapshotNotFoundFault', `DBClusterSnapshot ${snapshotId} not found.`);
      if (this.snapshotStatus(snap) !== 'available') {
        throw new RdsFault(
          'InvalidDBClusterSnapshotStateFault',
          `Cluster snapshot ${snapshotId} is not in available state.`,
        );
      }
      if (engine !== snap.engine) {
        throw new RdsFault(
          'InvalidParameterCombination',
          `The engine name requested for your DB cluster (${engine}) doesn't match the engine name of your snapshot (${snap.engine}).`,
        );
      }
      const cluster: ClusterState = {
        id: target,
        status: 'creating',
        readyAt: Date.now() + this.restoreDelayMs,
        latestRestorableTime: null,
        address: `${target}.cluster-c0abcdefghij.${this.region}.rds.amazonaws.com`,
        port: snap.port,
        engine,
        engineVersion: p['EngineVersion'] ?? snap.engineVersion,
        subnetGroup: p['DBSubnetGroupName'] ?? 'default',
        securityGroups: securityGroupsOf(p),
        createdAt: new Date(),
        tags: readTags(p),
      };
      this.clusters.set(target, cluster);
      return xml('DBCluster', this.clusterXml(cluster));
    },
    DeleteDBInstance: (p) => {
      const id = required(p, 'DBInstanceIdentifier').toLowerCase();
      const instance = this.instances.get(id);
      if (!instance) throw new RdsFault('DBInstanceNotFound', `DBInstance ${id} not found.`);
      if (p['SkipFinalSnapshot'] !== 'true' && !p['FinalDBSnapshotIdentifier']) {
        throw new RdsFault(
          'InvalidParameterCombination',
          'FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.',
        );
      }
      this.startDeleting(instance, () => this.instances.delete(id));
      return xml('DBInstance', this.instanceXml(instance));
    },
    DeleteDBCluster: (p) => {
      const id = required(p, 'DBClusterIdentifier').toLowerCase();
      const cluster = this.clusters.get(id);
      if (!cluster) throw new RdsFault('DBClusterNotFoundFault', `DBCluster ${id} not found.`);
      if (p['SkipFinalSnapshot'] !== 'true' && !p['FinalDBSnapshotIdentifier']) {
        throw new RdsFault(
          'InvalidParameterCombination',
          'FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.',
        );
      }
      if (this.membersOf(id).length > 0)
        throw new RdsFault('InvalidDBClusterStateFault', `Cluster ${id} still has DB instances; delete them first.`);
      this.startDeleting(cluster, () => this.clusters.delete(id));
      return xml('DBCluster', this.clusterXml(cluster));
    },
    CreateDBInstance: (p) => {
      const id = required(p, 'DBInstanceIdentifier').toLowerCase();
      const instanceClass = required(p, 'DBInstanceClass');
      const engine = required(p, 'Engine');
      checkNewInstanceId(id);
      if (this.instances.has(id)) throw new RdsFault('DBInstanceAlreadyExists', 'DB instance already exists');
      const clusterId = p['DBClusterIdentifier']?.toLowerCase();
      if (!clusterId)
        throw new RdsFault(
          'InvalidParameterCombination',
          'This stand-in creates Aurora cluster instances only: DBClusterIdentifier is required.',
        );
      const cluster = this.clusters.get(clusterId);
      if (!cluster) throw new RdsFault('DBClusterNotFoundFault', `DBCluster ${clusterId} not found.`);
      if (this.clusterStatus(cluster) !== 'available')
        throw new RdsFault('InvalidDBClusterStateFault', `DBCluster ${clusterId} is not in available state.`);
      if (engine !== cluster.engine) {
        throw new RdsFault(
          'InvalidParameterCombination',
          `The engine name requested for your DB instance (${engine}) doesn't match the engine name of your DB cluster (${cluster.engine}).`,
        );
      }
      const instance = this.newInstance(id, p, { engine, engineVersion: cluster.engineVersion, port: cluster.port });
      instance.instanceClass = instanceClass;
      instance.clusterId = clusterId;
      return xml('DBInstance', this.instanceXml(instance));
    },
  };

  // ---- state ----------------------------------------------------------------------------------

  private createSnapshot(p: Record<string, string>, kind: 'instance' | 'cluster'): string {
    const idParam = kind === 'instance' ? 'DBSnapshotIdentifier' : 'DBClusterSnapshotIdentifier';
    const sourceParam = kind === 'instance' ? 'DBInstanceIdentifier' : 'DBClusterIdentifier';
    const rawId = required(p, idParam);
    const sourceId = required(p, sourceParam).toLowerCase();
    if (identifierProblem(rawId, kind === 'instance' ? 255 : 63)) {
      throw new RdsFault(
        'InvalidParameterValue',
        `The parameter ${idParam} is not a valid identifier. Identifiers must begin with a letter; must contain only ` +
          'ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.',
      );
    }
    const id = rawId.toLowerCase();
    const store = kind === 'instance' ? this.snapshots : this.clusterSnapshots;
    let engine: string;
    let engineVersion: string;
    let port: number;
    if (kind === 'instance') {
      const instance = this.instances.get(sourceId);
      if (!instance) throw new RdsFault('DBInstanceNotFound', `DBInstance ${sourceId} not found.`);
      if (store.has(id)) {
        throw new RdsFault(
          'DBSnapshotAlreadyExists',
          `Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`,
        );
      }
      const status = this.instanceStatus(instance);
      if (status !== 'available' && status !== 'storage-optimization') {
        throw new RdsFault(
          'InvalidDBInstanceState',
          `Cannot create a snapshot because the database instance ${sourceId} is not currently in the available state.`,
        );
      }
      ({ engine, engineVersion, port } = instance);
    } else {
      const cluster = this.clusters.get(sourceId);
      if (!cluster) throw new RdsFault('DBClusterNotFoundFault', `DBCluster ${sourceId} not found.`);
      if (store.has(id)) {
        throw new RdsFault(
          'DBClusterSnapshotAlreadyExistsFault',
          `Cannot create the cluster snapshot because one with the identifier ${id} already exists.`,
        );
      }
      if (this.clusterStatus(cluster) !== 'available') {
        throw new RdsFault('InvalidDBClusterStateFault', `DBCluster ${sourceId} is not in available state.`);
      }
      ({ engine, engineVersion, port } = cluster);
    }
    if (store.size >= this.snapshotQuota) {
      throw new RdsFault('SnapshotQuotaExceeded', `Cannot create more than ${this.snapshotQuota} manual snapshots`);
    }
    const snap: SnapshotState = {
      kind,
      id,
      sourceId,
      createdAt: new Date(),
      finalStatus: this.snapshotOutcome,
      engine,
      engineVersion,
      port,
      tags: readTags(p),
    };
    store.set(id, snap);
    return kind === 'instance'
      ? xml('DBSnapshot', this.snapshotXml(snap))
      : xml('DBClusterSnapshot', this.clusterSnapshotXml(snap));
  }

  /** `DeleteDBSnapshot` / `DeleteDBClusterSnapshot`: the snapshot is gone at once; the answer describes it as `deleted`. */
  private deleteSnapshot(p: Record<string, string>, kind: 'instance' | 'cluster'): string {
    const store = kind === 'instance' ? this.snapshots : this.clusterSnapshots;
    const id = required(p, kind === 'instance' ? 'DBSnapshotIdentifier' : 'DBClusterSnapshotIdentifier').toLowerCase();
    const s = store.get(id);
    if (!s)
      throw kind === 'instance'
        ? new RdsFault('DBSnapshotNotFound', `DBSnapshot ${id} not found.`)
        : new RdsFault('DBClusterSnapshotNotFoundFault', `DBClusterSnapshot ${id} not found.`);
    store.delete(id);
    this.deletedSnapshots.push(id);
    s.forcedStatus = 'deleted';
    return kind === 'instance'
      ? xml('DBSnapshot', this.snapshotXml(s))
      : xml('DBClusterSnapshot', this.clusterSnapshotXml(s));
  }

  private describeSnapshots(p: Record<string, string>, kind: 'instance' | 'cluster'): string {
    const store = kind === 'instance' ? this.snapshots : this.clusterSnapshots;
    const id = p[kind === 'instance' ? 'DBSnapshotIdentifier' : 'DBClusterSnapshotIdentifier']?.toLowerCase();
    const source = p[kind === 'instance' ? 'DBInstanceIdentifier' : 'DBClusterIdentifier']?.toLowerCase();
    let items: SnapshotState[];
    if (id !== undefined) {
      const s = store.get(id);
      if (!s) {
        throw kind === 'instance'
          ? new RdsFault('DBSnapshotNotFound', `DBSnapshot ${id} not found.`)
          : new RdsFault('DBClusterSnapshotNotFoundFault', `DBClusterSnapshot ${id} not found.`);
      }
      items = [s];
    } else {
      items = [...store.values()].filter((s) => source === undefined || s.sourceId === source);
    }
    const type = p['SnapshotType'];
    if (type && type !== 'manual') items = [];
    return kind === 'instance'
      ? xml(
          'DBSnapshots',
          list(
            'DBSnapshot',
            items.map((s) => this.snapshotXml(s)),
          ),
        )
      : xml(
          'DBClusterSnapshots',
          list(
            'DBClusterSnapshot',
            items.map((s) => this.clusterSnapshotXml(s)),
          ),
        );
  }

  private newInstance(
    target: string,
    p: Record<string, string>,
    from: { engine: string; engineVersion: string; port: number },
  ): InstanceState {
    const instance: InstanceState = {
      id: target,
      status: 'creating',
      readyAt: Date.now() + this.restoreDelayMs,
      latestRestorableTime: null,
      address: `${target}.c0abcdefghij.${this.region}.rds.amazonaws.com`,
      port: from.port,
      engine: from.engine,
      engineVersion: from.engineVersion,
      instanceClass: p['DBInstanceClass'] ?? 'db.r6g.large',
      subnetGroup: p['DBSubnetGroupName'] ?? 'default',
      securityGroups: securityGroupsOf(p),
      createdAt: new Date(),
      tags: readTags(p),
    };
    this.instances.set(target, instance);
    return instance;
  }

  private snapshotStatus(s: SnapshotState): string {
    if (s.forcedStatus) return s.forcedStatus;
    if (this.neverComplete) return 'creating';
    return Date.now() - s.createdAt.getTime() >= this.snapshotDelayMs ? s.finalStatus : 'creating';
  }

  private percent(s: SnapshotState): number {
    const status = this.snapshotStatus(s);
    if (status === 'available') return 100;
    if (status !== 'creating') return 0;
    return Math.min(99, Math.floor(((Date.now() - s.createdAt.getTime()) / Math.max(1, this.snapshotDelayMs)) * 100));
  }

  private instanceStatus(i: InstanceState): string {
    if (i.readyAt === undefined) return i.status;
    if (this.restoresNeverComplete || Date.now() < i.readyAt) return 'creating';
    i.status = 'available';
    i.latestRestorableTime = new Date(Date.now() - 1000);
    delete i.readyAt;
    return i.status;
  }

  private clusterStatus(c: ClusterState): string {
    if (c.readyAt === undefined) return c.status;
    if (this.restoresNeverComplete || Date.now() < c.readyAt) return 'creating';
    c.status = 'available';
    c.latestRestorableTime = new Date(Date.now() - 1000);
    delete c.readyAt;
    return c.status;
  }

  private snapshotXml(s: SnapshotState): XmlValue {
    return {
      DBSnapshotIdentifier: s.id,
      DBInstanceIdentifier: s.sourceId,
      SnapshotCreateTime: s.createdAt,
      Engine: s.engine,
      AllocatedStorage: 100,
      Status: this.snapshotStatus(s),
      Port: s.port,
      AvailabilityZone: `${this.region}a`,
      VpcId: 'vpc-0abc1234',
      InstanceCreateTime: this.instances.get(s.sourceId)?.createdAt,
      MasterUsername: 'postgres',
      EngineVersion: s.engineVersion,
      LicenseModel: 'postgresql-license',
      SnapshotType: 'manual',
      PercentProgress: this.percent(s),
      StorageType: 'gp3',
      Encrypted: true,
      DBSnapshotArn: `arn:aws:rds:${this.region}:${ACCOUNT}:snapshot:${s.id}`,
      IAMDatabaseAuthenticationEnabled: false,
      DbiResourceId: 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      TagList: tagList(s.tags),
      OriginalSnapshotCreateTime: s.createdAt,
      SnapshotTarget: 'region',
    };
  }

  private clusterSnapshotXml(s: SnapshotState): XmlValue {
    return {
      AvailabilityZones: list('AvailabilityZone', [`${this.region}a`, `${this.region}b`]),
      DBClusterSnapshotIdentifier: s.id,
      DBClusterIdentifier: s.sourceId,
      SnapshotCreateTime: s.createdAt,
      Engine: s.engine,
      EngineMode: 'provisioned',
      AllocatedStorage: 0,
      Status: this.snapshotStatus(s),
      Port: s.port,
      VpcId: 'vpc-0abc1234',
      ClusterCreateTime: this.clusters.get(s.sourceId)?.createdAt,
      MasterUsername: 'postgres',
      EngineVersion: s.engineVersion,
      LicenseModel: 'postgresql-license',
      SnapshotType: 'manual',
      PercentProgress: this.percent(s),
      StorageEncrypted: true,
      DBClusterSnapshotArn: `arn:aws:rds:${this.region}:${ACCOUNT}:cluster-snapshot:${s.id}`,
      IAMDatabaseAuthenticationEnabled: false,
      TagList: tagList(s.tags),
    };
  }

  private instanceXml(i: InstanceState): XmlValue {
    const status = this.instanceStatus(i);
    return {
      DBInstanceIdentifier: i.id,
      DBInstanceClass: i.instanceClass,
      Engine: i.engine,
      DBInstanceStatus: status,
      MasterUsername: 'postgres',
      // RDS omits Endpoint while an instance is being created.
      Endpoint:
        status === 'creating' ? undefined : { Address: i.address, Port: i.port, HostedZoneId: 'Z2R2ITUGPM61AM' },
      AllocatedStorage: 100,
      InstanceCreateTime: i.createdAt,
      BackupRetentionPeriod: i.latestRestorableTime ? 7 : 0,
      VpcSecurityGroups: list(
        'VpcSecurityGroupMembership',
        i.securityGroups.map((g) => ({ VpcSecurityGroupId: g, Status: 'active' })),
      ),
      DBSubnetGroup: { DBSubnetGroupName: i.subnetGroup, VpcId: 'vpc-0abc1234', SubnetGroupStatus: 'Complete' },
      LatestRestorableTime: i.latestRestorableTime,
      MultiAZ: false,
      EngineVersion: i.engineVersion,
      StorageType: 'gp3',
      DbiResourceId: `db-${i.id
        .toUpperCase()
        .replace(/[^A-Z0-9]/g, '')
        .slice(0, 26)}`,
      DBInstanceArn: `arn:aws:rds:${this.region}:${ACCOUNT}:db:${i.id}`,
      DBClusterIdentifier: i.clusterId,
      TagList: tagList(i.tags),
    };
  }

  /** `deleting` now, gone after `restoreDelayMs`. */
  private startDeleting(resource: { status: string; readyAt?: number }, remove: () => void): void {
    delete resource.readyAt;
    resource.status = 'deleting';
    setTimeout(remove, this.restoreDelayMs).unref();
  }

  /** The instances of cluster `id` in creation order; the first is the writer. */
  private membersOf(id: string): InstanceState[] {
    return [...this.instances.values()]
      .filter((i) => i.clusterId === id)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  private clusterXml(c: ClusterState): XmlValue {
    const status = this.clusterStatus(c);
    return {
      AllocatedStorage: 1,
      BackupRetentionPeriod: c.latestRestorableTime ? 7 : 0,
      DBClusterIdentifier: c.id,
      DBSubnetGroup: c.subnetGroup,
      Status: status,
      Endpoint: status === 'creating' ? undefined : c.address,
      ReaderEndpoint: status === 'creating' ? undefined : c.address.replace('.cluster-', '.cluster-ro-'),
      MultiAZ: false,
      Engine: c.engine,
      EngineVersion: c.engineVersion,
      LatestRestorableTime: c.latestRestorableTime,
      Port: c.port,
      MasterUsername: 'postgres',
      VpcSecurityGroups: list(
        'VpcSecurityGroupMembership',
        c.securityGroups.map((g) => ({ VpcSecurityGroupId: g, Status: 'active' })),
      ),
      StorageEncrypted: true,
      DBClusterArn: `arn:aws:rds:${this.region}:${ACCOUNT}:cluster:${c.id}`,
      ClusterCreateTime: c.createdAt,
      EngineMode: 'provisioned',
      DBClusterMembers: list(
        'DBClusterMember',
        this.membersOf(c.id).map((m, n) => ({
          DBInstanceIdentifier: m.id,
          IsClusterWriter: n === 0,
          DBClusterParameterGroupStatus: 'in-sync',
          PromotionTier: 1,
        })),
      ),
      TagList: tagList(c.tags),
    };
  }
}

function required(p: Record<string, string>, name: string): string {
  const v = p[name];
  if (v === undefined || v === '')
    throw new RdsFault('MissingParameter', `The request must contain the parameter ${name}`);
  return v;
}

function checkNewInstanceId(id: string): void {
  if (identifierProblem(id, 63)) {
    throw new RdsFault(
      'InvalidParameterValue',
      'The parameter DBInstanceIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain ' +
        'only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.',
    );
  }
}

function securityGroupsOf(p: Record<string, string>): string[] {
  const ids = readList(p, 'VpcSecurityGroupIds', 'VpcSecurityGroupId').filter(
    (v): v is string => typeof v === 'string',
  );
  return ids.length > 0 ? ids : ['sg-0default'];
}

/** Creates and starts a server in one call. */
export async function startRdsServer(options: RdsServerOptions = {}): Promise<RdsServer> {
  const server = new RdsServer(options);
  await server.start();
  return server;
}
