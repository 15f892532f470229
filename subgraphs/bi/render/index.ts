// Charts drawn from their data: a Vega-Lite v6 specification with the rows inline (Chart.vegaLite,
// for clients that draw it themselves; built on this thread in about a millisecond) and an SVG
// document rendered on the server (Chart.svg; Vega's headless renderer on a worker thread, with a
// timeout, and cached by the spec's hash). Every type shows at most ROW_CAPS rows and says so.
// Tenant text (names, labels, dimension values) stays text in the SVG; field names are escaped as
// flat keys and titles kept out of Vega's expression syntax (fields.ts).
export { vegaLiteSpec, ROW_CAPS, VEGA_LITE_SCHEMA, type RenderableChart } from './spec.ts';
export { renderSvg, compileSpec, clearRenderCache, RENDER_TIMEOUT_MS, type Compiled } from './svg.ts';
export { RenderError, stopRenderWorker } from './worker.ts';
export { fieldRef } from './fields.ts';
