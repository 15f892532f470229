import type { z } from 'zod';
import type { Tx } from '../kit/db/database.ts';
import type { InputError } from '../kit/errors.ts';
import { isUuid } from '../kit/formats.ts';
import { InputProblems } from '../kit/mutations/problems.ts';
import { STANDARD_ERROR_CODES, subgraphMutations } from '../kit/mutations/subgraph-mutations.ts';
import type {
  AgentErrorCode,
  MutationCreateAgentArgs,
  MutationDeleteAgentArgs,
  MutationDismissInsightArgs,
  MutationRestoreInsightArgs,
  MutationUpdateAgentArgs,
} from './__generated__/resolvers-types.ts';
import { agentKinds } from './analysts/index.ts';
import type { AgentKind } from './analysts/types.ts';
import { checkSchedule } from './cron.ts';
import type { AgentsContext } from './loaders.ts';
import { publishEvents } from './runs/events.ts';
import { cancelQueuedRuns, rescheduleAgent } from './runs/schedule.ts';
import * as store from './store.ts';

/** The longest agent name (the agents_name_length CHECK says the same). */
export const NAME_MAX = 120;

const { write, reject, fail } = subgraphMutations<AgentErrorCode>(
  { ...STANDARD_ERROR_CODES, unique: 'DUPLICATE', tooLong: 'TOO_LONG' },
  {
    constraints: {
      agents_name_key: { field: 'name', code: 'DUPLICATE', message: 'An agent with this name exists.' },
      // The caller is no longer a member (removed while the request ran).
      agents_owner_fkey: { field: null, code: 'FORBIDDEN', message: 'You are not a member of this tenant.' },
    },
  },
);

class Problems extends InputProblems<AgentErrorCode> {
  /** The name trimmed, 1 to NAME_MAX characters. */
  name(value: string): string {
    const name = value.trim();
    // Characters as the database counts them (code points, char_length), not UTF-16 units.
    if (!name) this.add('name', 'Enter a name.', 'REQUIRED');
    else if ([...name].length > NAME_MAX) this.add('name', `At most ${NAME_MAX} characters.`, 'TOO_LONG');
    return name;
  }

  /** The kind's settings parsed by its schema (defaults filled in); each refusal on `settings.<path>`. */
  settings(kind: AgentKind, value: unknown): Record<string, unknown> {
    const parsed = settingsOf(kind, value ?? {});
    if ('errors' in parsed) for (const error of parsed.errors) this.list.push(error);
    return 'settings' in parsed ? parsed.settings : {};
  }

  /** The schedule normalised, or null for none. */
  schedule(value: string | null | undefined): string | null {
    if (value == null || value.trim() === '') return null;
    const checked = checkSchedule(value);
    if ('message' in checked) {
      this.add('schedule', checked.message, 'INVALID');
      return null;
    }
    return checked.schedule;
  }
}

/** Settings parsed by the kind's zod schema, or its refusals as payload errors (`settings.<path>`). */
export function settingsOf(kind: AgentKind, value: unknown): { settings: Record<string, unknown> } | { errors: InputError<AgentErrorCode>[] } {
  const definition = agentKinds[kind];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { errors: [{ field: 'settings', message: 'Settings are a JSON object.', code: 'INVALID' }] };
  }
  const parsed = definition.settings.safeParse(value);
  if (parsed.success) return { settings: parsed.data };
  return { errors: parsed.error.issues.map((issue: z.core.$ZodIssue) => ({ field: ['settings', ...issue.path.map(String)].join('.'), message: issue.message, code: 'INVALID' as const })) };
}

/**
 * The agent's pending scheduled run after a write (runs/schedule.ts, in the same transaction: the
 * old tick cancelled, the next one sent when it is enabled with a schedule), as the row says it.
 */
async function rescheduled(tx: Tx, agent: store.AgentRow): Promise<store.AgentRow> {
  const { scheduleJobId, nextRunAt } = await rescheduleAgent(tx, agent);
  return { ...agent, schedule_job_id: scheduleJobId, next_run_at: nextRunAt };
}

export async function createAgent(ctx: AgentsContext, { input }: MutationCreateAgentArgs) {
  const problems = new Problems();
  const name = problems.name(input.name);
  const settings = problems.settings(input.kind, input.settings);
  const schedule = problems.schedule(input.schedule);
  if (problems.any) return problems.failed();
  const enabled = input.enabled ?? true;
  return write(ctx.tx, async (tx) => {
    const agent = await store.insertAgent(tx, { kind: input.kind, name, settings, schedule, enabled }, ctx.principal.accountId);
    return schedule && enabled ? rescheduled(tx, agent) : agent;
  });
}

export async function updateAgent(ctx: AgentsContext, { id, input }: MutationUpdateAgentArgs) {
  // Its kind (which never changes) says how to read the settings: every problem is found before writing.
  const known = isUuid(id) ? await ctx.loaders.agent.load(id.toLowerCase()) : null;
  if (!known) return fail('id', 'No such agent.', 'NOT_FOUND');
  const problems = new Problems();
  if (input.schedule != null && input.clearSchedule) problems.add('schedule', 'Give a schedule or clearSchedule, not both.', 'INVALID');
  const name = input.name != null ? problems.name(input.name) : undefined;
  const settings = input.settings != null ? problems.settings(known.kind, input.settings) : undefined;
  const schedule = input.clearSchedule ? null : input.schedule != null ? problems.schedule(input.schedule) : undefined;
  if (problems.any) return problems.failed();
  return write(ctx.tx, async (tx) => {
    const current = (await store.agentForUpdate(tx, known.id)) ?? reject('id', 'No such agent.', 'NOT_FOUND');
    const changes: store.AgentValues = {};
    if (name !== undefined) changes.name = name;
    if (settings !== undefined) changes.settings = settings;
    if (schedule !== undefined) changes.schedule = schedule;
    if (input.enabled != null) changes.enabled = input.enabled;
    const agent = (await store.updateAgent(tx, current.id, changes)) ?? reject('id', 'No such agent.', 'NOT_FOUND');
    // A new schedule, or the agent switched on or off: its pending tick follows.
    const timing = (schedule !== undefined && schedule !== current.schedule) || (changes.enabled !== undefined && changes.enabled !== current.enabled);
    return timing ? rescheduled(tx, agent) : agent;
  });
}

/** Its queued runs are cancelled and its pending tick with it (runs/schedule.ts); running runs finish. */
export async function deleteAgent(ctx: AgentsContext, { id }: MutationDeleteAgentArgs) {
  if (!isUuid(id)) return fail('id', 'No such agent.', 'NOT_FOUND');
  let events: Awaited<ReturnType<typeof cancelQueuedRuns>> = [];
  const outcome = await write(ctx.tx, async (tx) => {
    const agent = (await store.agentForUpdate(tx, id.toLowerCase())) ?? reject('id', 'No such agent.', 'NOT_FOUND');
    events = await cancelQueuedRuns(tx, agent.id);
    return (await store.deleteAgent(tx, agent.id)) ?? reject('id', 'No such agent.', 'NOT_FOUND');
  });
  // Live followers of the cancelled runs see their end, once it has committed.
  if (outcome.value !== null) await publishEvents(ctx.deps, ctx.principal.tenantId!, events);
  return outcome;
}

export async function dismissInsight(ctx: AgentsContext, { id }: MutationDismissInsightArgs) {
  if (!isUuid(id)) return fail('id', 'No such insight.', 'NOT_FOUND');
  return write(ctx.tx, async (tx) => (await store.dismissInsight(tx, id.toLowerCase(), ctx.principal.accountId)) ?? reject('id', 'No such insight.', 'NOT_FOUND'));
}

export async function restoreInsight(ctx: AgentsContext, { id }: MutationRestoreInsightArgs) {
  if (!isUuid(id)) return fail('id', 'No such insight.', 'NOT_FOUND');
  return write(ctx.tx, async (tx) => (await store.restoreInsight(tx, id.toLowerCase())) ?? reject('id', 'No such insight.', 'NOT_FOUND'));
}
