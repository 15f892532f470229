import { EMAIL, isUuid, SALEOR_CHANNEL } from '../kit/formats.ts';
import { InputProblems } from '../kit/mutations/problems.ts';
import type { CrmErrorCode } from './__generated__/resolvers-types.ts';
import { CURRENCY, LIMITS } from './domain.ts';

// Input checks of the CRM mutations. Each reader records problems (field, message, code) and
// returns the cleaned value; a mutation with any problem writes nothing.

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Control characters other than tab, newline and carriage return. */
const hasControl = (text: string) =>
  [...text].some((c) => {
    const code = c.charCodeAt(0);
    return (code < 32 && c !== '\t' && c !== '\n' && c !== '\r') || code === 127;
  });

/** Collects the problems of one CRM input, with a reader for each kind of field. */
export class Problems extends InputProblems<CrmErrorCode> {
  /** Trimmed text; empty becomes null (or REQUIRED when required). */
  text(field: string, value: string | null | undefined, max: number, required = false): string | null {
    if (value == null || value.trim() === '') {
      if (required) this.add(field, 'This field is required.', 'REQUIRED');
      return null;
    }
    const text = value.trim();
    if (text.length > max) this.add(field, `At most ${max} characters.`, 'TOO_LONG');
    else if (hasControl(text)) this.add(field, 'Contains control characters.', 'INVALID');
    return text;
  }

  email(field: string, value: string | null | undefined, required = false): string | null {
    const text = this.text(field, value, LIMITS.email, required);
    if (text === null) return null;
    if (!EMAIL.test(text)) {
      this.add(field, 'Enter a valid email address.', 'INVALID');
      return null;
    }
    return text.toLowerCase();
  }

  intRange(field: string, value: number | null | undefined, range: { min: number; max: number }): number | null {
    if (value == null) return null;
    const { min, max } = range;
    if (!Number.isInteger(value) || value < min || value > max) {
      this.add(field, `Must be between ${min} and ${max}.`, 'OUT_OF_RANGE');
      return null;
    }
    return value;
  }

  /** Tags: trimmed, de-duplicated (case-insensitively), at most LIMITS.tags of LIMITS.tag characters. */
  tags(field: string, value: readonly string[] | null | undefined): string[] {
    if (!value) return [];
    const seen = new Set<string>();
    const tags: string[] = [];
    for (const raw of value) {
      const tag = raw.trim();
      if (!tag) continue;
      if (tag.length > LIMITS.tag || hasControl(tag)) {
        this.add(field, `Tags are 1 to ${LIMITS.tag} characters.`, 'INVALID');
        return [];
      }
      if (seen.has(tag.toLowerCase())) continue;
      seen.add(tag.toLowerCase());
      tags.push(tag);
    }
    if (tags.length > LIMITS.tags) this.add(field, `At most ${LIMITS.tags} tags.`, 'TOO_LONG');
    return tags;
  }

  /** An id of ours (a UUID); anything else cannot exist. */
  id(field: string, value: string | null | undefined): string | null {
    if (value == null) return null;
    if (!isUuid(value)) {
      this.add(field, 'No such object.', 'NOT_FOUND');
      return null;
    }
    return value.toLowerCase();
  }

  currency(field: string, value: string | null | undefined): string | null {
    if (value == null) return null;
    const code = value.trim().toUpperCase();
    if (!CURRENCY.test(code)) {
      this.add(field, 'Use a three-letter ISO 4217 currency code.', 'INVALID');
      return null;
    }
    return code;
  }

  amount(field: string, value: number | null | undefined): number | null {
    if (value == null) return null;
    if (!Number.isFinite(value) || value < 0 || value >= 1e12) {
      this.add(field, 'Must be between 0 and 999999999999.99.', 'OUT_OF_RANGE');
      return null;
    }
    if (Math.abs(Math.round(value * 100) - value * 100) > 1e-6) {
      this.add(field, 'At most two decimals.', 'INVALID');
      return null;
    }
    return value;
  }

  date(field: string, value: string | null | undefined): string | null {
    if (value == null) return null;
    const parsed = DATE.test(value) ? new Date(`${value}T00:00:00Z`) : null;
    if (!parsed || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== value) {
      this.add(field, 'Use a date as YYYY-MM-DD.', 'INVALID');
      return null;
    }
    return value;
  }

  dateTime(field: string, value: unknown): Date | null {
    if (value == null) return null;
    const parsed = typeof value === 'string' || value instanceof Date ? new Date(value) : null;
    if (!parsed || Number.isNaN(parsed.getTime()) || parsed.getUTCFullYear() < 1900 || parsed.getUTCFullYear() > 9999) {
      this.add(field, 'Use an ISO 8601 date and time.', 'INVALID');
      return null;
    }
    return parsed;
  }

  /** Saleor products: base64 global IDs of "Product:<pk>", each with an optional channel slug. */
  products(field: string, value: readonly { productId: string; channel?: string | null }[] | null | undefined) {
    if (!value) return [];
    if (value.length > LIMITS.products) {
      this.add(field, `At most ${LIMITS.products} products.`, 'TOO_LONG');
      return [];
    }
    const seen = new Set<string>();
    const products: { productId: string; channel: string | null }[] = [];
    for (const item of value) {
      const productId = item.productId.trim();
      const decoded = productId.length <= LIMITS.productId && BASE64.test(productId) ? Buffer.from(productId, 'base64').toString('utf8') : '';
      if (!/^Product:\d{1,18}$/.test(decoded)) {
        this.add(field, `Not a Saleor product id: ${productId.slice(0, 60)}.`, 'INVALID');
        return [];
      }
      const channel = item.channel?.trim() || null;
      if (channel !== null && !SALEOR_CHANNEL.test(channel)) {
        this.add(field, 'Not a valid Saleor channel slug.', 'INVALID');
        return [];
      }
      const key = `${productId}|${channel ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      products.push({ productId, channel });
    }
    return products;
  }
}

/** Only the keys the client sent (a key with null clears the field; a missing key is unchanged). */
export const has = <T extends object>(input: T, key: keyof T) => Object.prototype.hasOwnProperty.call(input, key);
