import { performance } from 'node:perf_hooks';
import pLimit, { type LimitFunction } from 'p-limit';

/**
 * Admission control for GraphQL operations (the /graphql route and the REST shim's operations).
 *
 * Why: a gateway process is one thread. When it is CPU-bound, admitting every request at once
 * does not raise throughput, it only interleaves them: with 50 heavy operations in flight each
 * one lives 50 times longer, its intermediate objects survive young-generation collections and
 * are promoted, and the old generation (RSS) grows by hundreds of MiB that major collections
 * then have to sweep. Running a few at a time and queueing the rest (a small request object
 * each) keeps every operation short-lived: same or better throughput, far less memory (under
 * scenario A each query lived about 12 ms instead of 300 ms).
 *
 * A fixed low limit would be wrong the other way: operations that wait on a slow subgraph use
 * no CPU, and a limit of 4 would serialise everyone behind them. So the limit adapts to what
 * the process is doing, measured over short windows as its CPU saturation (`cpuSaturation`: the
 * share of the window the event loop was busy and the process was on a CPU):
 * - busy (>= BUSY): the CPU is the bottleneck; shrink the limit by a quarter, down to `min`.
 * - not busy while operations wait: the limit, not the CPU, holds them back; double it, up to
 *   `max`. A subgraph turning slow frees the CPU, so the limit is back at `max` within a few
 *   windows (from 2 to 512 in 8 windows of 100 ms).
 * - otherwise: keep it.
 * Past `maxQueue` waiting operations the gateway answers 503 at once (OVERLOADED, Retry-After).
 * An operation whose client hung up while it waited is dropped when its turn comes (a client that
 * gave up under overload must not cost the CPU the others are queueing for).
 */

export const BUSY = 0.9;

export interface AdmissionOptions {
  /** Lowest concurrency the limit shrinks to when the CPU is saturated (and starts at). */
  min: number;
  /** Highest concurrency. */
  max: number;
  /** Operations allowed to wait; past this, OverloadedError. */
  maxQueue: number;
  /** Length of the utilisation window, ms. */
  windowMs: number;
}

export class OverloadedError extends Error {
  readonly statusCode = 503;
  readonly retryAfterSeconds = 1;
  constructor() {
    super('The gateway is overloaded; retry shortly.');
    this.name = 'OverloadedError';
  }
}

/** The client closed its connection while its operation waited: the operation never ran. */
export class ClientGoneError extends Error {
  /** nginx's "client closed request": nobody reads the answer, logs and metrics do. */
  readonly statusCode = 499;
  constructor() {
    super('The client closed the connection before its operation started.');
    this.name = 'ClientGoneError';
  }
}

/** The controller: the next limit from the current one and the last window's utilisation. */
export function nextLimit(current: number, utilization: number, waiting: boolean, options: Pick<AdmissionOptions, 'min' | 'max'>): number {
  if (utilization >= BUSY) return Math.max(options.min, Math.floor(current * 0.75));
  if (waiting) return Math.min(options.max, current * 2);
  return current;
}

export interface Admission {
  /**
   * Runs `operation` when a slot is free; rejects with OverloadedError when the queue is full,
   * and with ClientGoneError, without running it, when `abandoned()` says so once its turn comes.
   */
  run<T>(operation: () => Promise<T>, abandoned?: () => boolean): Promise<T>;
  readonly limit: number;
  readonly active: number;
  readonly waiting: number;
  close(): void;
}

/**
 * A meter of this process's CPU saturation since its last reading: the smaller of event-loop
 * utilisation and the process's CPU time over wall time. Event-loop utilisation alone also counts
 * time the thread was ready to run but had no core: on a machine whose cores the subgraphs and
 * PostgreSQL keep busy, the gateway's loop then looks saturated, and shrinking the limit only
 * queues operations that are waiting on those other processes (scenario D: p99 about 1 s instead
 * of 0.1-0.2 s in the runs where that happened). Only this process's own CPU being the
 * bottleneck is a reason to run fewer operations at once. (Node 20 has no per-thread CPU time:
 * the process's includes its GC and compiler threads, which run for the loop's work anyway.)
 */
export function cpuSaturation(): () => number {
  let lastLoop = performance.eventLoopUtilization();
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  return () => {
    const loop = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    const at = performance.now();
    const busy = performance.eventLoopUtilization(loop, lastLoop).utilization;
    const onCpu = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000 / Math.max(at - lastAt, 1);
    [lastLoop, lastCpu, lastAt] = [loop, cpu, at];
    return Math.min(busy, onCpu);
  };
}

export function createAdmission(options: AdmissionOptions): Admission {
  const limiter: LimitFunction = pLimit(options.min);
  const saturation = cpuSaturation();
  const timer = setInterval(() => {
    const next = nextLimit(limiter.concurrency, saturation(), limiter.pendingCount > 0, options);
    if (next !== limiter.concurrency) limiter.concurrency = next;
  }, options.windowMs);
  timer.unref();
  return {
    run(operation, abandoned) {
      if (limiter.activeCount >= limiter.concurrency && limiter.pendingCount >= options.maxQueue) {
        return Promise.reject(new OverloadedError());
      }
      return limiter(() => (abandoned?.() ? Promise.reject(new ClientGoneError()) : operation()));
    },
    get limit() {
      return limiter.concurrency;
    },
    get active() {
      return limiter.activeCount;
    },
    get waiting() {
      return limiter.pendingCount;
    },
    close() {
      clearInterval(timer);
    },
  };
}
