import type { TimeGrain } from '../engine/types.ts';
import type { Field } from './fields.ts';

/** Vega-Lite JSON: specs are plain data, checked by compiling them (test/bi-render.test.ts). */
export type Json = Record<string, unknown>;

/** Numbers as text (big numbers, table cells, slice labels): thousands separators, at most 2 decimals. */
export const NUMBER_FORMAT = ',.2~f';

/**
 * How a time bucket reads. The engine buckets in UTC and sends ISO instants, so every time unit is
 * a UTC one: the server's time zone must not move a month's bucket into the previous month.
 * Weeks start on Monday in the engine but on Sunday in Vega's `week` unit, so a week is shown as
 * its first day.
 */
const GRAIN_FORMATS: Record<TimeGrain, { timeUnit: string; format: string; title: string }> = {
  DAY: { timeUnit: 'utcyearmonthdate', format: '%b %-d, %Y', title: 'day' },
  WEEK: { timeUnit: 'utcyearmonthdate', format: '%b %-d, %Y', title: 'week of' },
  MONTH: { timeUnit: 'utcyearmonth', format: '%b %Y', title: 'month' },
  QUARTER: { timeUnit: 'utcyearquarter', format: 'Q%q %Y', title: 'quarter' },
  YEAR: { timeUnit: 'utcyear', format: '%Y', title: 'year' },
};
/** A time column without a grain (a raw timestamp dimension): to the minute. */
const RAW_TIME = { timeUnit: 'utcyearmonthdatehoursminutes', format: '%Y-%m-%d %H:%M', title: '' };

export function timeFormat(grain: TimeGrain | null) {
  return grain ? GRAIN_FORMATS[grain] : RAW_TIME;
}

/** An axis or legend title for a time field: its label and the grain, `Created (month)`. */
export function timeTitle(field: Field, grain: TimeGrain | null): string {
  const { title } = timeFormat(grain);
  return title ? `${field.label} (${title})` : field.label;
}

/**
 * A field as a discrete category (an x band with its axis, a color with its legend): time fields by
 * their bucket in time order, everything else nominal in the engine's row order (the definition's
 * sort). `sort: null` also keeps Vega-Lite from writing a custom sort, which it would compile into
 * an expression holding the data's values.
 */
export function discrete(field: Field, grain: TimeGrain | null, guide: 'axis' | 'legend', props: Json = {}): Json {
  if (field.type === 'TIME') {
    const { timeUnit, format } = timeFormat(grain);
    return { field: field.ref, type: 'ordinal', timeUnit, title: timeTitle(field, grain), [guide]: { ...props, format } };
  }
  return { field: field.ref, type: 'nominal', title: field.label, sort: null, [guide]: props };
}

/** A time field on a continuous axis (lines and areas). */
export function continuousTime(field: Field, grain: TimeGrain | null): Json {
  const { timeUnit, format } = timeFormat(grain);
  return {
    field: field.ref,
    type: 'temporal',
    timeUnit,
    title: timeTitle(field, grain),
    axis: { format, labelOverlap: true, labelFlush: true },
  };
}

/** A cell as text: numbers formatted, times by their bucket, the rest as is. */
export function textOf(field: Field, grain: TimeGrain | null): Json {
  if (field.type === 'NUMBER') return { field: field.ref, type: 'quantitative', format: NUMBER_FORMAT, title: field.label };
  if (field.type === 'TIME') {
    const { timeUnit, format } = timeFormat(grain);
    return { field: field.ref, type: 'temporal', timeUnit, format, title: timeTitle(field, grain) };
  }
  return { field: field.ref, type: 'nominal', title: field.label };
}
