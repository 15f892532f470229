/**
 * Field naming between the graph and the legacy JSON: DRF objects use the snake_case of the
 * GraphQL fields (`createdAt` -> `created_at`), enum values lower case (`NEW` -> `new`).
 */
export const snakeCase = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
export const camelCase = (name: string) => name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** Deep: every object key to snake_case (values untouched). */
export function snakeKeys(value: unknown): any {
  if (Array.isArray(value)) return value.map(snakeKeys);
  // (GraphQL results are records: plain objects, or objects that inherit nothing, whose
  // prototype is null or, as the patched result shaping makes them, itself has none.)
  if (!value || typeof value !== 'object') return value;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null || Object.getPrototypeOf(proto) === null) {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '__typename').map(([k, v]) => [snakeCase(k), snakeKeys(v)]));
  }
  return value;
}

export const lowerEnum = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value);
export const upperEnum = (value: unknown) => (typeof value === 'string' ? value.toUpperCase() : value);
