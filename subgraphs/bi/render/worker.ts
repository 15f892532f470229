import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Json } from './format.ts';

/**
 * Vega renders on a worker thread. Rendering is synchronous work (tens to hundreds of ms for a
 * thousand rows) that never yields to the event loop, so on the subgraph's own thread it would
 * stall every other request, and a timeout could not interrupt it: here a timeout terminates the
 * worker, and the next rendering starts a fresh one. One worker renders one chart at a time.
 *
 * The worker's code is plain JavaScript given as a string (`eval`), so the same code runs under
 * tsx, from the compiled build and under vitest; it imports vega and vega-lite by the paths this
 * module resolves.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const libraries = Promise.all([import(workerData.vega), import(workerData.vegaLite)]);
libraries.catch(() => {}); // reported to each rendering below, not as an uncaught rejection
// The spec's data is inline: nothing may be fetched or read, whatever a spec says.
const refuse = (uri) => Promise.reject(new Error('charts load nothing: ' + String(uri).slice(0, 80)));
const loader = { load: refuse, sanitize: refuse, http: refuse, file: refuse };
parentPort.on('message', async ({ id, spec }) => {
  try {
    const [vega, vegaLite] = await libraries;
    const quiet = vega.logger(vega.None, undefined, () => {});
    const compiled = vegaLite.compile(spec, { logger: quiet }).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader, logger: quiet, logLevel: vega.None });
    try {
      parentPort.postMessage({ id, svg: await view.toSVG() });
    } finally {
      view.finalize();
    }
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

/** Bounds a worker's heap: a spec too large for it fails that rendering, not the subgraph. */
const WORKER_HEAP_MB = 256;
/** Renderings waiting for the worker at most; past that a rendering fails at once (the caller caches). */
const MAX_QUEUED = 64;

export class RenderError extends Error {
  override name = 'RenderError';
}

interface Reply {
  id: number;
  svg?: string;
  error?: string;
}

let worker: Worker | undefined;
let sequence = 0;
let queue: Promise<unknown> = Promise.resolve();
let queued = 0;

/** Compiles and renders a Vega-Lite spec to SVG on the worker, within `timeoutMs` once the worker has it. */
export function renderOnWorker(spec: Json, timeoutMs: number, name: string): Promise<string> {
  if (queued >= MAX_QUEUED) return Promise.reject(new RenderError(`too many charts waiting to render (${MAX_QUEUED})`));
  queued++;
  const run = queue.then(() => send(spec, timeoutMs, name));
  queue = run.catch(() => undefined);
  return run.finally(() => queued--);
}

/** Ends the worker (tests, shutdown); the next rendering starts another. */
export async function stopRenderWorker(): Promise<void> {
  const current = worker;
  worker = undefined;
  await current?.terminate();
}

function send(spec: Json, timeoutMs: number, name: string): Promise<string> {
  const current = (worker ??= start());
  const id = ++sequence;
  return new Promise<string>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      current.off('message', onMessage);
      current.off('error', onError);
      current.off('exit', onExit);
    };
    const fail = (message: string) => {
      done();
      if (worker === current) worker = undefined;
      void current.terminate();
      reject(new RenderError(message));
    };
    const onMessage = (reply: Reply) => {
      if (reply.id !== id) return;
      done();
      if (reply.error !== undefined) reject(new RenderError(`rendering "${name}" failed: ${reply.error}`));
      else resolve(reply.svg ?? '');
    };
    const onError = (error: Error) => fail(`rendering "${name}" failed: ${error.message}`);
    const onExit = () => fail(`the render worker stopped while rendering "${name}"`);
    const timer = setTimeout(() => fail(`rendering "${name}" took over ${timeoutMs} ms`), timeoutMs);
    current.on('message', onMessage);
    current.once('error', onError);
    current.once('exit', onExit);
    current.postMessage({ id, spec });
  });
}

function start(): Worker {
  const require = createRequire(import.meta.url);
  const resolve = (name: string) => pathToFileURL(require.resolve(name)).href;
  const started = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { vega: resolve('vega'), vegaLite: resolve('vega-lite') },
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    stdout: false,
    stderr: false,
  });
  // An idle worker does not keep the process alive; a rendering in progress does (its timer).
  started.unref();
  // Always listened to: an 'error' with no listener would throw in the subgraph's thread.
  const forget = () => {
    if (worker === started) worker = undefined;
  };
  started.on('error', forget);
  started.on('exit', forget);
  return started;
}
