import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc/<pid>/stat times (100 on Linux almost always). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds a process has used so far, all its threads (GC, libuv pool) included. */
export function cpuSeconds(pid: number): number {
  try {
    return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return NaN;
  }
}

/** utime + stime of a /proc/<pid>/stat line: the fields after "(comm) " are state (0), ..., utime (11), stime (12). */
function statCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** User + system CPU seconds of every live process whose command name is `comm` (e.g. all PostgreSQL backends). */
export function cpuSecondsByName(comm: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === comm) total += statCpuSeconds(stat);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}

/** Peak resident set size so far (VmHWM), MiB. */
export function peakRssMiB(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Busy seconds of one CPU so far, whoever used it (/proc/stat: user, nice, system, irq, softirq,
 * and steal, the time the hypervisor gave to another VM).
 */
export function cpuBusySeconds(cpu: number): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `));
    if (!line) return NaN;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/**
 * CPU used over a window, in cores (1.0 = one CPU busy all the time): per process (all threads),
 * and per CPU whoever used it. Call it at the start; call what it returns at the end.
 */
export function cpuMeter(pids: Record<string, number>, cpus: number[] = [], names: string[] = []) {
  const read = () => ({
    ...Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)])),
    ...Object.fromEntries(names.map((n) => [n, cpuSecondsByName(n)])),
    ...Object.fromEntries(cpus.map((c) => [`cpu${c}`, cpuBusySeconds(c)])),
  });
  const before = read();
  const started = performance.now();
  return (): Record<string, number> => {
    const after = read();
    const seconds = (performance.now() - started) / 1000;
    return Object.fromEntries(Object.keys(before).map((k) => [k, (after[k]! - before[k]!) / seconds]));
  };
}
