import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ChartResult } from '../engine/types.ts';
import type { Json } from './format.ts';
import { vegaLiteSpec, type RenderableChart } from './spec.ts';
import { renderOnWorker } from './worker.ts';

/**
 * A rendering that takes longer is abandoned and its worker ended. The row caps in spec.ts keep
 * real ones far below (see the timings in test/bi-render.test.ts); the first rendering of a worker
 * also loads vega (about 0.3 s).
 */
export const RENDER_TIMEOUT_MS = 10_000;

/**
 * Renderings by their spec's hash. A spec is all an SVG depends on (the chart's name, type and
 * definition, and its data inline), so an entry is never stale: a change of data is another spec.
 * The engine caches the data until a source changes, so a dashboard shown again renders nothing.
 * Per process and bounded in size; requests for a spec being rendered share that rendering.
 */
const rendered = new LRUCache<string, string>({ maxSize: 32 * 1024 * 1024, sizeCalculation: (svg) => svg.length || 1 });
const rendering = new Map<string, Promise<string>>();

/**
 * The chart as an SVG document, drawn by Vega's headless renderer (no browser, no canvas: text is
 * measured by estimate) on a worker thread (worker.ts). Vega writes text and attribute values
 * escaped, so tenant strings (labels, lead sources, page titles) stay text; the spec has its data
 * inline, and the worker's loader refuses every URL. Rejects with a RenderError.
 */
export async function renderSvg(chart: RenderableChart, data: ChartResult, options: { timeoutMs?: number } = {}): Promise<string> {
  const spec = vegaLiteSpec(chart, data);
  const key = createHash('sha256').update(JSON.stringify(spec)).digest('base64url');
  const cached = rendered.get(key);
  if (cached !== undefined) return cached;
  let pending = rendering.get(key);
  if (!pending) {
    pending = renderOnWorker(spec, options.timeoutMs ?? RENDER_TIMEOUT_MS, chart.name)
      .then((svg) => {
        rendered.set(key, svg);
        return svg;
      })
      .finally(() => rendering.delete(key));
    rendering.set(key, pending);
  }
  return pending;
}

/** Forgets every cached rendering (tests measuring the renderer itself). */
export function clearRenderCache(): void {
  rendered.clear();
}

export interface Compiled {
  /** The Vega specification. */
  spec: Json;
  /** Vega-Lite's warnings and errors while compiling; a spec of ours compiles without any. */
  warnings: string[];
}

/**
 * Compiles a Vega-Lite specification to Vega on this thread (a few ms; vega-lite is loaded on the
 * first call), collecting Vega-Lite's warnings instead of printing them.
 */
export async function compileSpec(spec: Json): Promise<Compiled> {
  const { compile } = await import('vega-lite');
  const warnings: string[] = [];
  const collect = (level: string) =>
    function (this: unknown, ...args: unknown[]) {
      warnings.push(`${level} ${args.map(String).join(' ')}`);
      return this;
    };
  const logger = {
    level() {
      return this;
    },
    error: collect('ERROR'),
    warn: collect('WARN'),
    info: collect('INFO'),
    debug: () => logger,
  };
  const compiled = compile(spec as never, { logger: logger as never });
  return { spec: compiled.spec as Json, warnings };
}
