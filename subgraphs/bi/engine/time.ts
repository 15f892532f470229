import type { RelativeTimeRange, TimeGrain, TimeRange } from './types.ts';

/*
 * Time ranges, resolved in UTC against a `now` the caller may inject (tests do), always as
 * half-open intervals [from, to): a row at exactly `to` belongs to the next range.
 *
 * - TODAY: today's UTC day.
 * - LAST_N_DAYS: the N whole UTC days ending with today, today included: [today - (N - 1) days,
 *   tomorrow). Whole days, not "the last N * 24 hours": a chart's range (and its cache key) stays
 *   the same for the whole day, and its first and last day buckets are complete days.
 * - THIS_/LAST_ WEEK (weeks start on Monday, ISO), MONTH, QUARTER, YEAR: the whole calendar
 *   period that holds `now`, or the one before it, including the part of this period still to
 *   come (there are no rows there yet, or they are dated in the future on purpose).
 */

const DAY_MS = 86_400_000;

const utcDay = (date: Date) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
const addDays = (date: Date, days: number) => new Date(date.getTime() + days * DAY_MS);
const utcMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 1));

/** The start of the UTC week (Monday) holding `date`. */
function utcWeek(date: Date): Date {
  const day = utcDay(date);
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return addDays(day, -sinceMonday);
}

export interface ResolvedRange {
  from: Date | null;
  to: Date | null;
}

const LAST_DAYS: Partial<Record<RelativeTimeRange, number>> = {
  LAST_7_DAYS: 7,
  LAST_30_DAYS: 30,
  LAST_90_DAYS: 90,
  LAST_365_DAYS: 365,
};

/** A relative range as absolute [from, to) in UTC, relative to `now`. */
export function resolveRelative(relative: RelativeTimeRange, now: Date): { from: Date; to: Date } {
  const today = utcDay(now);
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  const quarter = month - (month % 3);
  const days = LAST_DAYS[relative];
  if (days !== undefined) return { from: addDays(today, -(days - 1)), to: addDays(today, 1) };
  switch (relative) {
    case 'TODAY':
      return { from: today, to: addDays(today, 1) };
    case 'THIS_WEEK': {
      const week = utcWeek(now);
      return { from: week, to: addDays(week, 7) };
    }
    case 'LAST_WEEK': {
      const week = utcWeek(now);
      return { from: addDays(week, -7), to: week };
    }
    case 'THIS_MONTH':
      return { from: utcMonth(year, month), to: utcMonth(year, month + 1) };
    case 'LAST_MONTH':
      return { from: utcMonth(year, month - 1), to: utcMonth(year, month) };
    case 'THIS_QUARTER':
      return { from: utcMonth(year, quarter), to: utcMonth(year, quarter + 3) };
    case 'LAST_QUARTER':
      return { from: utcMonth(year, quarter - 3), to: utcMonth(year, quarter) };
    case 'THIS_YEAR':
      return { from: utcMonth(year, 0), to: utcMonth(year + 1, 0) };
    case 'LAST_YEAR':
      return { from: utcMonth(year - 1, 0), to: utcMonth(year, 0) };
    default:
      throw new Error(`unknown relative time range ${String(relative)}`);
  }
}

/** A range end as a Date: a definition read back from JSON (a stored chart) holds ISO text. */
function instant(value: Date | string | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`bad time range end ${String(value)}`);
  return date;
}

/** The absolute range a chart covers (null ends are open), or null without a range. */
export function resolveRange(range: TimeRange | null | undefined, now: Date): ResolvedRange | null {
  if (!range) return null;
  if (range.relative) return resolveRelative(range.relative, now);
  const from = instant(range.from);
  const to = instant(range.to);
  return from || to ? { from, to } : null;
}

/** PostgreSQL's date_trunc field of each grain (a fixed list: never input in SQL text). */
export const GRAIN_FIELD: Readonly<Record<TimeGrain, string>> = Object.freeze({
  DAY: 'day',
  WEEK: 'week',
  MONTH: 'month',
  QUARTER: 'quarter',
  YEAR: 'year',
});

export const RELATIVE_RANGES: readonly RelativeTimeRange[] = [
  'TODAY',
  'LAST_7_DAYS',
  'LAST_30_DAYS',
  'LAST_90_DAYS',
  'LAST_365_DAYS',
  'THIS_WEEK',
  'THIS_MONTH',
  'THIS_QUARTER',
  'THIS_YEAR',
  'LAST_WEEK',
  'LAST_MONTH',
  'LAST_QUARTER',
  'LAST_YEAR',
];

export const TIME_GRAINS: readonly TimeGrain[] = ['DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'];
