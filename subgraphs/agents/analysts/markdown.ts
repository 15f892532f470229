/*
 * Markdown for insight bodies: tables, escaped cells and numbers as people read them. Bodies are
 * at most 20,000 characters (InsightDraft); long lists are cut with a line saying how many more.
 */

export const BODY_LIMIT = 20_000;

/** Text safe inside a table cell or a sentence: no pipes, no line breaks, no markup characters. */
export const esc = (text: unknown): string =>
  String(text ?? '')
    .replace(/[\r\n]+/g, ' ')
    .replace(/([\\|*_`[\]<>#])/g, '\\$1');

/** A Markdown table; at most `maxRows` rows, then a note of how many were left out. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[], maxRows = 50): string {
  const head = `| ${headers.join(' | ')} |\n|${headers.map(() => ' --- ').join('|')}|`;
  const shown = rows.slice(0, maxRows).map((row) => `| ${row.map((cell) => String(cell ?? '')).join(' | ')} |`);
  const more = rows.length > maxRows ? `\n\n…and ${rows.length - maxRows} more.` : '';
  return [head, ...shown].join('\n') + more;
}

/** 12,345.67 (grouped, 2 decimals at most) with the currency code when given. */
export function money(amount: number, currency?: string | null): string {
  const text = amount.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: 2 });
  return currency ? `${text} ${currency}` : text;
}

export const percent = (value: number | null, digits = 1): string =>
  value == null ? '–' : `${value.toLocaleString('en-US', { maximumFractionDigits: digits })} %`;

export const signedPercent = (value: number | null): string => (value == null ? 'new' : `${value > 0 ? '+' : ''}${percent(value)}`);

/** A title within InsightDraft's 200 characters. */
export const title = (text: string): string => (text.length <= 200 ? text : `${text.slice(0, 199)}…`);

/** A body within BODY_LIMIT (a cut body says so). */
export const body = (parts: readonly string[]): string => {
  const text = parts.filter(Boolean).join('\n\n');
  return text.length <= BODY_LIMIT ? text : `${text.slice(0, BODY_LIMIT - 40)}\n\n…(cut: too long to show in full)`;
};

/** YYYY-MM-DD of a date (UTC). */
export const day = (value: Date | string): string => new Date(value).toISOString().slice(0, 10);
