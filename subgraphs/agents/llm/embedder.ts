import { embedMany } from 'ai';
import { normalize, type Embedder } from '../../kit/vectors/embedder.ts';
import { RunError } from '../run-error.ts';
import { modelError } from './model.ts';
import { llmProvider, type LlmDeps } from './provider.ts';

const probes = new Map<string, Promise<Embedder>>();

/**
 * The provider's embedder over EMBEDDING_MODEL (a kit/vectors Embedder), or null without it (the
 * local hashing embedder is then used). Its dimension is the model's real one, learned from one
 * small embedding when first asked for (an OpenAI-compatible API does not say it otherwise) and
 * kept for the process; a failed probe is not kept, so the next call asks again. Throws RunError
 * (MODEL_ERROR, TIMEOUT) when the provider fails.
 *
 * Vectors are stored with `model` = EMBEDDING_MODEL and their dimension, so searches never
 * compare them with the local embedder's (or another model's).
 */
export function providerEmbedder(deps: LlmDeps): Promise<Embedder> | null {
  const model = deps.settings.EMBEDDING_MODEL;
  const provider = llmProvider(deps);
  if (!model || !provider) return null;
  const key = `${deps.settings.LLM_BASE_URL}\n${model}`;
  let probe = probes.get(key);
  if (!probe) {
    const embeddingModel = provider.embeddingModel(model);
    const timeoutMs = deps.settings.LLM_TIMEOUT_MS;

    const call = async (texts: string[]): Promise<number[][]> => {
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const { embeddings } = await embedMany({ model: embeddingModel, values: texts, maxRetries: 1, abortSignal: timeout });
        return embeddings;
      } catch (error) {
        if (timeout.aborted) throw new RunError('TIMEOUT', `The embedding model did not answer within ${Math.round(timeoutMs / 1000)} s.`);
        throw modelError(deps, error);
      }
    };

    probe = call(['dimension probe']).then(([vector]) => {
      const dimensions = vector?.length ?? 0;
      if (dimensions < 1 || dimensions > 16_000) throw new RunError('MODEL_ERROR', `The embedding model answered a vector of ${dimensions} dimensions.`, false);
      deps.log.info({ model, dimensions }, 'llm: embeddings from the provider');
      return {
        model,
        dimensions,
        async embed(texts: readonly string[]): Promise<Float32Array[]> {
          // An empty text is the zero vector (not embedded, as with the local embedder): providers refuse empty input.
          const wanted = texts.map((text, i) => [text, i] as const).filter(([text]) => text.trim() !== '');
          const vectors: Float32Array[] = texts.map(() => new Float32Array(dimensions));
          if (!wanted.length) return vectors;
          const answers = await call(wanted.map(([text]) => text));
          answers.forEach((answer, j) => {
            if (answer.length !== dimensions) throw new RunError('MODEL_ERROR', `The embedding model changed its dimension (${dimensions} to ${answer.length}).`, false);
            vectors[wanted[j]![1]] = normalize(Float32Array.from(answer));
          });
          return vectors;
        },
      } satisfies Embedder;
    });
    probes.set(key, probe);
    probe.catch(() => probes.delete(key));
  }
  return probe;
}
