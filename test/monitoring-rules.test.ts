import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../gateway/metrics.ts';
import { subgraphMetrics } from '../subgraphs/kit/metrics.ts';
import { loadSubgraphs } from '../subgraphs/kit/registry.ts';

// Issue 18, 6: the alert rules (docker/monitoring/alerts.yaml) pass `promtool check rules` and
// their unit tests (alerts.test.yaml: error rate, subgraph unavailable and down, Redis down), and
// every metric the rules and the Grafana dashboard read is one our processes export.

const dir = join(import.meta.dirname, '..', 'docker', 'monitoring');

function promtool(...args: string[]) {
  const run = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('promtool is not installed: apt-get install prometheus (.ci/run installs it)');
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Names Prometheus makes itself (not exported by us), allowed in expressions. */
const PROMETHEUS_OWN = new Set(['up']);

/** PromQL words that are no metric: functions are followed by `(`, these are not. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression selects. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\$\w+/g, ' '); // Grafana variables
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)) {
    const name = match[1]!;
    if (!KEYWORDS.has(name.toLowerCase()) && !/^\d/.test(name)) names.add(name);
  }
  return [...names];
}

/** Every metric name our processes export: the gateway's registry and the subgraphs' (with the process metrics). */
async function exported(): Promise<Set<string>> {
  const gateway = createMetrics();
  gateway.watchAdmission({ limit: 2, active: 0, waiting: 0, serviceMs: Number.NaN });
  const names = new Set<string>();
  for (const registry of [gateway.registry, subgraphMetrics().registry]) {
    for (const metric of await registry.getMetricsAsJSON()) {
      names.add(metric.name);
      // (prom-client's types say an enum; the JSON holds its name.)
      if (['histogram', 'summary'].includes(String(metric.type))) for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${metric.name}${suffix}`);
    }
  }
  return names;
}

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
}
const rules = (parseYaml(readFileSync(join(dir, 'alerts.yaml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));

describe('Prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', 'alerts.yaml');
    expect(output).toContain('SUCCESS');
    expect(status, output).toBe(0);
  });

  it('pass their unit tests (promtool test rules)', () => {
    const { status, output } = promtool('test', 'rules', 'alerts.test.yaml');
    expect(status, output).toBe(0);
  });

  it('the example Prometheus configuration is valid and scrapes the gateway and every subgraph into the jobs the rules read', async () => {
    const { status, output } = promtool('check', 'config', 'prometheus.yaml');
    expect(status, output).toBe(0);
    const config = parseYaml(readFileSync(join(dir, 'prometheus.yaml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[]; labels?: Record<string, string> }[] }[];
    };
    const jobs = Object.fromEntries(config.scrape_configs.map((c) => [c.job_name, c.static_configs]));
    expect(jobs['bizosaas-gateway']!.flatMap((s) => s.targets)).toEqual(['gateway:8001']);
    const scraped = jobs['bizosaas-subgraphs']!.map((s) => `${s.labels?.subgraph} ${s.targets[0]!.split(':')[1]}`).sort();
    expect(scraped).toEqual((await loadSubgraphs()).map((d) => `${d.name} ${d.port}`).sort());
    const text = readFileSync(join(dir, 'alerts.yaml'), 'utf8');
    for (const job of text.matchAll(/job="([^"]+)"/g)) expect(Object.keys(jobs)).toContain(job[1]);
  });

  it('alert on what the issue asks, and the unit tests cover error rate and subgraph down', () => {
    const alerts = rules.flatMap((r) => (r.alert ? [r.alert] : []));
    expect(alerts).toEqual(
      expect.arrayContaining(['GatewayHighErrorRate', 'GatewayLatencyP99High', 'SubgraphUnavailable', 'SubgraphDown', 'GatewayAdmissionQueueGrowing', 'RedisDown', 'DatabasePoolSaturated']),
    );
    const tests = readFileSync(join(dir, 'alerts.test.yaml'), 'utf8');
    for (const alert of ['GatewayHighErrorRate', 'SubgraphUnavailable', 'SubgraphDown']) expect(tests).toContain(`alertname: ${alert}`);
  });

  it('read only metrics our processes export (or rules record)', async () => {
    const names = await exported();
    const unknown = rules.flatMap((r) => metricNames(r.expr)).filter((n) => !names.has(n) && !recorded.has(n) && !PROMETHEUS_OWN.has(n));
    expect(unknown).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(join(dir, 'grafana-dashboard.json'), 'utf8')) as {
    uid: string;
    title: string;
    panels: { id: number; type: string; title: string; targets?: { expr: string }[] }[];
  };

  it('is a dashboard with panels and queries', () => {
    expect(dashboard.uid).toBeTruthy();
    const queried = dashboard.panels.filter((p) => p.type !== 'row');
    expect(queried.length).toBeGreaterThan(10);
    for (const panel of queried) expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  });

  it('reads only metrics our processes export, and shows the gateway and subgraph ones', async () => {
    const names = await exported();
    const used = new Set(dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr))));
    expect([...used].filter((n) => !names.has(n) && !PROMETHEUS_OWN.has(n))).toEqual([]);
    for (const name of ['gateway_requests_total', 'gateway_subgraph_fetch_duration_seconds_count', 'gateway_admission_waiting', 'subgraph_request_duration_seconds_bucket', 'db_pool_wait_seconds_bucket', 'redis_up']) {
      expect(used, name).toContain(name);
    }
  });

  it('the name extraction finds metrics and skips functions, labels and keywords', () => {
    expect(metricNames('sum by (le) (rate(x_bucket{a="b c"}[5m])) / on (job) y > bool 0.5 and z offset 5m')).toEqual(['x_bucket', 'y', 'z']);
  });
});
