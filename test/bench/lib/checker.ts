import { isDeepStrictEqual } from 'node:util';
import type { ResponseChecker } from '../scenarios/types.ts';

/**
 * A checker against one expected JSON body. Byte-identical is 'exact' (a cheap string compare,
 * the common case; the trailing newline Apollo Server adds is allowed). Otherwise the body is
 * parsed and compared as data: 'equivalent' when only formatting or key order differ (which no
 * client can see), else 'mismatch'.
 */
export function jsonBodyChecker(expected: string): ResponseChecker {
  const expectedData: unknown = JSON.parse(expected);
  const withNewline = `${expected}\n`;
  return (body) => {
    if (body === expected || body === withNewline) return 'exact';
    try {
      return isDeepStrictEqual(JSON.parse(body), expectedData) ? 'equivalent' : 'mismatch';
    } catch {
      return 'mismatch';
    }
  };
}
