/*
 * Rison (https://github.com/Nanonid/rison), the URI-friendly JSON that Flask-AppBuilder reads
 * from Superset's `?q=`: `(filters:!((col:slice_name,opr:ct,value:sales)),page:0)`.
 *
 *   object  (key:value,key:value)      array   !(value,value)
 *   true !t   false !f   null !n       number  -12.5e3
 *   string  'it!'s' (`!` escapes `'` and `!`), or a bare id: `sales`, `order_column`
 *
 * As strict as Python's `prison`, which Superset uses: no whitespace outside strings, nothing
 * after the value, an id never starts with a digit or `-`. Ours because the decoder is small and
 * the npm ones are untyped and unmaintained; bounded (length and depth), never recursive past
 * MAX_DEPTH.
 */

export class RisonError extends Error {}

/** Characters that end a bare id (rison's `not_idchar`). */
const NOT_ID = new Set(" '!:(),*@$");
const MAX_DEPTH = 32;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/;

export function parseRison(text: string): unknown {
  let at = 0;
  const fail = (what: string): never => {
    throw new RisonError(`${what} at position ${at}`);
  };

  function value(depth: number): unknown {
    if (depth > MAX_DEPTH) fail('nested too deep');
    const char = text[at];
    if (char === undefined) return fail('unexpected end of input');
    if (char === '(') return object(depth);
    if (char === "'") return string();
    if (char === '!') {
      const next = text[at + 1];
      at += 2;
      if (next === 't') return true;
      if (next === 'f') return false;
      if (next === 'n') return null;
      if (next === '(') return array(depth);
      at -= 2;
      return fail(`unknown literal "!${next ?? ''}"`);
    }
    if (char === '-' || (char >= '0' && char <= '9')) {
      const match = NUMBER.exec(text.slice(at));
      if (!match) return fail('invalid number');
      at += match[0].length;
      return Number(match[0]);
    }
    return id();
  }

  function id(): string {
    const start = at;
    while (at < text.length && !NOT_ID.has(text[at]!)) at++;
    if (at === start) fail(`unexpected "${text[at]}"`);
    return text.slice(start, at);
  }

  function string(): string {
    at++; // the opening quote
    let out = '';
    for (;;) {
      const char = text[at++];
      if (char === undefined) return fail('unterminated string');
      if (char === "'") return out;
      if (char === '!') {
        const escaped = text[at++];
        if (escaped !== '!' && escaped !== "'") fail('invalid string escape');
        out += escaped;
      } else out += char;
    }
  }

  function object(depth: number): Record<string, unknown> {
    at++; // (
    const out: Record<string, unknown> = Object.create(null);
    if (text[at] === ')') {
      at++;
      return { ...out };
    }
    for (;;) {
      const key = text[at] === "'" ? string() : text[at] === '-' || /\d/.test(text[at] ?? '') ? fail('a key is an id or a string') : id();
      if (text[at] !== ':') fail('expected ":"');
      at++;
      out[key] = value(depth + 1);
      if (text[at] === ',') at++;
      else if (text[at] === ')') {
        at++;
        return { ...out };
      } else fail('expected "," or ")"');
    }
  }

  function array(depth: number): unknown[] {
    const out: unknown[] = [];
    if (text[at] === ')') {
      at++;
      return out;
    }
    for (;;) {
      out.push(value(depth + 1));
      if (text[at] === ',') at++;
      else if (text[at] === ')') {
        at++;
        return out;
      } else fail('expected "," or ")"');
    }
  }

  const result = value(0);
  if (at !== text.length) fail('unexpected text after the value');
  return result;
}
