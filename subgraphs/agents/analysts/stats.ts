/*
 * The small statistics the analysts need; plain functions over numbers, no library (a median
 * and a rate are one line each, and their exact definitions are part of what the insights say).
 */

export const DAY_MS = 86_400_000;

/** Median (the mean of the two middle values for an even count); null for no values. */
export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** Whole days from `from` to `to` (fractional days kept: rounding is for display). */
export const daysBetween = (from: Date | string, to: Date | string): number =>
  (new Date(to).getTime() - new Date(from).getTime()) / DAY_MS;

/** `value` rounded to `digits` decimals (money: 2). */
export const round = (value: number, digits = 0): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** Relative change from `previous` to `current` in percent; null when there was nothing before. */
export const changePercent = (current: number, previous: number): number | null =>
  previous === 0 ? null : round(((current - previous) / previous) * 100, 1);

export const logit = (p: number): number => Math.log(p / (1 - p));
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Groups `items` by `key` (insertion order kept). */
export function groupBy<T, K>(items: Iterable<T>, key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
