import { isUuid } from '../kit/formats.ts';
import type { Problems } from './validate.ts';

// Dashboard slugs: unique in the tenant, lower-case letters, digits and dashes, never a UUID's
// shape (so `dashboard(idOrSlug)` knows which it was given). The bi.dashboards CHECK says the same.

export const SLUG_MAX = 100;
const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** The slug of a title: "Sales & Pipeline (Q3)" -> "sales-pipeline-q3"; "dashboard" when nothing is left. */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, SLUG_MAX)
    .replace(/^-+|-+$/g, '');
  if (!slug) return 'dashboard';
  return isUuid(slug) ? `${slug}-dashboard` : slug;
}

/** A slug the client gave, checked. */
export function checkSlug(problems: Problems, field: string, value: string): string | null {
  const slug = value.trim();
  if (!SLUG.test(slug) || slug.length > SLUG_MAX || isUuid(slug)) {
    problems.add(field, `Use 1-${SLUG_MAX} lower-case letters, digits and single dashes (not at the ends, not a UUID).`, 'INVALID');
    return null;
  }
  return slug;
}
