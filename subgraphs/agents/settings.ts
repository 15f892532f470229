import { z } from 'zod';
import { gatewayAccessSettings, requireDelegationSecretInProduction } from './gateway-settings.ts';
import { llmSettings, requireLlmModel } from './llm/settings.ts';
import { runSettings } from './runs/settings.ts';

/**
 * The agents subgraph's own settings (environment variables, validated when it starts; a bad
 * value stops it with one line naming the variable). Read as `ctx.deps.settings` / `deps.settings`.
 */
export const agentsSettings = z.object({
  // Runs: concurrency per process and per tenant, daily quota, attempt timeout (runs/settings.ts).
  ...runSettings.shape,
  // How runs reach the gateway with their member's rights (gateway-settings.ts).
  ...gatewayAccessSettings.shape,
  // The optional language model and embeddings, and the daily token budget (llm/settings.ts).
  ...llmSettings.shape,
})
  .superRefine(requireLlmModel)
  .superRefine(requireDelegationSecretInProduction);

export type AgentsSettings = z.infer<typeof agentsSettings>;
