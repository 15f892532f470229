import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { loadSubgraphs } from '../subgraphs/kit/registry.ts';

// Issue 18, 5: docker/kubernetes/ (kustomize: base, overlays/production, overlays/dev) renders with
// `kubectl kustomize` (Debian's kubectl, no cluster needed) and every object validates against the
// Kubernetes OpenAPI schema of its kind (kubernetes-models: types, required fields, enums,
// formats). The supergraph's shape is checked too: every subgraph of the registry and the gateway
// have a Deployment and a Service on their port, with probes, resources and their secrets.

const root = join(import.meta.dirname, '..');
const dir = join(root, 'docker', 'kubernetes');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: any; stringData?: Record<string, string> };

function kustomize(path: string): Manifest[] {
  const run = spawnSync('kubectl', ['kustomize', path], { encoding: 'utf8', timeout: 60_000 });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('kubectl is not installed: apt-get install kubectl (.ci/run installs it)');
  }
  if (run.status !== 0) throw new Error(`kubectl kustomize ${path} failed: ${run.stderr}`);
  return parseYaml(run.stdout);
}

function parseYaml(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length) throw new Error(doc.errors[0]!.message);
      return doc.toJS() as Manifest;
    })
    .filter(Boolean);
}

/** The kinds the manifests may use, by API version: any other fails (a typo, or an API removed). */
const MODELS: Record<string, { new (data: any): { validate(): void } }> = {
  'apps/v1 Deployment': Deployment,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1 Job': Job,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'v1 ConfigMap': ConfigMap,
  'v1 Namespace': Namespace,
  'v1 PersistentVolumeClaim': PersistentVolumeClaim,
  'v1 Secret': Secret,
  'v1 Service': Service,
};

/** Validates one object against its kind's schema: the problems (none: valid). */
async function problems(manifest: Manifest): Promise<string[]> {
  const model = MODELS[`${manifest.apiVersion} ${manifest.kind}`];
  if (!model) return [`${manifest.apiVersion} ${manifest.kind}: no schema (unknown kind or API version)`];
  try {
    new model(manifest).validate();
    return [];
  } catch (error) {
    return [`${manifest.kind}/${manifest.metadata?.name}: ${(error as Error).message}`];
  }
}

const containersOf = (m: Manifest): any[] => m.spec?.template?.spec?.containers ?? [];
const envOf = (container: any): any[] => container.env ?? [];
const probePath = (probe: any) => probe?.httpGet?.path;

let production: Manifest[];
let dev: Manifest[];
const subgraphs = (await loadSubgraphs()).map((d) => ({ name: d.name, port: d.port }));

beforeAll(() => {
  production = kustomize(join(dir, 'overlays', 'production'));
  dev = kustomize(join(dir, 'overlays', 'dev'));
});

const find = (manifests: Manifest[], kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);

describe.each([
  ['production', () => production],
  ['dev', () => dev],
])('the %s overlay', (_name, manifests) => {
  it('renders, and every object validates against its Kubernetes schema', async () => {
    expect(manifests().length).toBeGreaterThan(15);
    const found = (await Promise.all(manifests().map(problems))).flat();
    expect(found).toEqual([]);
  });

  it('has a Deployment and a Service for the gateway and every subgraph but Saleor, on its port', () => {
    for (const { name, port } of [...subgraphs.filter((s) => s.name !== 'saleor'), { name: 'gateway', port: 8001 }]) {
      const deployment = find(manifests(), 'Deployment', name);
      expect(deployment, `Deployment ${name}`).toBeDefined();
      const [container] = containersOf(deployment!);
      expect(container.ports.map((p: any) => p.containerPort), name).toEqual([port]);
      if (name !== 'gateway') expect(container.command, name).toEqual(['node', 'build/subgraphs/kit/start-subgraph.js', name]);
      const service = find(manifests(), 'Service', name);
      expect(service?.spec.ports.map((p: any) => p.port), `Service ${name}`).toEqual([port]);
    }
  });

  it('every Service and PodDisruptionBudget selects pods of a Deployment, every Service port a named container port', () => {
    const deployments = manifests().filter((m) => m.kind === 'Deployment');
    const matches = (selector: Record<string, string>) =>
      deployments.filter((d) => Object.entries(selector).every(([k, v]) => d.spec.template.metadata.labels?.[k] === v));
    for (const service of manifests().filter((m) => m.kind === 'Service')) {
      const [target] = matches(service.spec.selector);
      expect(target, `Service ${service.metadata.name}`).toBeDefined();
      const names = containersOf(target!).flatMap((c) => c.ports.map((p: any) => p.name));
      for (const port of service.spec.ports) expect(names, service.metadata.name).toContain(port.targetPort);
    }
    for (const pdb of manifests().filter((m) => m.kind === 'PodDisruptionBudget')) {
      expect(matches(pdb.spec.selector.matchLabels).length, `PodDisruptionBudget ${pdb.metadata.name}`).toBe(1);
    }
  });

  it('probes: the gateway ready on /ready and alive on /health, each subgraph on /health', () => {
    for (const deployment of manifests().filter((m) => m.kind === 'Deployment')) {
      const [container] = containersOf(deployment);
      const gateway = deployment.metadata.name === 'gateway';
      expect(probePath(container.readinessProbe), deployment.metadata.name).toBe(gateway ? '/ready' : '/health');
      expect(probePath(container.livenessProbe), deployment.metadata.name).toBe('/health');
    }
  });

  it('every container has CPU and memory requests and a memory limit', () => {
    const workloads = manifests().filter((m) => m.kind === 'Deployment' || m.kind === 'Job');
    for (const workload of workloads) {
      for (const container of containersOf(workload)) {
        expect(container.resources?.requests, workload.metadata.name).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        expect(container.resources?.limits?.memory, workload.metadata.name).toEqual(expect.any(String));
      }
    }
  });

  it('the gateway scales on an autoscaler and keeps one pod through disruptions', () => {
    const hpa = find(manifests(), 'HorizontalPodAutoscaler', 'gateway');
    expect(hpa?.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway' });
    expect(find(manifests(), 'Deployment', 'gateway')!.spec.replicas ?? null).toBe(_name === 'dev' ? 1 : null);
    expect(find(manifests(), 'PodDisruptionBudget', 'gateway')?.spec.minAvailable).toBe(1);
  });

  it('the migrations run as a Job of the built image, as the owner role', () => {
    const job = find(manifests(), 'Job', 'migrate');
    const [container] = containersOf(job!);
    expect(container.command).toEqual(['node', 'build/subgraphs/kit/db/migrate-cli.js']);
    expect(envOf(container).map((e) => e.name)).toEqual(expect.arrayContaining(['DATABASE_URL', 'DATABASE_OWNER_URL']));
  });
});

describe('secrets', () => {
  const example = parseYaml(readFileSync(join(dir, 'base', 'secret.example.yaml'), 'utf8'))[0]!;
  const devSecret = () => find(dev, 'Secret', 'bizosaas-secrets')!;
  const referenced = (manifests: Manifest[]) =>
    new Set(
      manifests
        .flatMap((m) => containersOf(m).flatMap(envOf))
        .flatMap((e) => (e.valueFrom?.secretKeyRef ? [`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`] : [])),
    );

  it('come from the Secret bizosaas-secrets, which production leaves to the operator', () => {
    expect([...referenced(production)].every((ref) => ref.startsWith('bizosaas-secrets/'))).toBe(true);
    expect(production.some((m) => m.kind === 'Secret')).toBe(false);
  });

  it('every key a pod reads is in secret.example.yaml and the dev Secret, and the production secrets are among them', async () => {
    expect(await problems(example)).toEqual([]);
    const keys = [...referenced(production), ...referenced(dev)].map((ref) => ref.split('/')[1]!);
    for (const key of keys) {
      expect(Object.keys(example.stringData!), key).toContain(key);
      expect(Object.keys(devSecret().stringData!), key).toContain(key);
    }
    // What production needs (README's configuration, kit/config.ts, the subgraphs' settings).
    expect(keys).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'DATABASE_OWNER_URL', 'REDIS_URL', 'AUTH_PRIVATE_JWK', 'AUTH_DELEGATION_SECRET', 'BI_SHARE_LINK_SECRET', 'SALEOR_APP_TOKEN']),
    );
    // The owner's URL goes to the migrations only.
    const ownerReaders = production.filter((m) => containersOf(m).flatMap(envOf).some((e) => e.name === 'DATABASE_OWNER_URL'));
    expect(ownerReaders.map((m) => m.metadata.name)).toEqual(['migrate']);
  });
});

describe('the stand-in and what the manifests run', () => {
  it('the Saleor stand-in is in the dev overlay only, as the Service saleor', () => {
    expect(find(production, 'Deployment', 'saleor-standin')).toBeUndefined();
    expect(find(dev, 'Deployment', 'saleor-standin')).toBeDefined();
    expect(find(dev, 'Service', 'saleor')?.spec.ports[0].port).toBe(subgraphs.find((s) => s.name === 'saleor')!.port);
  });

  it('the commands name files the build produces (from these sources)', () => {
    for (const source of ['gateway/index.ts', 'subgraphs/kit/start-subgraph.ts', 'subgraphs/kit/db/migrate-cli.ts']) {
      expect(existsSync(join(root, source)), source).toBe(true);
    }
  });

  it('the validation catches a broken manifest', async () => {
    const deployment = structuredClone(find(production, 'Deployment', 'crm')!);
    containersOf(deployment)[0].ports[0].containerPort = 'eight thousand';
    delete deployment.spec.selector;
    const found = await problems(deployment);
    expect(found.join('\n')).toMatch(/containerPort must be integer|selector/);
    expect(await problems({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } })).toEqual([
      'apps/v1 Deploymnet: no schema (unknown kind or API version)',
    ]);
  });
});
