import type { VectorColumn } from './column.ts';
import { checkDimensions, checkModel, isZero, vectorText } from './literal.ts';

/**
 * The values that store one embedding in a row, by column name, for an INSERT or UPDATE the
 * store writes (`insertRow`/`updateRow` of kit/db/write-row.ts take them as they are):
 * `{ embedding, embedding_model, embedding_dimensions }`. A zero vector (an empty text) or null
 * clears them: the row is not embedded and no search finds it.
 *
 *   await updateRow(tx, PAGES, id, { ...embeddingValues(column, embedder.model, vector) });
 */
export function embeddingValues(column: VectorColumn, model: string, vector: Float32Array | null): Record<string, string | number | null> {
  const { column: name } = column;
  if (!vector || isZero(vector)) return { [name]: null, [`${name}_model`]: null, [`${name}_dimensions`]: null };
  return {
    [name]: vectorText(column.storage, vector),
    [`${name}_model`]: checkModel(model),
    [`${name}_dimensions`]: checkDimensions(vector.length),
  };
}
