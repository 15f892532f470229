import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSaturation, nextLimit } from '../gateway/admission.ts';
import { startFakeStack, type FakeStack } from './support/gateway-fakes.ts';
import { postJson } from './support/graphql.ts';

describe('admission control: the CPU saturation it acts on', () => {
  it("counts a thread that is busy but off the CPU (here: blocked) as not saturated, unlike event-loop utilisation", async () => {
    // CPU time is the whole process's: let the compiler and GC threads finish loading this file
    // first, and block long enough that their background work cannot pass for saturation.
    await sleep(100);
    const saturation = cpuSaturation();
    const loop = performance.eventLoopUtilization();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400); // the loop is busy, the CPU idle
    expect(performance.eventLoopUtilization(loop).utilization).toBeGreaterThan(0.9);
    expect(saturation()).toBeLessThan(0.5);

    // Spinning for 100 ms of CPU time: saturated, however many other processes share the cores.
    const start = process.cpuUsage();
    let spent = 0;
    while (spent < 100_000) {
      const used = process.cpuUsage(start);
      spent = used.user + used.system;
    }
    expect(saturation()).toBeGreaterThan(0.3);
  });
});

describe('admission control: the limit follows CPU saturation', () => {
  const bounds = { min: 2, max: 64 };

  it('shrinks by a quarter while the thread is saturated, never below min', () => {
    expect(nextLimit(64, 0.97, true, bounds)).toBe(48);
    expect(nextLimit(3, 1, true, bounds)).toBe(2);
    expect(nextLimit(2, 1, true, bounds)).toBe(2);
  });

  it('doubles while operations wait and the thread is not saturated, never above max', () => {
    expect(nextLimit(2, 0.3, true, bounds)).toBe(4);
    expect(nextLimit(8, 0.85, true, bounds)).toBe(16);
    expect(nextLimit(40, 0.5, true, bounds)).toBe(64);
  });

  it('keeps the limit when nothing waits and the thread is not saturated', () => {
    expect(nextLimit(8, 0.2, false, bounds)).toBe(8);
    expect(nextLimit(8, 0.89, false, bounds)).toBe(8);
  });
});

describe('admission control over HTTP', () => {
  let fake: FakeStack;
  let graph: FakeStack['graph'];
  let base: string;

  beforeAll(async () => {
    // One operation at a time, one waiting: the third concurrent one is shed.
    fake = await startFakeStack({ GATEWAY_CONCURRENCY_MIN: '1', GATEWAY_CONCURRENCY_MAX: '1', GATEWAY_QUEUE_MAX: '1' }, 400);
    ({ graph, base } = fake);
  });
  afterAll(() => fake?.close());

  const post = (query: string, signal?: AbortSignal) => postJson(`${base}/graphql`, { query }, { signal });

  /** Waits until the gateway has admitted `active` operations and queued `waiting` (read from /metrics, not guessed from a sleep). */
  const until = async (active: number, waiting: number) => {
    for (let tries = 0; tries < 200; tries++) {
      const text = await (await fetch(`${base}/metrics`)).text();
      if (text.match(/^gateway_admission_active (\d+)$/m)?.[1] === String(active) && text.match(/^gateway_admission_waiting (\d+)$/m)?.[1] === String(waiting)) return;
      await sleep(10);
    }
    throw new Error(`the gateway never had ${active} running and ${waiting} waiting`);
  };

  it('queues operations past the limit and answers 503 OVERLOADED past the queue, then recovers', async () => {
    const first = post('{ slow }');
    await until(1, 0);
    const second = post('{ slow }');
    await until(1, 1);
    const shed = await post('{ echo }');
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(await shed.json()).toEqual({ errors: [{ message: 'The gateway is overloaded; retry shortly.', extensions: { code: 'OVERLOADED' } }] });

    const started = Date.now();
    const answers = await Promise.all([first, second]);
    for (const answer of answers) expect(await answer.json()).toEqual({ data: { slow: 'finally' } });
    // The second waited for the first: together they took two slow fetches, not one.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);

    const after = await post('{ echo }');
    expect(await after.json()).toEqual({ data: { echo: 'hello' } });
  });

  it('drops a queued operation whose client hung up, without calling the subgraph', async () => {
    const before = graph.slow.headers.length;
    const first = post('{ slow }');
    await until(1, 0);
    const client = new AbortController();
    const gone = post('{ slow }', client.signal).catch((error: Error) => error.name);
    await until(1, 1);
    client.abort(); // while it waits behind the first
    expect(await gone).toBe('AbortError');
    expect(await (await first).json()).toEqual({ data: { slow: 'finally' } });
    // The next operation runs at once: the abandoned one was dropped, not run in its turn.
    const next = await post('{ slow }');
    expect(await next.json()).toEqual({ data: { slow: 'finally' } });
    expect(graph.slow.headers.length - before).toBe(2);
  });

  it('skips the subgraph fetches an operation has not started once its client has hung up', async () => {
    // The plan: slow (the person's id), then auth (its name), one after the other.
    const before = graph.auth.headers.length;
    expect(await (await post('{ slowPerson { name } }')).json()).toEqual({ data: { slowPerson: { name: 'person 7' } } });
    expect(graph.auth.headers.length - before).toBe(1);

    const client = new AbortController();
    const gone = post('{ slowPerson { name } }', client.signal).catch((error: Error) => error.name);
    await until(1, 0);
    client.abort(); // while slow answers
    expect(await gone).toBe('AbortError');
    await until(0, 0); // the operation has ended
    expect(graph.auth.headers.length - before).toBe(1); // auth was not asked again
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^gateway_subgraph_fetch_duration_seconds_count\{subgraph="auth",outcome="skipped"\} 1$/m);
  });

  it('sheds REST shim operations the same way, in the DRF error shape', async () => {
    const first = post('{ slow }');
    await until(1, 0);
    const second = post('{ slow }');
    await until(1, 1);
    const shed = await fetch(`${base}/api/brain/saleor/products?channel=acme-channel`);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(await shed.json()).toEqual({ detail: 'The gateway is overloaded; retry shortly.' });
    await Promise.all([first, second]);
  });

  it('exports the limit and the queue as metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^gateway_admission_limit 1$/m);
    expect(text).toMatch(/^gateway_admission_waiting 0$/m);
  });
});
