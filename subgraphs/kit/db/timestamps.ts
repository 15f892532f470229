import pg from 'pg';

/*
 * `timestamptz` columns parsed without regular expressions. pg's default (postgres-date) runs
 * three regular expressions and several parseInt per value: a page of 50 leads carries 200
 * timestamps, and postgres-date showed as 4.7% of crm's CPU on a cold leads page. This reads a
 * value in about a quarter of the time (120 against 450 ns); crm's leads page (`npm run
 * bench:subgraph -- --variants`, 2026-12-06): 6-9% less CPU per request in the quiet rounds.
 *
 * With DateStyle ISO (the server's default, which nothing here changes) PostgreSQL writes a
 * timestamptz in one shape whatever the session's time zone:
 * `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]`. That shape is read here by character codes;
 * anything else (infinity, BC dates, years before 100 or after 9999, another DateStyle) goes to
 * postgres-date, and the fast path gives the same instant as postgres-date for every value of
 * the shape (milliseconds truncated, as there).
 */

const ZERO = 48;
const digit = (text: string, at: number) => {
  const d = text.charCodeAt(at) - ZERO;
  return d >= 0 && d <= 9 ? d : NaN;
};
const two = (text: string, at: number) => digit(text, at) * 10 + digit(text, at + 1);

type Parse = (text: string) => Date | number | null;

/** A timestamptz's text as PostgreSQL sends it, as a Date; any other text goes to `parseDate`. */
export const createTimestamptzParser = (parseDate: Parse): Parse => (text) => {
  // 'YYYY-MM-DD HH:MM:SS' then the optional fraction, then the offset: at least 22 characters.
  if (text.length < 22 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 32 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) {
    return parseDate(text);
  }
  const year = two(text, 0) * 100 + two(text, 2);
  const month = two(text, 5);
  const day = two(text, 8);
  const hour = two(text, 11);
  const minute = two(text, 14);
  const second = two(text, 17);
  let at = 19;
  let ms = 0;
  if (text.charCodeAt(at) === 46) {
    // Microseconds: a Date keeps milliseconds, and postgres-date truncates to them too.
    at++;
    let scale = 100;
    while (at < text.length && text.charCodeAt(at) >= ZERO && text.charCodeAt(at) <= ZERO + 9) {
      ms += digit(text, at) * scale;
      scale /= 10;
      at++;
    }
    ms = Math.floor(ms);
  }
  const sign = text.charCodeAt(at);
  if ((sign !== 43 && sign !== 45) || year < 100) return parseDate(text);
  // ±HH, ±HH:MM or ±HH:MM:SS, and nothing after it (a ' BC' suffix goes to postgres-date).
  const rest = text.length - at - 1;
  if (rest !== 2 && rest !== 5 && rest !== 8) return parseDate(text);
  let offsetSeconds = two(text, at + 1) * 3600;
  if (rest >= 5) offsetSeconds += text.charCodeAt(at + 3) === 58 ? two(text, at + 4) * 60 : NaN;
  if (rest === 8) offsetSeconds += text.charCodeAt(at + 6) === 58 ? two(text, at + 7) : NaN;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms) - (sign === 43 ? 1 : -1) * offsetSeconds * 1000;
  // NaN: a character that was not a digit where one belongs.
  return Number.isNaN(utc) ? parseDate(text) : new Date(utc);
};

/** The parser pg uses from here on; pg's own (postgres-date) reads what it does not. */
export const parseTimestamptz = createTimestamptzParser(pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as Parse);
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, parseTimestamptz);
