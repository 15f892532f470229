import { inputError, type InputError } from '../errors.ts';

/**
 * Thrown inside a mutation's transaction (see runMutation): rolls the transaction back, and the
 * mutation answers with these errors. For rules found broken half-way (a lead already converted,
 * a locked row that is gone), where returning would commit what was written so far.
 */
export class Rejected<C extends string = string> extends Error {
  constructor(readonly errors: InputError<C>[]) {
    super(errors.map((e) => e.message).join(' '));
  }
}

/** `reject('id', 'No such lead.', 'NOT_FOUND')`: throws, so it also ends an expression (`row ?? reject(...)`). */
export const reject = <C extends string>(field: string | null, message: string, code: C): never => {
  throw new Rejected([inputError(field, message, code)]);
};

/** Like `reject`, with every error a validation found. */
export const rejectAll = <C extends string>(errors: InputError<C>[]): never => {
  throw new Rejected(errors);
};
