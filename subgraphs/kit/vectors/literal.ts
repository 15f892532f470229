import type { VectorStorage } from './column.ts';

/** A model name inlined in SQL (the partial indexes name it): what kit.vector_index accepts. */
const MODEL = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/;

export function checkModel(model: string): string {
  if (!MODEL.test(model)) throw new Error(`vectors: not a model name: ${JSON.stringify(model)}`);
  return model;
}

export function checkDimensions(dimensions: number): number {
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 2000) {
    throw new Error(`vectors: dimensions must be an integer from 1 to 2000, not ${dimensions}`);
  }
  return dimensions;
}

/** True when every component is 0 (an empty text): no direction, so neither stored nor searched. */
export const isZero = (vector: Float32Array) => vector.every((x) => x === 0);

/**
 * The text form of a vector for a parameter: pgvector's `[1,2,3]` or an array's `{1,2,3}`, with
 * nine significant digits (every float4 reads back exactly). Refuses NaN and infinities.
 */
export function vectorText(storage: VectorStorage, vector: Float32Array): string {
  const parts = new Array<string>(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i]!;
    if (!Number.isFinite(x)) throw new Error(`vectors: component ${i} is ${x}`);
    parts[i] = x === 0 ? '0' : x.toPrecision(9);
  }
  return storage === 'pgvector' ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
}
