import type { InputError } from '../errors.ts';
import type { Outcome } from './outcome.ts';

// A mutation's GraphQL payload is its outcome's value under a field (`lead`, `deletedId`), or
// spread into several (`lead`, `contact`, `deal`), or a flag (`ok`), next to `errors`.

export type Payload<K extends string, T, C extends string> = { [P in K]: T | null } & { errors: InputError<C>[] };

/** `{ lead: row | null, errors }` of an Outcome<LeadRow>. */
export const payloadOf = <K extends string, T, C extends string>(field: K, outcome: Outcome<T, C>): Payload<K, T, C> =>
  ({ [field]: outcome.value, errors: outcome.errors }) as Payload<K, T, C>;

/** `{ ...value, errors }`, or every field null: `spreadPayloadOf(outcome, { lead: null, contact: null })`. */
export const spreadPayloadOf = <T extends object, C extends string>(outcome: Outcome<T, C>, none: { [P in keyof T]: null }) => ({
  ...(outcome.value ?? none),
  errors: outcome.errors,
});

/** `{ ok, errors }`: whether the mutation did it. */
export const okPayloadOf = <C extends string>(outcome: Outcome<unknown, C>) => ({ ok: outcome.value !== null, errors: outcome.errors });

/** A mutation as a module writes it: the request's context and the field's arguments. */
export type MutationFn<Ctx, A, T, C extends string> = (ctx: Ctx, args: A) => Promise<Outcome<T, C>>;

/**
 * The Mutation resolvers of mutation functions, so a resolver map says only which payload field
 * each fills:
 *
 *   const lead = payloadResolver('lead');
 *   Mutation: { createLead: lead(mutations.createLead), updateLead: lead(mutations.updateLead) }
 */
export const payloadResolver =
  <K extends string>(field: K) =>
  <Ctx, A, T, C extends string>(run: MutationFn<Ctx, A, T, C>) =>
  async (_root: unknown, args: A, ctx: Ctx) =>
    payloadOf(field, await run(ctx, args));

/** Resolver of `spreadPayloadOf`: `convertLead: spreadPayloadResolver({ lead: null, contact: null, deal: null })(mutations.convertLead)`. */
export const spreadPayloadResolver =
  <N extends Record<string, null>>(none: N) =>
  <Ctx, A, T extends { [P in keyof N]: unknown }, C extends string>(run: MutationFn<Ctx, A, T, C>) =>
  async (_root: unknown, args: A, ctx: Ctx) =>
    spreadPayloadOf(await run(ctx, args), none as { [P in keyof T]: null });

/** Resolver of `okPayloadOf`: `submitLeadForm: okPayloadResolver(forms.submitLeadForm)`. */
export const okPayloadResolver =
  <Ctx, A, C extends string>(run: MutationFn<Ctx, A, unknown, C>) =>
  async (_root: unknown, args: A, ctx: Ctx) =>
    okPayloadOf(await run(ctx, args));
