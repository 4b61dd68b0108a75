/**
 * The kustomize base under manifests/kubernetes, checked for what breaks a deployment without an
 * error at `kubectl apply`: selectors that match no pod, probes on ports or paths the bot does not
 * serve, environment variables nobody provides, references to ConfigMaps, Secrets or claims that
 * do not exist. Composition is resolved the way kustomize does it (resources, generators, images).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { EnvSchema } from '../../src/config/env.js';
import { SnapshotConfigSchema } from '../../src/config/services.js';
import { createMetrics } from '../../src/surfaces/ops/metrics.js';
import { startOpsServer, type OpsServer } from '../../src/surfaces/ops/ops-server.js';

const BASE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../manifests/kubernetes');
const S3_OVERLAY = path.join(BASE, 'overlays/s3-snapshots');
const { applyPatch } = fastJsonPatch;

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [k: string]: unknown;
};
type Container = {
  name: string;
  image: string;
  args?: string[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  env?: Array<{ name: string }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: { httpGet: { path: string; port: string | number } };
  readinessProbe?: { httpGet: { path: string; port: string | number } };
  startupProbe?: { httpGet: { path: string; port: string | number } };
  volumeMounts?: Array<{ name: string }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
};
type PodSpec = {
  containers: Container[];
  volumes?: Array<{
    name: string;
    configMap?: { name: string };
    secret?: { secretName: string };
    persistentVolumeClaim?: { claimName: string };
    emptyDir?: object;
  }>;
};
type Deployment = Obj & {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};

interface Composed {
  objects: Obj[];
  /** Generated ConfigMaps: name → data. */
  configMaps: Map<string, Record<string, string>>;
  images: Array<{ name: string; newName?: string; newTag?: string }>;
}

/** A kustomize patch: a JSON 6902 list (applied with fast-json-patch), or a strategic one that deletes its target. */
interface KustomizePatch {
  target: { kind: string; name: string };
  patch: string;
}

/**
 * Resolves a kustomization as kustomize would, for what these manifests use: resources (files,
 * and directories that are kustomizations themselves, i.e. an overlay's base), the
 * configMapGenerator (with `behavior: merge | replace` over the base's), image overrides, and
 * patches (JSON 6902 lists, and `$patch: delete`).
 */
function compose(dir: string): Composed {
  const k = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as {
    resources: string[];
    configMapGenerator?: Array<{
      name: string;
      behavior?: 'create' | 'merge' | 'replace';
      literals?: string[];
      files?: string[];
    }>;
    images?: Composed['images'];
    patches?: KustomizePatch[];
  };
  let objects: Obj[] = [];
  const configMaps = new Map<string, Record<string, string>>();
  const images: Composed['images'] = [];
  for (const file of k.resources) {
    const full = path.join(dir, file);
    expect(existsSync(full), `kustomization resource ${file} exists`).toBe(true);
    if (statSync(full).isDirectory()) {
      const inner = compose(full);
      objects.push(...inner.objects);
      for (const [name, data] of inner.configMaps) configMaps.set(name, data);
      images.push(...inner.images);
      continue;
    }
    for (const doc of parseAllDocuments(readFileSync(full, 'utf8'))) {
      expect(doc.errors, `${file} parses`).toEqual([]);
      const o = doc.toJS() as Obj | null;
      if (o) objects.push(o);
    }
  }
  for (const g of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const l of g.literals ?? []) data[l.slice(0, l.indexOf('='))] = l.slice(l.indexOf('=') + 1);
    for (const f of g.files ?? []) {
      expect(existsSync(path.join(dir, f)), `generator file ${f} exists`).toBe(true);
      data[path.basename(f)] = readFileSync(path.join(dir, f), 'utf8');
    }
    const behavior = g.behavior ?? 'create';
    expect(
      configMaps.has(g.name),
      `ConfigMap ${g.name} ${behavior === 'create' ? 'is new' : 'exists in the base'}`,
    ).toBe(behavior !== 'create');
    configMaps.set(g.name, behavior === 'merge' ? { ...configMaps.get(g.name), ...data } : data);
  }
  for (const p of k.patches ?? []) {
    const hits = objects.filter((o) => o.kind === p.target.kind && o.metadata.name === p.target.name);
    expect(hits.length, `patch target ${p.target.kind}/${p.target.name} exists`).toBe(1);
    const patch = parse(p.patch) as Operation[] | { $patch?: string };
    if (Array.isArray(patch))
      applyPatch(hits[0]!, patch, true); // throws when a `test` op fails
    else if (patch.$patch === 'delete') objects = objects.filter((o) => o !== hits[0]);
    else throw new Error(`unsupported patch for ${p.target.name}`);
  }
  return { objects, configMaps, images: [...images, ...(k.images ?? [])] };
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe.each([
  ['kustomize base', BASE],
  ['S3 snapshot overlay', S3_OVERLAY],
])('Kubernetes manifests (%s)', (_, dir) => {
  const base = compose(dir);
  const deployments = base.objects.filter((o): o is Deployment => o.kind === 'Deployment');
  const secrets = new Map(
    base.objects
      .filter((o) => o.kind === 'Secret')
      .map((o) => [
        o.metadata.name,
        { ...((o.stringData as object) ?? {}), ...((o.data as object) ?? {}) } as Record<string, string>,
      ]),
  );
  const claims = new Set(base.objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name));
  let ops: OpsServer;
  beforeAll(async () => {
    ops = await startOpsServer({ port: 0, registry: createMetrics().registry, checks: [] });
  });
  afterAll(async () => {
    await ops?.close();
  });

  it('pods run with the runtime seccomp profile, no service-account token and as non-root; the ops port binds outside the pod', () => {
    expect(deployments.length).toBeGreaterThan(0);
    for (const d of deployments) {
      const pod = d.spec.template.spec as PodSpec & {
        automountServiceAccountToken?: boolean;
        securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
      };
      expect(pod.automountServiceAccountToken, d.metadata.name).toBe(false);
      expect(pod.securityContext?.seccompProfile, d.metadata.name).toEqual({ type: 'RuntimeDefault' });
      expect(pod.securityContext?.runAsNonRoot, d.metadata.name).toBe(true);
    }
    const env = base.configMaps.get('migrate-bot-env')!;
    expect(EnvSchema.shape.HTTP_BIND.parse(env.HTTP_BIND)).toBe('0.0.0.0');
  });

  it('a NetworkPolicy admits traffic to each pod only on ports it declares: the app on slack and ops, the workers on ops', () => {
    type Policy = Obj & {
      spec: {
        podSelector: { matchLabels: Record<string, string> };
        policyTypes: string[];
        ingress: Array<{ from?: unknown; ports: Array<{ protocol: string; port: string | number }> }>;
      };
    };
    const policies = base.objects.filter((o): o is Policy => o.kind === 'NetworkPolicy');
    const allowed = (d: Deployment) => {
      const labels = d.spec.template.metadata.labels;
      const mine = policies.filter((p) => matches(p.spec.podSelector.matchLabels, labels));
      expect(mine.length, `${d.metadata.name} is selected by a NetworkPolicy`).toBeGreaterThan(0);
      for (const p of mine) expect(p.spec.policyTypes).toContain('Ingress');
      const ports = mine.flatMap((p) => p.spec.ingress.flatMap((r) => r.ports.map((x) => x.port)));
      const declared = d.spec.template.spec.containers.flatMap((c) => (c.ports ?? []).map((x) => x.name));
      for (const port of ports) expect(declared, `${d.metadata.name} declares port ${port}`).toContain(port);
      return [...new Set(ports)].sort();
    };
    const byComponent = (c: string) =>
      deployments.find((d) => d.spec.template.metadata.labels['app.kubernetes.io/component'] === c)!;
    expect(allowed(byComponent('app'))).toEqual(['ops', 'slack']);
    expect(allowed(byComponent('worker'))).toEqual(['ops']);
  });

  it('has an app Deployment with 2 replicas and a worker Deployment, each selector matching its pod labels', () => {
    const app = deployments.find((d) => d.spec.template.spec.containers[0]!.args?.join(' ') === '--role app');
    const worker = deployments.find((d) => d.spec.template.spec.containers[0]!.args?.join(' ') === '--role worker');
    expect(app?.spec.replicas).toBe(2);
    expect(worker?.spec.replicas).toBeGreaterThanOrEqual(1);
    for (const d of deployments)
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), d.metadata.name).toBe(true);
    // No two Deployments select each other's pods.
    for (const a of deployments)
      for (const b of deployments)
        if (a !== b) expect(matches(a.spec.selector.matchLabels, b.spec.template.metadata.labels)).toBe(false);
  });

  it('Services and PodDisruptionBudgets select pods that exist, on ports those pods declare', () => {
    for (const o of base.objects.filter((x) => x.kind === 'Service' || x.kind === 'PodDisruptionBudget')) {
      const spec = o.spec as {
        selector: Record<string, string> | { matchLabels: Record<string, string> };
        ports?: Array<{ targetPort: string | number }>;
      };
      const selector =
        'matchLabels' in spec.selector
          ? (spec.selector.matchLabels as Record<string, string>)
          : (spec.selector as Record<string, string>);
      const targets = deployments.filter((d) => matches(selector, d.spec.template.metadata.labels));
      expect(targets.length, `${o.kind} ${o.metadata.name} selects a Deployment`).toBe(1);
      const declared = targets[0]!.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
      for (const p of spec.ports ?? [])
        expect(
          declared.some((d) => d.name === p.targetPort || d.containerPort === p.targetPort),
          `${o.metadata.name} targetPort ${p.targetPort}`,
        ).toBe(true);
    }
  });

  it('probes use declared ports, the ops port is HTTP_PORT, and each probe path is one the bot serves', async () => {
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0]!;
      const env = Object.assign(
        {},
        ...(c.envFrom ?? []).map((e) => (e.configMapRef ? base.configMaps.get(e.configMapRef.name) : {})),
      ) as Record<string, string>;
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter((p) => p !== undefined)) {
        const port = c.ports?.find((p) => p.name === probe.httpGet.port || p.containerPort === probe.httpGet.port);
        expect(port, `${d.metadata.name} probe port ${probe.httpGet.port}`).toBeDefined();
        expect(String(port!.containerPort)).toBe(env.HTTP_PORT);
        const res = await fetch(`http://127.0.0.1:${ops.port}${probe.httpGet.path}`);
        expect(res.status, `${probe.httpGet.path} is served`).toBe(200);
      }
      expect(c.livenessProbe?.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe?.httpGet.path).toBe('/readyz');
      expect(c.resources?.requests?.memory, `${d.metadata.name} requests memory`).toMatch(/^\d+Mi$/);
    }
  });

  it('every variable the bot requires, and every database_url_env of the mounted services.yaml, is provided by the ConfigMap or Secret', () => {
    const required = Object.entries(EnvSchema.shape)
      .filter(([, schema]) => !schema.safeParse(undefined).success)
      .map(([name]) => name);
    expect(required).toEqual(expect.arrayContaining(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'DATABASE_URL']));
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0]!;
      const provided = new Set<string>((c.env ?? []).map((e) => e.name));
      for (const e of c.envFrom ?? []) {
        const source = e.configMapRef
          ? base.configMaps.get(e.configMapRef.name)
          : e.secretRef
            ? secrets.get(e.secretRef.name)
            : undefined;
        expect(source, `${d.metadata.name} envFrom ${JSON.stringify(e)} exists`).toBeDefined();
        for (const key of Object.keys(source!)) provided.add(key);
      }
      for (const name of required) expect(provided.has(name), `${d.metadata.name} gets ${name}`).toBe(true);
      // Redis: one of the three ways (a single server, Sentinel, Cluster).
      expect(
        ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'].filter((n) => provided.has(n)),
        `${d.metadata.name} gets one way to reach Redis`,
      ).toHaveLength(1);
      // services.yaml is mounted where SERVICES_FILE says, and each database_url_env is provided.
      const servicesConfigMap = d.spec.template.spec.volumes?.find(
        (v) => v.configMap && c.volumeMounts?.some((m) => m.name === v.name),
      )?.configMap?.name;
      const file = base.configMaps.get(servicesConfigMap ?? '')?.['services.yaml'];
      expect(file, `${d.metadata.name} mounts services.yaml`).toBeDefined();
      const services = (parse(file!) as { services: Record<string, { database_url_env: string }> }).services;
      for (const [name, s] of Object.entries(services))
        expect(provided.has(s.database_url_env), `${name}: ${s.database_url_env}`).toBe(true);
    }
  });

  it('every ConfigMap, Secret and claim a pod mounts exists, and the image is the one the images transformer rewrites', () => {
    for (const d of deployments) {
      for (const v of d.spec.template.spec.volumes ?? []) {
        if (v.configMap) expect(base.configMaps.has(v.configMap.name), v.configMap.name).toBe(true);
        if (v.secret) expect(secrets.has(v.secret.secretName), v.secret.secretName).toBe(true);
        if (v.persistentVolumeClaim)
          expect(claims.has(v.persistentVolumeClaim.claimName), v.persistentVolumeClaim.claimName).toBe(true);
      }
      for (const c of d.spec.template.spec.containers) {
        for (const m of c.volumeMounts ?? [])
          expect(
            d.spec.template.spec.volumes?.some((v) => v.name === m.name),
            `${d.metadata.name} mount ${m.name}`,
          ).toBe(true);
        expect(base.images.map((i) => i.name)).toContain(c.image);
      }
    }
  });
});

describe('Kubernetes manifests: the S3 snapshot overlay', () => {
  const overlay = compose(S3_OVERLAY);
  const deployments = overlay.objects.filter((o): o is Deployment => o.kind === 'Deployment');

  it('needs no ReadWriteMany volume: no claim, every pod keeps only a bounded scratch directory', () => {
    expect(overlay.objects.filter((o) => o.kind === 'PersistentVolumeClaim')).toEqual([]);
    expect(deployments).toHaveLength(2);
    for (const d of deployments) {
      const volumes = d.spec.template.spec.volumes ?? [];
      expect(
        volumes.some((v) => v.persistentVolumeClaim),
        d.metadata.name,
      ).toBe(false);
      expect(volumes.find((v) => v.name === 'snapshots')).toEqual({
        name: 'snapshots',
        emptyDir: { sizeLimit: '1Gi' },
      });
    }
  });

  it("every pg_dump service stores in S3 (checked by the bot's own schema), with a region and an AWS identity", () => {
    const file = parse(overlay.configMaps.get('migrate-bot-services')!['services.yaml']!) as {
      services: Record<string, { snapshot: unknown }>;
    };
    for (const [name, s] of Object.entries(file.services)) {
      const snap = SnapshotConfigSchema.parse(s.snapshot);
      if (snap.provider === 'pg_dump') expect(snap.storage, name).toBe('s3');
    }
    expect(overlay.configMaps.get('migrate-bot-env')!.AWS_REGION).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
    expect(overlay.configMaps.get('migrate-bot-env')!.SNAPSHOT_DIR).toBeDefined(); // kept from the base
    const accounts = overlay.objects.filter((o) => o.kind === 'ServiceAccount');
    for (const d of deployments) {
      const sa = (d.spec.template.spec as { serviceAccountName?: string }).serviceAccountName;
      const account = accounts.find((a) => a.metadata.name === sa) as
        | (Obj & { metadata: { annotations?: Record<string, string> } })
        | undefined;
      expect(account, `${d.metadata.name} runs as an existing service account`).toBeDefined();
      expect(account!.metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(/^arn:aws:iam::\d{12}:role\//);
    }
  });
});
