import { agentKinds } from '../analysts/index.ts';
import type { AgentKind, AgentKindDefinition } from '../analysts/types.ts';

/*
 * Which definition runs a kind: the registry's (analysts/index.ts). Tests may stand in a
 * definition of their own for a kind (a slow one, one that fails) through `replaceKindForTests`;
 * nothing in production calls it, and a production process refuses it.
 */

const replaced = new Map<string, AgentKindDefinition>();

export function kindDefinition(kind: string): AgentKindDefinition | undefined {
  return replaced.get(kind) ?? (agentKinds as Record<string, AgentKindDefinition | undefined>)[kind];
}

/** Tests only: runs of `kind` use `definition` until restored (null restores the registry's). */
export function replaceKindForTests(kind: AgentKind, definition: AgentKindDefinition | null): void {
  if (process.env.NODE_ENV === 'production') throw new Error('replaceKindForTests is for tests');
  if (definition) replaced.set(kind, definition);
  else replaced.delete(kind);
}

/** Whether a language model is configured (LLM_BASE_URL): kinds that need one run only then. */
export const modelConfigured = (settings: { LLM_BASE_URL?: string | undefined }) => Boolean(settings.LLM_BASE_URL);
