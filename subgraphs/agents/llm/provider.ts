import { createOpenAICompatible, type OpenAICompatibleProvider } from '@ai-sdk/openai-compatible';
import type { SubgraphDeps } from '../../kit/deps.ts';
import type { LlmSettings } from './settings.ts';

/** What the llm modules need of the subgraph's deps. */
export type LlmDeps = Pick<SubgraphDeps<LlmSettings>, 'settings' | 'log'>;

const providers = new Map<string, OpenAICompatibleProvider>();

/**
 * The process's provider for the configured endpoint (null without LLM_BASE_URL): made once and
 * reused by every run, so its settings (and the key) live in one place. Usage is asked for in
 * streamed answers too (`stream_options.include_usage`): the token budget counts it.
 */
export function llmProvider(deps: LlmDeps): OpenAICompatibleProvider | null {
  const { LLM_BASE_URL: baseURL, LLM_API_KEY: apiKey } = deps.settings;
  if (!baseURL) return null;
  const key = `${baseURL}\n${apiKey ?? ''}`;
  let provider = providers.get(key);
  if (!provider) {
    silenceSdkWarnings(deps);
    provider = createOpenAICompatible({ name: 'llm', baseURL, apiKey, includeUsage: true });
    providers.set(key, provider);
  }
  return provider;
}

/**
 * The AI SDK writes its warnings (an unsupported setting, ...) to the console unless told
 * otherwise (a global, read at each call): they go to the subgraph's log instead.
 */
function silenceSdkWarnings(deps: LlmDeps) {
  const holder = globalThis as { AI_SDK_LOG_WARNINGS?: unknown };
  if (holder.AI_SDK_LOG_WARNINGS !== undefined) return;
  holder.AI_SDK_LOG_WARNINGS = (options: { warnings: unknown[]; model?: string }) =>
    deps.log.debug({ warnings: options.warnings, model: options.model }, 'llm: AI SDK warnings');
}
