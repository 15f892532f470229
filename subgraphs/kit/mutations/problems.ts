import type { InputError } from '../errors.ts';
import { failed, type Outcome } from './outcome.ts';

/**
 * The problems found in one mutation's input, collected so that the client learns all of them
 * at once. Subgraphs extend it with readers that check and clean one field each (see
 * crm/validate.ts); a mutation with any problem writes nothing:
 *
 *   const problems = new Problems();
 *   const name = problems.text('name', input.name, LIMITS.name, true);
 *   if (problems.any) return problems.failed();
 */
export class InputProblems<C extends string> {
  constructor(
    /** Prefix of every field name (`deal.` for the problems of a nested input). */
    protected readonly prefix = '',
    readonly list: InputError<C>[] = [],
  ) {}

  /** A problem of `field` (null: of the whole input, or of the nested input this collects for). */
  add(field: string | null, message: string, code: C): void {
    const at = field === null ? (this.prefix ? this.prefix.slice(0, -1) : null) : this.prefix + field;
    this.list.push({ field: at, message, code });
  }

  get any(): boolean {
    return this.list.length > 0;
  }

  /** The problems of a nested input (`deal` + `.title`), collected in this same list. */
  nested(prefix: string): this {
    const Collector = this.constructor as new (prefix: string, list: InputError<C>[]) => this;
    return new Collector(`${this.prefix}${prefix}.`, this.list);
  }

  /** The outcome of the mutation these problems stop. */
  failed(): Outcome<never, C> {
    return failed(this.list);
  }
}
