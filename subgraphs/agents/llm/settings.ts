import { z } from 'zod';

/**
 * The optional language model (part of the agents subgraph's `settings`): an OpenAI-compatible
 * endpoint reached through the AI SDK. Without LLM_BASE_URL there is no model: every built-in
 * analyst still works, the writer says it needs one, and embeddings stay local.
 */
export const llmSettings = z.object({
  /** The OpenAI-compatible API's base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`. Default: unset, no model. */
  LLM_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Sent as `Authorization: Bearer …`; never logged nor shown. Default: unset (a local server may need none). */
  LLM_API_KEY: z.string().min(1).optional(),
  /** The chat model's name at that endpoint. Required when LLM_BASE_URL is set; no default. */
  LLM_MODEL: z.string().min(1).max(200).optional(),
  /**
   * The embedding model's name at that endpoint (needs LLM_BASE_URL). Default: unset, the local
   * hashing embedder (`local-hash-v1`). Stored with every vector, so it must be a plain name.
   */
  EMBEDDING_MODEL: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/, 'letters, digits and . _ : / - (at most 100)')
    .optional(),
  /** The longest one model call (a whole tool loop included) may take, in ms. Default 60000. */
  LLM_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(60_000),
  /** Model tokens (input + output) a tenant may use per UTC day, all runs together; 0 turns model use off. Default 200000. */
  AGENTS_DAILY_TOKENS: z.coerce.number().int().min(0).max(1_000_000_000).default(200_000),
  /** The most model steps of one call with tools (each step is one request to the model). Default 5. */
  LLM_MAX_STEPS: z.coerce.number().int().min(1).max(20).default(5),
});

export type LlmSettings = z.infer<typeof llmSettings>;

/**
 * A refinement of the agents subgraph's settings (a field cannot see its neighbours, and the
 * settings are composed from `llmSettings.shape`): LLM_MODEL is required with LLM_BASE_URL, and
 * EMBEDDING_MODEL needs LLM_BASE_URL.
 */
export function requireLlmModel(settings: Partial<LlmSettings>, ctx: z.RefinementCtx): void {
  if (settings.LLM_BASE_URL && !settings.LLM_MODEL) ctx.addIssue({ code: 'custom', path: ['LLM_MODEL'], message: 'required when LLM_BASE_URL is set' });
  if (settings.EMBEDDING_MODEL && !settings.LLM_BASE_URL)
    ctx.addIssue({ code: 'custom', path: ['EMBEDDING_MODEL'], message: 'needs LLM_BASE_URL (the endpoint that serves it)' });
}
