import { performance } from 'node:perf_hooks';

/**
 * Admission control for GraphQL operations (the /graphql route and the REST shim's operations).
 * /health, /ready and /metrics never pass through it.
 *
 * Why a limit: a gateway process is one thread. When it is CPU-bound, admitting every request at
 * once does not raise throughput, it only interleaves them: with 50 heavy operations in flight
 * each one lives 50 times longer, its intermediate objects survive young-generation collections
 * and are promoted, and the old generation (RSS) grows by hundreds of MiB that major collections
 * then have to sweep. Running a few at a time and queueing the rest (a small request object
 * each) keeps every operation short-lived: same or better throughput, far less memory (under
 * scenario A each query lived about 12 ms instead of 300 ms). The same holds one hop further: a
 * subgraph that can serve 20 operations a second serves no more for being sent 500 at once, it
 * only makes every one of them wait.
 *
 * Why a bounded queue: work past what the gateway and its subgraphs can serve has to be refused
 * somewhere. Refused at once (503 OVERLOADED, Retry-After) a client can retry or go elsewhere;
 * queued for seconds it times out anyway, after holding a connection and memory, and the
 * operations that do run are late too. So nothing waits longer than `queueTimeoutMs`, and an
 * operation that would is refused on arrival, in microseconds, rather than at its deadline.
 *
 * The limit (operations running at once) adapts to two signals:
 * - CPU saturation, every window of `windowMs` (`cpuSaturation`: the share of the window the
 *   event loop was busy and the process was on a CPU). Busy (>= BUSY): the gateway's own CPU is
 *   the bottleneck; shrink the limit by a quarter, down to `min`.
 * - Latency, once per round: a round is the operations started under the current limit, and it
 *   ends when as many of them have ended as ran at once when it began (one round trip of the
 *   limit: judging sooner would double the limit again and again before its first effect
 *   shows), and at least MIN_ROUND of them (or the limit, when lower). Its median operation time
 *   is compared with a baseline, the lowest round median of the last BASELINE_MS (never under
 *   LATENCY_FLOOR_MS: a 2 ms operation taking 5 ms is noise, not congestion). Operations that
 *   take longer when more of them run are queueing behind something (a saturated subgraph, its
 *   database, the gateway's connections to it): past TOLERANCE times the baseline the limit is
 *   divided by that ratio (at most halved), which aims at the concurrency that ran without
 *   queueing; the round after a decrease is not judged (its operations still queue behind those
 *   admitted before). While operations wait at the gateway and the latency is near the baseline
 *   the limit doubles (a subgraph turning fast again gets it back to `max` within a few rounds:
 *   2 to 512 in 8); between the two it grows by its square root.
 *   A decrease that did not bring the latency down (judged in the round after the next), or
 *   latency past the tolerance with the limit already at `min`, means that it is not this
 *   gateway's concurrency that makes operations slow (a busy machine, a heavier mix): that
 *   latency becomes the baseline, and the limit is free to grow again.
 *   This is additive increase and multiplicative decrease on a delay signal, as TCP Vegas,
 *   Netflix's concurrency-limits (Gradient2, Vegas) and Envoy's adaptive concurrency do it. The
 *   decrease brings the latency back near its no-queue level every cycle, so the windowed minimum
 *   keeps finding the real baseline under sustained overload (a baseline that drifted up with the
 *   samples would let latency grow without end), and learns within BASELINE_MS, or at once by
 *   the test above, that operations got slower for good instead of shedding against a stale one.

 * The queue (first in, first out) is bounded three ways, each counted in the metrics by reason:
 * - queue_timeout: an operation still waiting `queueTimeoutMs` after it arrived is refused then
 *   (never started later).
 * - predicted_wait: an operation arriving behind `waiting` others would wait about
 *   (waiting + 1) x service time / limit (Little's law: with the limit reached, operations end at
 *   limit / service time a second); past a target it is refused at once. The target is
 *   `queueTimeoutMs` itself for a burst (it would be refused at its deadline anyway: better now;
 *   judged by the limit the controller can reach by then, since it grows while operations wait),
 *   and `standingTargetMs` (a tenth of it by default) while the gateway is overloaded, meaning
 *   that the queue has not emptied for that long or that an operation was refused within that
 *   long (CoDel's distinction, as Facebook's servers apply it to their queues: a queue that
 *   absorbs a burst is good, a standing one only adds latency; under sustained overload the queue
 *   only has to keep the slots busy).
 *   What this cannot tell apart: callers that resend at once (a closed loop: service clients,
 *   benchmarks) keep a queue standing however many are refused, since over HTTP/1.1 a connection
 *   carries one request at a time and comes straight back. Refusing them buys no latency, only
 *   503s: scenario A's 50 such connections with deduplication off got about 8,300 refusals a
 *   second and 50 operations served at the default, 244 served and none refused without the
 *   rule. For such callers raise the target (GATEWAY_QUEUE_TARGET_MS) up to the queue timeout,
 *   which turns this rule off; open traffic (browsers, D's 1000 connections) is what the default
 *   serves. (Tried and not kept: telling them apart by refusals per admission: a 5x open
 *   overload with a throttled limit reached 9-10, 80 slow resending callers 16.)
 *   The service time is the mean time of recent operations (or the age of the oldest running
 *   one when every slot is busy and nothing ends: stuck operations predict a long wait).
 * - queue_full: past `maxQueue` waiting operations (a memory bound, whatever the estimate says).
 * An operation whose client hung up while it waited is dropped when its turn comes (a client that
 * gave up under overload must not cost the CPU the others are queueing for).
 */

export const BUSY = 0.9;
/** The median operation time may reach this multiple of the baseline before the limit shrinks. */
export const TOLERANCE = 1.5;
/** Up to this multiple of the baseline the limit doubles while operations wait; above it, it grows by its square root. */
export const NEAR_BASELINE = 1.25;
/** The baseline is at least this (ms): below it, latency changes are scheduling noise. */
export const LATENCY_FLOOR_MS = 10;
/** The baseline is the lowest round median of this many ms. */
export const BASELINE_MS = 10_000;
/**
 * A round counts at least this many operations: a median of a few would follow the mix (two
 * slow queries in a round of four fast ones) rather than the load.
 */
export const MIN_ROUND = 8;

export interface AdmissionOptions {
  /** Lowest concurrency the limit shrinks to (and starts at). */
  min: number;
  /** Highest concurrency. */
  max: number;
  /** Operations allowed to wait; past this, OverloadedError('queue_full'). */
  maxQueue: number;
  /** The longest an operation waits for a slot, ms; refused on arrival when its predicted wait exceeds it (`standingTargetMs` when overloaded). */
  queueTimeoutMs: number;
  /**
   * While the gateway is overloaded, the longest predicted wait an arriving operation is queued
   * for, ms (default: a tenth of `queueTimeoutMs`; at most `queueTimeoutMs`, which turns the
   * standing-queue rule off). See the module comment.
   */
  standingTargetMs?: number;
  /** Length of the control window, ms. */
  windowMs: number;
  /** Called for each operation refused, with the reason. */
  onShed?(reason: ShedReason): void;
  /** Called as each operation starts, with how long it waited for its slot (ms; 0: it had one at once). */
  onStart?(waitedMs: number): void;
  /** The CPU saturation meter (tests replace it). */
  saturation?: () => number;
}

/** Why an operation was refused: see the module comment. */
export type ShedReason = 'queue_full' | 'predicted_wait' | 'queue_timeout';
export const SHED_REASONS: readonly ShedReason[] = ['queue_full', 'predicted_wait', 'queue_timeout'];

/** 503 OVERLOADED with Retry-After, whichever bound refused the operation (the reason is for metrics and logs). */
export class OverloadedError extends Error {
  readonly statusCode = 503;
  readonly retryAfterSeconds = 1;
  constructor(readonly reason: ShedReason = 'queue_full') {
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

/**
 * The controller: the next limit from the current one, the last window's CPU saturation, whether
 * operations waited (or were refused) under it, and `latency`, the round's median operation time
 * over the baseline (1: at the baseline; null or 1 when unknown).
 */
export function nextLimit(
  current: number,
  utilization: number,
  waiting: boolean,
  options: Pick<AdmissionOptions, 'min' | 'max'>,
  latency: number | null = 1,
): number {
  if (utilization >= BUSY) return Math.max(options.min, Math.floor(current * 0.75));
  const ratio = latency ?? 1;
  if (ratio > TOLERANCE) return Math.max(options.min, Math.floor(current / Math.min(ratio, 2)));
  if (!waiting) return current;
  const grown = ratio <= NEAR_BASELINE ? current * 2 : current + Math.ceil(Math.sqrt(current));
  return Math.min(options.max, Math.max(current, grown));
}

/** Expected wait (ms) of an operation arriving behind `waiting` others; NaN when the service time is unknown. */
export function predictedWaitMs(waiting: number, serviceMs: number, limit: number): number {
  return ((waiting + 1) * serviceMs) / Math.max(limit, 1);
}

export interface Admission {
  /**
   * Runs `operation` when a slot is free; rejects with OverloadedError when the queue is full,
   * the predicted wait is too long or the wait reaches the queue timeout, and with
   * ClientGoneError, without running it, when `abandoned()` says so once its turn comes.
   */
  run<T>(operation: () => Promise<T>, abandoned?: () => boolean): Promise<T>;
  /**
   * The OverloadedError an operation arriving now would get at once (counted as refused), or
   * null: for refusing a request before anything is spent on it (run checks again).
   */
  refuse(): OverloadedError | null;
  readonly limit: number;
  readonly active: number;
  readonly waiting: number;
  /** The service time the predicted wait uses, ms (NaN until operations have ended). */
  readonly serviceMs: number;
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

interface Waiter {
  operation: () => Promise<unknown>;
  arrivedAt: number;
  abandoned: (() => boolean) | undefined;
  resolve(value: unknown): void;
  reject(error: Error): void;
  deadline: number;
}

/** First in, first out, over an array with a moving head (shift() is O(n)). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  get size() {
    return this.items.length - this.head;
  }
  push(item: T) {
    this.items.push(item);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export function createAdmission(options: AdmissionOptions): Admission {
  const now = () => performance.now();
  const saturation = options.saturation ?? cpuSaturation();
  const burstTargetMs = options.queueTimeoutMs;
  const standingTargetMs = Math.min(options.standingTargetMs ?? options.queueTimeoutMs / 10, options.queueTimeoutMs);
  /** When the queue last was empty. */
  let emptyAt = 0;
  let limit = options.min;
  let serviceMs = NaN;
  /** When an operation was last refused (-Infinity: never). */
  let shedAt = -Infinity;
  /** The last window found the gateway's own CPU saturated (the limit cannot grow then). */
  let cpuBusy = false;
  /** Times of the operations that ended in this window (for the service time), and when the last ended. */
  let ended: number[] = [];
  let endedAt = now();
  /**
   * A measurement round: the operations started under the current limit (its `id`). Once `size`
   * of them have ended (those that ran at once when it began: one round trip of the limit), their
   * median time is the latency the limit is judged by, and the next round begins.
   */
  let round: { id: number; size: number; times: number[]; waited: boolean; judged: boolean; decreasedFrom?: number } = {
    id: 0,
    size: 1,
    times: [],
    waited: false,
    judged: true,
  };
  /** Round medians of the last BASELINE_MS. */
  const medians: { at: number; ms: number }[] = [];
  /** The running operations, oldest first (a Set keeps insertion order). */
  const running = new Set<{ startedAt: number; round: number }>();
  const queue = new Fifo<Waiter>();
  let expiry: NodeJS.Timeout | null = null;
  // After a decrease the first round is not judged: its operations still queue behind those
  // admitted under the higher limit (and judged, they would cut the limit twice for one excess).
  // The round after it is, and carries the latency that caused the decrease (`decreasedFrom`).
  const nextRound = (judged: boolean, decreasedFrom?: number) => {
    round = { id: round.id + 1, size: Math.max(1, Math.min(limit, Math.max(MIN_ROUND, running.size + queue.size))), times: [], waited: queue.size > 0, judged, decreasedFrom };
  };

  const shed = (reason: ShedReason) => {
    shedAt = now();
    options.onShed?.(reason);
    return new OverloadedError(reason);
  };

  const start = <T>(operation: () => Promise<T>, arrivedAt?: number): Promise<T> => {
    const entry = { startedAt: now(), round: round.id };
    running.add(entry);
    options.onStart?.(arrivedAt === undefined ? 0 : entry.startedAt - arrivedAt);
    const finish = () => {
      running.delete(entry);
      const ms = now() - entry.startedAt;
      ended.push(ms);
      endedAt = now();
      if (entry.round === round.id) round.times.push(ms);
      pump();
    };
    let result: Promise<T>;
    try {
      result = operation();
    } catch (error) {
      result = Promise.reject(error as Error);
    }
    return result.finally(finish);
  };

  /** Starts waiting operations while there are free slots; drops those whose client hung up. */
  const pump = () => {
    while (running.size < limit && queue.size > 0) {
      const next = queue.shift()!;
      if (next.abandoned?.()) {
        next.reject(new ClientGoneError());
        continue;
      }
      // (Its expiry timer may be late: an operation past its deadline is refused, never started.)
      if (next.deadline <= now()) {
        next.reject(shed('queue_timeout'));
        continue;
      }
      start(next.operation, next.arrivedAt).then(next.resolve, next.reject);
    }
  };

  /** Refuses the waiting operations whose deadline has passed (all at the head: one timeout, first in first out). */
  const expire = () => {
    expiry = null;
    const at = now();
    for (let head = queue.peek(); head && (head.deadline <= at || head.abandoned?.()); head = queue.peek()) {
      queue.shift();
      head.reject(head.deadline <= at ? shed('queue_timeout') : new ClientGoneError());
    }
    arm();
  };
  const arm = () => {
    const head = queue.peek();
    if (!head || expiry) return;
    expiry = setTimeout(expire, Math.max(0, head.deadline - now()));
    expiry.unref();
  };

  /**
   * The limit the controller can reach within `ms` if operations keep waiting: it doubles each
   * round (at least a window and an operation's time) while latency stays near its baseline, less
   * one round for good measure; not at all while the gateway's CPU is saturated. A burst on a
   * quiet gateway is judged by it: at the current limit (2 after an idle spell) 15 operations of
   * 150 ms arriving at once predict over a second of wait, and were refused, while the limit grew
   * to serve them within a few hundred milliseconds.
   */
  const reachableLimit = (ms: number) => {
    if (cpuBusy) return limit;
    const rounds = Math.max(0, Math.floor(ms / Math.max(options.windowMs, serviceMs || 0)) - 1);
    return Math.min(options.max, limit * 2 ** Math.min(rounds, 16));
  };

  /** Why an operation arriving now, with every slot busy, is refused; null: it may wait. */
  const refusal = (at: number): ShedReason | null => {
    round.waited = true;
    if (queue.size >= options.maxQueue) return 'queue_full';
    if (queue.size === 0) emptyAt = at;
    // Overloaded (the queue has not emptied for a while, or an operation was refused just now:
    // refused callers retry, and refill a queue that emptied for a moment): the queue only has
    // to keep the slots busy, so it is kept short.
    // (A target at the queue timeout turns the rule off: every wait is judged as a burst's.)
    const standing = standingTargetMs < burstTargetMs && (at - emptyAt > standingTargetMs || at - shedAt < standingTargetMs);
    if (standing) return predictedWaitMs(queue.size, serviceMs, limit) > standingTargetMs ? 'predicted_wait' : null;
    return predictedWaitMs(queue.size, serviceMs, reachableLimit(burstTargetMs)) > burstTargetMs ? 'predicted_wait' : null;
  };

  const timer = setInterval(() => {
    const at = now();
    const utilization = saturation();
    cpuBusy = utilization >= BUSY;
    if (ended.length) {
      const mean = ended.reduce((a, b) => a + b, 0) / ended.length;
      serviceMs = Number.isNaN(serviceMs) ? mean : (serviceMs + mean) / 2;
    }
    ended = [];
    while (medians.length && medians[0]!.at < at - BASELINE_MS) medians.shift();
    // (No baseline yet, just started or idle for BASELINE_MS: the first sample is the baseline.)
    const baseline = (sample: number) => Math.max(LATENCY_FLOOR_MS, Math.min(sample, ...medians.map((m) => m.ms)));
    const ratio = (sample: number) => sample / baseline(sample);
    const waiting = round.waited || queue.size > 0;
    let next = limit;
    let judged = false;
    let sample = NaN;
    if (utilization >= BUSY) {
      next = nextLimit(limit, utilization, waiting, options);
    } else if (round.times.length >= round.size) {
      // The round is complete: judge the limit by its operations' median time.
      sample = median(round.times);
      let latency = ratio(sample);
      if (latency > TOLERANCE && ((round.decreasedFrom !== undefined && sample > 0.8 * round.decreasedFrom) || limit <= options.min)) {
        // The last decrease did not bring the latency down (or the limit cannot go lower): it is
        // not this gateway's concurrency that makes operations slow (a busy machine, a heavier
        // mix). That is the baseline now; shrinking further would only cost throughput.
        medians.length = 0;
        latency = 1;
      }
      if (round.judged) next = nextLimit(limit, utilization, waiting, options, latency);
      medians.push({ at, ms: sample });
      judged = true;
    } else if (running.size >= limit && running.size > 0 && at - endedAt > TOLERANCE * Math.max(serviceMs || 0, options.windowMs)) {
      // Every slot busy and nothing ended for a while: the oldest running operation's age is a
      // lower bound of the time operations take now (a stuck subgraph shows here before any
      // operation ends), and the wait predicted behind them. (Not the limit: fewer slots would
      // not make the running operations end sooner.)
      const age = at - running.values().next().value!.startedAt;
      if (!(age <= serviceMs)) serviceMs = age;
    }
    if (next !== limit || judged) {
      const decreased = next < limit;
      limit = next;
      if (decreased) nextRound(false, judged ? sample : undefined);
      else if (!round.judged) nextRound(true, round.decreasedFrom); // the round after a decrease ended
      else nextRound(true);
      pump();
    }
  }, options.windowMs);
  timer.unref();

  return {
    run<T>(operation: () => Promise<T>, abandoned?: () => boolean): Promise<T> {
      if (running.size < limit && queue.size === 0) return start(operation);
      const at = now();
      const refused = refusal(at);
      if (refused) return Promise.reject(shed(refused));
      return new Promise<T>((resolve, reject) => {
        queue.push({ operation, arrivedAt: at, abandoned, resolve: resolve as (value: unknown) => void, reject, deadline: at + options.queueTimeoutMs });
        arm();
      });
    },
    refuse() {
      if (running.size < limit && queue.size === 0) return null;
      const refused = refusal(now());
      return refused ? shed(refused) : null;
    },
    get limit() {
      return limit;
    },
    get active() {
      return running.size;
    },
    get waiting() {
      return queue.size;
    },
    get serviceMs() {
      return serviceMs;
    },
    close() {
      clearInterval(timer);
      if (expiry) clearTimeout(expiry);
    },
  };
}
