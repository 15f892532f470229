import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTimestamptzParser, parseTimestamptz } from '../subgraphs/kit/db/timestamps.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';

/*
 * The kit's timestamptz parser (subgraphs/kit/db/timestamps.ts) against PostgreSQL itself: every
 * value's text, as the server writes it in several session time zones, must parse to the instant
 * the server says it is (its epoch, truncated to milliseconds as a Date keeps them).
 */
describe('timestamptz values parse to the instant PostgreSQL says', () => {
  let backends: TestBackends;
  beforeAll(async () => {
    backends = await createTestBackends();
  });
  afterAll(async () => {
    await backends?.close();
  });

  /** `sql` (one timestamptz column `t`) in time zone `zone`: each value's text and its epoch in ms (floor), or null for infinities. */
  const read = (zone: string, sql: string) =>
    backends.deps('test').asOwner(async (tx) => {
      await tx.query(`SET LOCAL TimeZone = '${zone}'`);
      const { rows } = await tx.query<{ text: string; ms: string | null; parsed: Date | number }>(
        `SELECT t::text AS text, CASE WHEN isfinite(t) THEN floor(extract(epoch FROM t) * 1000)::text END AS ms, t AS parsed FROM (${sql}) AS v(t)`,
      );
      return rows;
    });

  // A seeded spread: 4000 instants from year 100 to 9999, at microsecond resolution (fractions of
  // every length once PostgreSQL trims trailing zeros), with a few exact seconds among them.
  const SPREAD = `SELECT timestamptz '0100-01-01 00:00:00+00' + (random() * 312000000000)::bigint * interval '1 second' + (random() * 1000000)::int * interval '1 microsecond' * (g % 4)
                    FROM (SELECT setseed(0.42)) AS s, generate_series(1, 4000) AS g`;
  // UTC, half- and three-quarter-hour offsets either side, and Amsterdam, whose local mean time
  // before 1937 was +00:19:32 (an offset with seconds).
  const ZONES = ['UTC', 'Asia/Kathmandu', 'America/St_Johns', 'Europe/Amsterdam', 'Pacific/Chatham'];

  it.each(ZONES)('in time zone %s, every value of the spread', async (zone) => {
    const rows = await read(zone, SPREAD);
    expect(rows).toHaveLength(4000);
    let withOffsetSeconds = 0;
    // Every one of them on the fast path: pg's own parser is never asked.
    const fastOnly = createTimestamptzParser((text) => {
      throw new Error(`fell back on ${text}`);
    });
    for (const row of rows) {
      const parsed = fastOnly(row.text) as Date;
      expect(parsed, row.text).toBeInstanceOf(Date);
      expect(parsed.getTime(), row.text).toBe(Number(row.ms));
      // pg's driver, with the parser registered by the kit, returns the same.
      expect((row.parsed as Date).getTime(), row.text).toBe(Number(row.ms));
      if (/[+-]\d\d:\d\d:\d\d$/.test(row.text)) withOffsetSeconds++;
    }
    if (zone === 'Europe/Amsterdam') expect(withOffsetSeconds).toBeGreaterThan(0);
  });

  it('fractions of every length, with offsets of minutes and seconds either side', async () => {
    const fractions = ['', '.5', '.05', '.1', '.29', '.999', '.000001', '.999999', '.123456', '.1005'];
    for (const zone of ['Asia/Kathmandu', 'America/St_Johns', 'Europe/Amsterdam']) {
      const values = fractions.map((f) => `(timestamptz '2024-02-29 23:59:59${f}+00'), (timestamptz '1900-01-01 00:00:00${f}+00')`).join(', ');
      for (const row of await read(zone, `VALUES ${values}`)) {
        expect((parseTimestamptz(row.text) as Date).getTime(), `${zone} ${row.text}`).toBe(Number(row.ms));
      }
    }
  });

  it('values outside the usual shape parse as pg always did: infinities, BC, years before 100 and after 9999', async () => {
    const rows = await read(
      'UTC',
      `VALUES (timestamptz 'infinity'), (timestamptz '-infinity'), (timestamptz '0044-03-15 12:00:00+00 BC'),
              (timestamptz '0099-12-31 23:59:59.999999+00'), (timestamptz '0001-01-01 00:00:00+00'), (timestamptz '12345-06-07 08:09:10.5+00')`,
    );
    expect(rows.map((row) => row.text)).toEqual([
      'infinity',
      '-infinity',
      '0044-03-15 12:00:00+00 BC',
      '0099-12-31 23:59:59.999999+00',
      '0001-01-01 00:00:00+00',
      '12345-06-07 08:09:10.5+00',
    ]);
    expect(parseTimestamptz('infinity')).toBe(Infinity);
    expect(parseTimestamptz('-infinity')).toBe(-Infinity);
    for (const row of rows.slice(2)) expect((parseTimestamptz(row.text) as Date).getTime(), row.text).toBe(Number(row.ms));
  });

  it("leaves text that is not in the usual shape to pg's own parser, never reading it as some instant", () => {
    const seen: string[] = [];
    const parse = createTimestamptzParser((text) => (seen.push(text), null));
    // Each breaks the shape in one place: a letter for a digit, no offset, text after it, a bad offset.
    const odd = ['2026-12-06 2x:00:00+00', '2026-12-06 21:00:00', '2026-12-06 21:00:00+00 junk', '2026-12-06 21:00:00+0a', '2026-12-06 21:00:00+05-30', '2026/12/06 21:00:00+00'];
    for (const text of odd) expect(parse(text), text).toBeNull();
    expect(seen).toEqual(odd);
    expect((parse('2026-12-06 21:00:00.123456+00') as Date).toISOString()).toBe('2026-12-06T21:00:00.123Z');
    expect((parse('2026-12-06 21:00:00-03:30') as Date).toISOString()).toBe('2026-12-07T00:30:00.000Z');
    expect(seen).toHaveLength(odd.length);
  });
});
