/**
 * What turns texts into vectors for similarity search. The local hashing embedder
 * (`hash-embedder.ts`) implements it with no download; a provider-backed one (an
 * OpenAI-compatible endpoint through the AI SDK) implements the same. Every stored vector keeps
 * `model` and `dimensions` beside it, and a search compares only vectors of the same pair.
 */
export interface Embedder {
  /** Stored with every vector, e.g. `local-hash-v1` or the provider's model name. */
  readonly model: string;
  readonly dimensions: number;
  /** One vector per text, in order, each `dimensions` long. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

/** `vector` scaled to unit length in place (a zero vector stays zero); returns it. */
export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  if (sum > 0) {
    const scale = 1 / Math.sqrt(sum);
    for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! * scale;
  }
  return vector;
}

/** Cosine similarity of two vectors of the same length (0 when either is zero). */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`cosine: vectors of ${a.length} and ${b.length} dimensions`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}
