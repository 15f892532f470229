import { ONE_STATEMENT } from '../../kit/db/database.ts';
import { badInput } from '../../kit/errors.ts';
import { payloadResolver } from '../../kit/mutations/payload.ts';
import type { Resolvers } from '../__generated__/resolvers-types.ts';
import * as mutations from './mutations.ts';
import * as store from './store.ts';

/** A whole number argument within `min`..`max`, `fallback` when omitted. */
function bounded(value: number | null | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value == null) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(`"${name}" must be between ${min} and ${max}.`, name);
  return value;
}

const agentRun = payloadResolver('agentRun');

/** The runs' resolvers, merged into the subgraph's (resolvers.ts). */
export const runResolvers: Resolvers = {
  Mutation: {
    runAgent: agentRun(mutations.runAgent),
    cancelAgentRun: agentRun(mutations.cancelAgentRun),
  },
  AgentRun: {
    /** Read in the request's transaction: row-level security decides whose events exist. */
    events: (run, args, ctx) => {
      const after = bounded(args.after, 'after', 0, 0, 2 ** 31 - 1);
      const first = bounded(args.first, 'first', 100, 1, 500);
      return ctx.tx((tx) => store.eventsAfter(tx, run.id, after, first), ONE_STATEMENT);
    },
  },
};
