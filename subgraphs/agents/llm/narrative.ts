import type { AgentKind, AnalystContext, AnalystResult, InsightDraft } from '../analysts/types.ts';
import { isRunError } from '../run-error.ts';

/** The most insights (and characters of each) the model is shown: the summary is of the whole, the details stay in the insights. */
const MAX_INSIGHTS = 60;
const MAX_BODY = 400;
const MAX_EVIDENCE = 400;
const NARRATIVE_PROGRESS = 95;

const KIND_NAMES: Record<AgentKind, string> = {
  LEAD_SCORER: 'lead scoring',
  PIPELINE_ANALYST: 'pipeline analysis',
  CONTENT_AUDITOR: 'content audit',
  SALES_SUMMARY: 'sales summary',
  WRITER: 'writer',
};

const SYSTEM = [
  'You are a business analyst writing for the team of a small company.',
  'Summarise the findings below in Markdown: a short overview paragraph, then the three to five points that matter most, each with its numbers.',
  'Use only the facts given; do not invent numbers, names or causes. At most 250 words.',
].join(' ');

/**
 * `result` with one more insight, `narrative` (severity info), summarising the kind's insights
 * in Markdown, when a model is configured and there is something to summarise. The analyst's own
 * insights stand whatever happens: a used-up budget or a model failure is logged on the run and
 * the result comes back unchanged. Only a cancelled run stops here.
 */
export async function addNarrative(ctx: AnalystContext, kind: AgentKind, result: AnalystResult): Promise<AnalystResult> {
  const model = ctx.model;
  const findings = result.insights.filter((insight) => insight.kind !== 'narrative');
  if (!model || findings.length === 0) return result;
  const name = KIND_NAMES[kind];
  try {
    await ctx.progress(NARRATIVE_PROGRESS, `Writing a summary of the ${name}`);
    const { text, usage } = await model.generate({ system: SYSTEM, prompt: prompt(name, findings), maxOutputTokens: 800, progress: NARRATIVE_PROGRESS });
    const narrative: InsightDraft = {
      kind: 'narrative',
      severity: 'info',
      title: `Summary of the ${name}`.slice(0, 200),
      body: text.trim().slice(0, 20_000),
      evidence: {
        insights: findings.length,
        bySeverity: countBy(findings.map((f) => f.severity)),
        byKind: countBy(findings.map((f) => f.kind)),
        model: model.name,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
      },
    };
    return { insights: [...result.insights, narrative] };
  } catch (error) {
    if (isRunError(error) && error.code === 'CANCELLED') throw error;
    const code = isRunError(error) ? error.code : 'INTERNAL';
    const message = isRunError(error) ? error.message : 'unexpected error';
    await ctx.log(`No summary: ${message} The ${name}'s insights are kept.`, { code });
    return result;
  }
}

/** The findings as compact text: severity, title, an excerpt of the body and the evidence. */
function prompt(name: string, findings: InsightDraft[]): string {
  const shown = [...findings].sort((a, b) => rank(b.severity) - rank(a.severity)).slice(0, MAX_INSIGHTS);
  const lines = shown.map((f, i) =>
    [`${i + 1}. [${f.severity}] ${f.title}`, `   ${clip(f.body.replace(/\s+/g, ' '), MAX_BODY)}`, `   evidence: ${clip(JSON.stringify(f.evidence), MAX_EVIDENCE)}`].join('\n'),
  );
  const more = findings.length > shown.length ? `\n(${findings.length - shown.length} less severe findings not shown.)` : '';
  return `Findings of the ${name} (${findings.length} in all, most severe first):\n\n${lines.join('\n')}${more}`;
}

const rank = (severity: string) => (severity === 'critical' ? 2 : severity === 'warning' ? 1 : 0);
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
