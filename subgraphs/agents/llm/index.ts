/**
 * The optional language model of the agents subgraph (LLM_BASE_URL; settings.ts): a model bound
 * to a run for the executor, the narrative every built-in analyst gets with one, the provider's
 * embedder, and the writer kind.
 */
export { configuredModel, type ModelRun } from './model.ts';
export { addNarrative } from './narrative.ts';
export { providerEmbedder } from './embedder.ts';
export { writerAgent } from './writer.ts';
export { llmSettings, requireLlmModel, type LlmSettings } from './settings.ts';
