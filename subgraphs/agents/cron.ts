import cronParser from 'cron-parser';

/*
 * Agents' schedules: five-field cron expressions (minute hour day-of-month month day-of-week),
 * in UTC, at most once an hour. Parsed by cron-parser 4.9 (pg-boss's own dependency, so its
 * reading of an expression is the job system's too).
 */

/** A schedule refused, and why (for the payload's `schedule` error). */
export interface ScheduleProblem {
  message: string;
}

/**
 * The schedule, normalised (single spaces), or why it is refused: not five fields (no seconds
 * field, no `@hourly` shorthands), not cron, or more often than once an hour (a run per hour at
 * most: the minute field must name one minute).
 */
export function checkSchedule(text: string): { schedule: string } | ScheduleProblem {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 5 || fields[0] === '') {
    return { message: 'Use a five-field cron expression (minute hour day month weekday), e.g. "0 6 * * 1".' };
  }
  const schedule = fields.join(' ');
  let minutes: readonly number[];
  try {
    minutes = cronParser.parseExpression(schedule, { utc: true }).fields.minute;
  } catch {
    return { message: 'Not a valid cron expression.' };
  }
  if (minutes.length !== 1) return { message: 'A schedule runs at most once an hour: give the minute as one number, e.g. "15 * * * *".' };
  return { schedule };
}
