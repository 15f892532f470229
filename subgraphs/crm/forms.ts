import { createHash, randomBytes } from 'node:crypto';
import { rateLimited } from '../kit/errors.ts';
import { fail, failed, ok } from '../kit/mutations/outcome.ts';
import { hit } from '../kit/rate-limit.ts';
import type { LeadFormCreateInput, LeadFormSubmissionInput } from './__generated__/resolvers-types.ts';
import { LIMITS } from './domain.ts';
import type { CrmContext } from './loaders.ts';
import { reject, write, type Outcome } from './mutations.ts';
import * as store from './store.ts';
import { Problems } from './validate.ts';

/*
 * Lead-capture forms. An admin creates a form and gets its key once: `lf_` and 32 random
 * base64url characters (192 bits). Only the key's SHA-256 is stored. A public form posts the key
 * with `submitLeadForm`, anonymously: a narrow SECURITY DEFINER function maps the key's hash to
 * its tenant and form, and the lead is then written in that tenant's transaction under RLS.
 *
 * Posts are rate-limited before anything else (so guessing keys is throttled too): per client
 * IP and per key, fixed windows in Redis (counted per process while Redis is down, like every kit limit).
 */

export const FORM_RATE_LIMITS = {
  /** Posts per client IP per window (all forms). */
  perIp: 10,
  /** Posts per form key per window (all IPs). */
  perKey: 60,
  windowSeconds: 60,
} as const;

const KEY = /^lf_[A-Za-z0-9_-]{32}$/;
export const formKeyHash = (key: string) => createHash('sha256').update(key).digest();

export function newFormKey() {
  const key = `lf_${randomBytes(24).toString('base64url')}`;
  return { key, hash: formKeyHash(key), prefix: key.slice(0, 9) };
}

/** A new form and its key (shown this once): the fields of LeadFormPayload. */
export async function createLeadForm(
  ctx: CrmContext,
  { input }: { input: LeadFormCreateInput },
): Promise<Outcome<{ leadForm: store.LeadFormRow; formKey: string }>> {
  const problems = new Problems();
  const name = problems.text('name', input.name, LIMITS.formName, true)!;
  const source = problems.text('source', input.source, LIMITS.source) ?? `form:${name}`.slice(0, LIMITS.source);
  const ownerId = problems.id('ownerId', input.ownerId);
  const tags = problems.tags('tags', input.tags);
  if (problems.any) return problems.failed();
  const key = newFormKey();
  return write(ctx.tx, async (tx) => {
    const leadForm = await store.insertLeadForm(tx, { name, keyHash: key.hash, keyPrefix: key.prefix, source, ownerId, tags });
    return { leadForm, formKey: key.key };
  });
}

export async function deleteLeadForm(ctx: CrmContext, { id }: { id: string }): Promise<Outcome<string>> {
  const problems = new Problems();
  const formId = problems.id('id', id);
  if (problems.any) return problems.failed();
  return write(ctx.tx, async (tx) => (await store.deleteLeadForm(tx, formId!)) ?? reject('id', 'No such form.', 'NOT_FOUND'));
}

const unknownKey = () => fail('formKey', 'Unknown form key.', 'INVALID_FORM_KEY');

async function throttle(ctx: CrmContext, formKey: string) {
  const { redis, config } = ctx.deps;
  const prefix = config.REDIS_PREFIX;
  const keyTag = createHash('sha256').update(formKey).digest('base64url').slice(0, 22);
  const [ip, key] = await Promise.all([
    hit(redis, `${prefix}{ip:${ctx.clientIp}}:crm-form`, FORM_RATE_LIMITS.perIp, FORM_RATE_LIMITS.windowSeconds),
    hit(redis, `${prefix}{form:${keyTag}}:crm-form`, FORM_RATE_LIMITS.perKey, FORM_RATE_LIMITS.windowSeconds),
  ]);
  const denied = [ip, key].filter((r) => !r.allowed);
  if (denied.length) throw rateLimited(Math.max(...denied.map((r) => r.retryAfterSeconds)));
}

/** The anonymous post of a public form; true when a lead was created. */
export async function submitLeadForm(
  ctx: CrmContext,
  { formKey, input }: { formKey: string; input: LeadFormSubmissionInput },
): Promise<Outcome<true>> {
  await throttle(ctx, formKey);
  const problems = new Problems();
  if (Buffer.byteLength(JSON.stringify(input)) > LIMITS.formBytes) {
    problems.add(null, `The form data is larger than ${LIMITS.formBytes} bytes.`, 'TOO_LONG');
    return problems.failed();
  }
  if (!KEY.test(formKey)) return unknownKey();
  const lead = {
    name: problems.text('name', input.name, LIMITS.name, true)!,
    email: problems.email('email', input.email, true)!,
    phone: problems.text('phone', input.phone, LIMITS.phone),
    company: problems.text('company', input.company, LIMITS.company),
    title: problems.text('title', input.title, LIMITS.title),
    notes: problems.text('message', input.message, LIMITS.formMessage),
  };
  if (problems.any) return problems.failed();

  const form = await ctx.tx((tx) => store.leadFormTenant(tx, formKeyHash(formKey)));
  if (!form) return unknownKey();
  // The form's tenant scope: RLS lets this transaction write that tenant's rows only.
  const written = await write(
    (fn) => ctx.deps.db.withTenant({ tenantId: form.tenant_id, accountId: null }, fn),
    (tx) => store.insertLeadFromForm(tx, form.form_id, lead),
  );
  if (written.value === null) return written.errors.length ? failed(written.errors) : unknownKey();
  ctx.touchedTenants.add(form.tenant_id); // its cached CRM answers are stale now
  return ok(true);
}
