/**
 * Identical entity representations in one `_entities` fetch, sent once.
 *
 * Apollo Gateway's query plan executor sends one representation per entity it found at the
 * fetch's path, duplicates included: the reviews of a list of products name the same few authors
 * again and again (the public federation benchmark's TestQuery sends 465 representations of 27
 * distinct entities). The subgraph would resolve, serialise and send back every copy, and the
 * gateway would parse every copy. Here the subgraph gets each distinct representation once, and
 * its answer is spread back to the positions the executor asked for, so the executor sees exactly
 * the answer it would have had: one entity per representation (each a separate object, as if
 * parsed from its own JSON), errors at the position of every representation they concern.
 */

/** `positions[i]` = the index in `unique` of representation `i`. */
export interface DedupedRepresentations {
  unique: unknown[];
  positions: Uint32Array;
}

/** Null when every representation is distinct (nothing to gain, nothing to undo). */
export function dedupeRepresentations(representations: readonly unknown[]): DedupedRepresentations | null {
  if (representations.length < 2) return null;
  const indexByKey = new Map<string, number>();
  const unique: unknown[] = [];
  const positions = new Uint32Array(representations.length);
  for (let i = 0; i < representations.length; i++) {
    // Representations are built by the executor from the plan's `requires` selection, so the same
    // entity always serialises with the same key order.
    const key = JSON.stringify(representations[i]);
    let index = indexByKey.get(key);
    if (index === undefined) {
      index = unique.length;
      indexByKey.set(key, index);
      unique.push(representations[i]);
    }
    positions[i] = index;
  }
  return unique.length === representations.length ? null : { unique, positions };
}

/** A deep copy of a JSON value (objects, arrays, scalars): what JSON.parse would have built again. */
function cloneJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(cloneJson);
  // (No prototype: a response key `__proto__`, which JSON.parse makes an own field, stays one.)
  const copy: Record<string, unknown> = Object.create(null);
  for (const key in value) copy[key] = cloneJson((value as Record<string, unknown>)[key]);
  return copy;
}

interface GraphQLErrorLike {
  path?: readonly (string | number)[];
  [key: string]: unknown;
}

/**
 * The subgraph's answer to the deduplicated fetch, as the answer to the original one. An answer
 * that does not fit (no `_entities` list, or one of another length) passes through unchanged: the
 * executor reports it as the malformed answer it is.
 */
export function expandEntities<Body extends { data?: Record<string, unknown> | null; errors?: unknown[] }>(
  body: Body,
  { unique, positions }: DedupedRepresentations,
): Body {
  const entities = body.data?._entities;
  if (Array.isArray(entities) && entities.length === unique.length) {
    const seen = new Uint8Array(unique.length);
    const expanded = new Array<unknown>(positions.length);
    for (let i = 0; i < positions.length; i++) {
      const index = positions[i]!;
      // The first position gets the parsed object; the others get copies, since the executor
      // merges later fetches into each entity object separately.
      expanded[i] = seen[index] ? cloneJson(entities[index]) : entities[index];
      seen[index] = 1;
    }
    body.data!._entities = expanded;
  }
  if (Array.isArray(body.errors) && body.errors.length) body.errors = body.errors.flatMap((error) => spreadError(error, positions));
  return body;
}

/** An error at `_entities.<k>` becomes one error at each original position that was entity k. */
function spreadError(error: unknown, positions: Uint32Array): unknown[] {
  const path = (error as GraphQLErrorLike | null)?.path;
  if (!Array.isArray(path) || path[0] !== '_entities' || typeof path[1] !== 'number') return [error];
  const copies: unknown[] = [];
  for (let i = 0; i < positions.length; i++) {
    if (positions[i] === path[1]) copies.push({ ...(error as GraphQLErrorLike), path: ['_entities', i, ...path.slice(2)] });
  }
  return copies.length ? copies : [error];
}
