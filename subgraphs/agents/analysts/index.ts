import { writerAgent } from '../llm/writer.ts';
import { contentAuditor } from './content-auditor.ts';
import { leadScorer } from './lead-scorer.ts';
import { pipelineAnalyst } from './pipeline-analyst.ts';
import { salesSummary } from './sales-summary.ts';
import type { AgentKind, AgentKindDefinition } from './types.ts';

/** Every kind of agent, by kind: the four built-in analysts (no model needed) and the writer (llm/). */
export const agentKinds: Record<AgentKind, AgentKindDefinition> = {
  LEAD_SCORER: leadScorer,
  PIPELINE_ANALYST: pipelineAnalyst,
  CONTENT_AUDITOR: contentAuditor,
  SALES_SUMMARY: salesSummary,
  WRITER: writerAgent,
};
