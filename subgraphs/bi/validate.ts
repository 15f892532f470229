import { isUuid } from '../kit/formats.ts';
import { InputProblems } from '../kit/mutations/problems.ts';
import type { BiErrorCode } from './__generated__/resolvers-types.ts';

// Input checks of the bi mutations that are not the engine's (a chart definition is checked by
// the engine's validateChart). Each reader records problems and returns the cleaned value; a
// mutation with any problem writes nothing.

export const LIMITS = { name: 200, title: 200, description: 2000, search: 200 } as const;

/** Control characters other than tab, newline and carriage return. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export class Problems extends InputProblems<BiErrorCode> {
  /** Trimmed text; empty becomes null (or REQUIRED when required). */
  text(field: string, value: string | null | undefined, max: number, required = false): string | null {
    if (value == null || value.trim() === '') {
      if (required) this.add(field, 'This field is required.', 'REQUIRED');
      return null;
    }
    const text = value.trim();
    if (text.length > max) this.add(field, `At most ${max} characters.`, 'TOO_LONG');
    else if (CONTROL.test(text)) this.add(field, 'Contains control characters.', 'INVALID');
    return text;
  }

  /** An id of ours (a UUID); anything else cannot exist. */
  id(field: string, value: string, what: string): string | null {
    if (!isUuid(value)) {
      this.add(field, `No such ${what}.`, 'NOT_FOUND');
      return null;
    }
    return value.toLowerCase();
  }
}

/** Only the keys the client sent (a key with null clears the field; a missing key is unchanged). */
export const has = <T extends object>(input: T, key: keyof T) => Object.prototype.hasOwnProperty.call(input, key);
