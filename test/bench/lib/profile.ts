import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Summary of a V8 CPU profile (`node --cpu-prof`) of a target: where its busy time went, by
 * package (node_modules/<name>), Node internals by area, garbage collection and our own code, and
 * the hottest functions. Only samples inside the measured windows count (not start-up, not the
 * pauses between runs), and idle time is left out, so shares are of busy time under load.
 */
export interface ProfileSummary {
  file: string;
  /** Seconds of measured windows the samples come from. */
  windowSeconds: number;
  busyMs: number;
  byPackage: { name: string; ms: number; share: number }[];
  topFunctions: { name: string; where: string; ms: number; share: number }[];
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  /** Microseconds, on the profiler's monotonic clock. */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Wall-clock (Date.now) intervals to keep, and the wall-clock time the profile ended (the process exited). */
export interface ProfileWindows {
  windows: { from: number; to: number }[];
  endedAtMs: number;
}

/** The bucket a frame's self time goes to. */
function bucket(frame: CpuProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(program)') return 'V8/native (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) {
    // node:internal/streams/readable -> "node: streams"; node:_http_server -> "node: http".
    const area = url.replace(/^node:(internal\/)?/, '').split('/')[0]!.replace(/^_/, '').replace(/_.*$/, '');
    return `node: ${area}`;
  }
  const repo = /\/(gateway|subgraphs|test)\//.exec(url);
  return repo ? `project: ${url.slice(repo.index + 1).split('/').slice(0, 2).join('/')}` : url;
}

export function summariseProfile(file: string, keep: ProfileWindows, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Sample times on the wall clock: the profile's end is the process's exit.
  const toWallMs = (us: number) => keep.endedAtMs - (profile.endTime - us) / 1000;
  const inWindow = (wallMs: number) => keep.windows.some((w) => wallMs >= w.from && wallMs <= w.to);
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (inWindow(toWallMs(t))) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const packages = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; us: number }>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const name = bucket(frame);
    if (name === '(idle)') continue;
    busyUs += us;
    packages.set(name, (packages.get(name) ?? 0) + us);
    const where = frame.url ? `${frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(gateway|subgraphs|test)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}@${where}`;
    const entry = functions.get(key) ?? { name: frame.functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const share = (us: number) => Math.round((us / busyUs) * 1000) / 10;
  return {
    file,
    windowSeconds: Math.round(keep.windows.reduce((n, w) => n + (w.to - w.from), 0) / 1000),
    busyMs: Math.round(busyUs / 1000),
    byPackage: [...packages].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: share(us) })),
    topFunctions: [...functions.values()].sort((a, b) => b.us - a.us).slice(0, top).map((f) => ({ name: f.name, where: f.where, ms: Math.round(f.us / 1000), share: share(f.us) })),
  };
}

/**
 * The main thread's profile among those a target wrote when it exited. `--cpu-prof` writes one
 * per thread (`CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile`); thread 0 is the main one,
 * the others are e.g. tsx's module-loader thread.
 */
export function findProfile(dir: string): string | null {
  try {
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    const main = files.find((f) => f.split('.')[4] === '0') ?? files.sort()[0];
    return main ? join(dir, main) : null;
  } catch {
    return null;
  }
}

export function renderProfile(targetLabel: string, summary: ProfileSummary): string {
  const lines = [
    `CPU profile of ${targetLabel} (\`node --cpu-prof\`, samples from its ${summary.windowSeconds} s of measured windows; shares of ${summary.busyMs.toLocaleString('en-US')} ms busy time, idle excluded):`,
    '',
    '| where | ms | share |',
    '|---|---|---|',
    ...summary.byPackage.map((p) => `| ${p.name} | ${p.ms.toLocaleString('en-US')} | ${p.share}% |`),
    '',
    '| hottest functions (self time) | where | share |',
    '|---|---|---|',
    ...summary.topFunctions.map((f) => `| ${f.name} | ${f.where} | ${f.share}% |`),
  ];
  return lines.join('\n');
}
