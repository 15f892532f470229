import { z } from 'zod';
import { isRunError, RunError } from '../run-error.ts';
import { checkAborted, chunks, collectAll, type Connection } from './connection.ts';
import { body, esc, percent, table, title } from './markdown.ts';
import { daysBetween, logit, round, sigmoid } from './stats.ts';
import type { AgentKindDefinition, AnalystContext, InsightDraft } from './types.ts';

/*
 * Lead scorer: a 0-100 score for every open lead (NEW, CONTACTED, QUALIFIED), learnt from the
 * tenant's own closed leads, explained factor by factor, and written back with crm's
 * `updateLead` through the gateway as the run's member.
 *
 * The model (a smoothed naive-Bayes / weight-of-evidence score; small enough to explain):
 * - History: closed leads. WON = converted (unless the deal it became is in a LOST stage);
 *   LOST = unqualified, or converted into a deal that was lost. Base rate p0 = (won + 1) /
 *   (won + lost + 2).
 * - Learnt factors: source, contact fields present (email, phone, company, title: 0-4), number
 *   of activities logged (0, 1-2, 3-5, 6+) and whether someone owns the lead. For the lead's
 *   value v of a factor, the history's rate r_v = (won_v + k * p0) / (n_v + k): with few closed
 *   leads of that value it stays near p0 (k = `priorStrength` pseudo-leads). Its effect is
 *   logit(r_v) - logit(p0), in log-odds.
 * - Fixed factors, since crm keeps no history of them: status (a closed lead's earlier status
 *   is gone; QUALIFIED is further along than NEW) and how recently the lead was touched (a
 *   closed lead's recency says nothing about an open one's). Their effects are constants below.
 * - Score = round(100 * sigmoid(logit(p0) + sum of effects)): roughly the chance, in percent,
 *   that the lead converts. Naive Bayes counts correlated factors twice; the smoothing and the
 *   small fixed effects keep that in bounds, and each score lists its factors so people can judge.
 * With fewer than `minHistory` closed leads nothing is learnt (only p0 and the fixed factors):
 * the summary says so.
 */

export const leadScorerSettings = z.object({
  priorStrength: z.number().min(0).max(1000).default(10).describe("Pseudo-leads pulling each factor's rate towards the tenant's overall rate (more: more cautious)."),
  minHistory: z.number().int().min(0).max(100_000).default(20).describe('Closed leads needed before factors are learnt from them.'),
  topLeads: z.number().int().min(0).max(50).default(10).describe('How many of the best open leads get an insight of their own.'),
  staleDays: z.number().int().min(1).max(3650).default(14).describe('A top lead untouched for this many days is flagged (warning).'),
  writeScores: z.boolean().default(true).describe("Write the scores to the leads (false: report only; a viewer's run needs that)."),
  writeBatchSize: z.number().int().min(1).max(15).default(10).describe('Lead updates per gateway request (aliased mutations; the gateway allows 15 aliases).'),
});
type Settings = z.infer<typeof leadScorerSettings>;

const OPEN_STATUSES = ['NEW', 'CONTACTED', 'QUALIFIED'] as const;
/** Log-odds for the open statuses (fixed: see above). */
const STATUS_EFFECT: Record<string, number> = { NEW: 0, CONTACTED: 0.25, QUALIFIED: 0.75 };
/** Log-odds by days since the last activity (or creation): fixed (see above). */
const RECENCY: { maxDays: number; label: string; effect: number }[] = [
  { maxDays: 7, label: 'touched within 7 days', effect: 0.25 },
  { maxDays: 30, label: 'touched within 30 days', effect: 0 },
  { maxDays: 90, label: 'untouched for 30-90 days', effect: -0.5 },
  { maxDays: Infinity, label: 'untouched for over 90 days', effect: -1 },
];

interface LeadNode {
  id: string;
  name: string;
  company: string | null;
  email: string | null;
  phone: string | null;
  title: string | null;
  source: string | null;
  status: string;
  score: number;
  owner: { id: string } | null;
  createdAt: string;
  lastActivityAt: string | null;
  activities: { totalCount: number };
  convertedDeal?: { stage: { kind: string } } | null;
}

const LEAD_FIELDS = `id name company email phone title source status score owner { id } createdAt lastActivityAt
  activities(first: 0) { totalCount }`;
const LEADS = (extra: string) => `query AgentLeads($first: Int, $after: String, $filter: LeadFilter) {
  leads(first: $first, after: $after, filter: $filter, sortBy: { field: CREATED_AT, direction: DESC }) {
    edges { node { ${LEAD_FIELDS} ${extra} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** The learnt factors: the lead's value of each (a string, so the history can be counted by it). */
const LEARNT: { name: string; label: string; value: (lead: LeadNode) => string }[] = [
  { name: 'source', label: 'Source', value: (l) => l.source?.trim().toLowerCase() || '(none)' },
  {
    name: 'completeness',
    label: 'Contact fields',
    value: (l) => `${[l.email, l.phone, l.company, l.title].filter((v) => v && v.trim()).length} of 4`,
  },
  {
    name: 'activities',
    label: 'Activities',
    value: (l) => {
      const n = l.activities.totalCount;
      return n === 0 ? '0' : n <= 2 ? '1-2' : n <= 5 ? '3-5' : '6+';
    },
  },
  { name: 'owner', label: 'Owner', value: (l) => (l.owner ? 'assigned' : 'unassigned') },
];

export interface Factor {
  factor: string;
  value: string;
  /** Log-odds added to the base rate's. */
  effect: number;
  /** Learnt factors: closed leads with this value, and how many of them were won. */
  closed?: number;
  won?: number;
  learnt: boolean;
}

interface Model {
  baseRate: number;
  won: number;
  lost: number;
  learnt: boolean;
  /** factor name -> value -> counts */
  counts: Map<string, Map<string, { won: number; n: number }>>;
}

export function buildModel(history: LeadNode[], settings: Settings): Model {
  const counts = new Map(LEARNT.map((f) => [f.name, new Map<string, { won: number; n: number }>()]));
  let won = 0;
  let lost = 0;
  for (const lead of history) {
    const isWon = lead.status === 'CONVERTED' && lead.convertedDeal?.stage.kind !== 'LOST';
    if (isWon) won++;
    else lost++;
    for (const f of LEARNT) {
      const byValue = counts.get(f.name)!;
      const value = f.value(lead);
      const c = byValue.get(value) ?? { won: 0, n: 0 };
      c.n++;
      if (isWon) c.won++;
      byValue.set(value, c);
    }
  }
  return { baseRate: (won + 1) / (won + lost + 2), won, lost, learnt: won + lost >= settings.minHistory, counts };
}

export function scoreLead(lead: LeadNode, model: Model, settings: Settings, now: Date): { score: number; probability: number; factors: Factor[] } {
  const factors: Factor[] = [];
  const p0 = model.baseRate;
  if (model.learnt) {
    for (const f of LEARNT) {
      const value = f.value(lead);
      const c = model.counts.get(f.name)!.get(value) ?? { won: 0, n: 0 };
      const rate = (c.won + settings.priorStrength * p0) / (c.n + settings.priorStrength);
      // A value no closed lead had (and k = 0) has no rate: no effect.
      const effect = c.n + settings.priorStrength > 0 ? logit(rate) - logit(p0) : 0;
      factors.push({ factor: f.label, value, effect: round(effect, 3), closed: c.n, won: c.won, learnt: true });
    }
  }
  factors.push({ factor: 'Status', value: lead.status, effect: STATUS_EFFECT[lead.status] ?? 0, learnt: false });
  const idle = daysBetween(lead.lastActivityAt ?? lead.createdAt, now);
  const recency = RECENCY.find((r) => idle <= r.maxDays)!;
  factors.push({ factor: 'Recency', value: recency.label, effect: recency.effect, learnt: false });
  const probability = sigmoid(logit(p0) + factors.reduce((a, f) => a + f.effect, 0));
  return { score: Math.min(100, Math.max(0, Math.round(probability * 100))), probability, factors };
}

const MAY_NOT_UPDATE = 'The member this agent runs as may not update leads, so no scores could be written.';
/** crm lets these roles update leads (subgraphs/crm/permissions.ts: editors and above). */
const LEAD_WRITERS = new Set(['OWNER', 'ADMIN', 'EDITOR']);

const UPDATE_FIELDS = 'lead { id score } errors { code message }';

/** One request of aliased `updateLead` mutations (crm has no bulk update; aliases keep it one round trip). */
async function writeScores(ctx: AnalystContext, batch: { id: string; score: number }[]): Promise<{ written: number; rejected: string[] }> {
  const params = batch.map((_, i) => `$id${i}: ID!, $s${i}: Int!`).join(', ');
  const fields = batch.map((_, i) => `l${i}: updateLead(id: $id${i}, input: { score: $s${i} }) { ${UPDATE_FIELDS} }`).join('\n');
  const variables = Object.fromEntries(batch.flatMap((lead, i) => [[`id${i}`, lead.id], [`s${i}`, lead.score]]));
  let data: Record<string, { lead: { id: string } | null; errors: { code: string }[] } | null>;
  try {
    data = await ctx.gateway.query(`mutation AgentLeadScores(${params}) {\n${fields}\n}`, variables);
  } catch (error) {
    if (isRunError(error) && error.code === 'FORBIDDEN') {
      throw new RunError('FORBIDDEN', MAY_NOT_UPDATE, false);
    }
    throw error;
  }
  const rejected = batch.filter((_, i) => !data[`l${i}`]?.lead).map((lead) => lead.id);
  return { written: batch.length - rejected.length, rejected };
}

const explain = (f: Factor): string => {
  const effect = `${f.effect >= 0 ? '+' : ''}${f.effect.toFixed(2)}`;
  const why = f.learnt
    ? `${f.won} of ${f.closed} closed leads like this converted`
    : 'fixed (crm keeps no history of it)';
  return `| ${esc(f.factor)} | ${esc(f.value)} | ${effect} | ${why} |`;
};

async function run(ctx: AnalystContext) {
  const settings = leadScorerSettings.parse(ctx.settings);
  if (settings.writeScores) {
    // Checked first, so a viewer's run fails at once and the same way whether or not a score
    // changed; crm decides again on every write (a member demoted meanwhile fails there).
    const { viewer } = await ctx.gateway.query<{ viewer: { roles: string[] } | null }>('query AgentRoles { viewer { roles } }');
    if (!viewer?.roles.some((role) => LEAD_WRITERS.has(role))) throw new RunError('FORBIDDEN', MAY_NOT_UPDATE, false);
  }
  await ctx.progress(5, 'Reading the conversion history');
  const history = await collectAll<LeadNode, { leads: Connection<LeadNode> | null }>(
    ctx,
    LEADS('convertedDeal { stage { kind } }'),
    { filter: { status: ['CONVERTED', 'UNQUALIFIED'] } },
    (d) => d.leads,
  );
  const model = buildModel(history, settings);
  await ctx.progress(30, `Learnt from ${history.length} closed leads; reading the open leads`);
  const open = await collectAll<LeadNode, { leads: Connection<LeadNode> | null }>(
    ctx,
    LEADS(''),
    { filter: { status: OPEN_STATUSES } },
    (d) => d.leads,
  );
  checkAborted(ctx.signal);
  await ctx.progress(55, `Scoring ${open.length} open leads`);
  const scored = open
    .map((lead) => ({ lead, ...scoreLead(lead, model, settings, ctx.now) }))
    .sort((a, b) => b.score - a.score || a.lead.id.localeCompare(b.lead.id));

  let written = 0;
  const rejected: string[] = [];
  const changed = scored.filter((s) => s.score !== s.lead.score);
  if (settings.writeScores && changed.length) {
    const batches = chunks(changed, settings.writeBatchSize);
    for (const [i, batch] of batches.entries()) {
      checkAborted(ctx.signal);
      const result = await writeScores(ctx, batch.map((s) => ({ id: s.lead.id, score: s.score })));
      written += result.written;
      rejected.push(...result.rejected);
      if (i % 20 === 19 || i === batches.length - 1) {
        await ctx.progress(60 + Math.round((35 * (i + 1)) / batches.length), `Wrote ${written} of ${changed.length} changed scores`);
      }
    }
    // A lead converted or deleted since it was read: its score no longer matters.
    if (rejected.length) await ctx.log(`${rejected.length} leads changed while scoring and were not updated`, { leadIds: rejected.slice(0, 100) });
  }

  const insights: InsightDraft[] = [summary(scored, model, settings, { written, changed: changed.length, rejected: rejected.length })];
  for (const s of scored.slice(0, settings.topLeads)) insights.push(leadInsight(s, model, settings, ctx.now));
  return { insights };
}

type Scored = { lead: LeadNode; score: number; probability: number; factors: Factor[] };

function leadInsight({ lead, score, probability, factors }: Scored, model: Model, settings: Settings, now: Date): InsightDraft {
  const idle = Math.floor(daysBetween(lead.lastActivityAt ?? lead.createdAt, now));
  const cold = idle >= settings.staleDays;
  const who = lead.company ? `${lead.name} (${lead.company})` : lead.name;
  return {
    kind: 'lead_score',
    severity: cold ? 'warning' : 'info',
    title: title(`${who}: score ${score}${cold ? `, untouched for ${idle} days` : ''}`),
    body: body([
      `**${esc(who)}** scores **${score}** of 100: about ${percent(round(probability * 100, 1))} chance to convert, against ${percent(round(model.baseRate * 100, 1))} for the tenant's closed leads overall.`,
      cold ? `Nobody has touched this lead for ${idle} days: one of the best open leads is going cold.` : '',
      '| Factor | Value | Effect (log-odds) | Why |\n| --- | --- | --- | --- |\n' + factors.map(explain).join('\n'),
    ]),
    subject: { type: 'Lead', id: lead.id },
    evidence: {
      score,
      previousScore: lead.score,
      probability: round(probability, 4),
      baseRate: round(model.baseRate, 4),
      daysSinceTouched: idle,
      factors,
    },
  };
}

function summary(scored: Scored[], model: Model, settings: Settings, writes: { written: number; changed: number; rejected: number }): InsightDraft {
  const bands = { hot: 0, warm: 0, cold: 0 };
  for (const s of scored) bands[s.score >= 60 ? 'hot' : s.score >= 30 ? 'warm' : 'cold']++;
  const sources = [...(model.counts.get('source') ?? new Map<string, { won: number; n: number }>()).entries()]
    .map(([source, c]) => ({ source, won: c.won, lost: c.n - c.won, rate: round(c.won / c.n, 4) }))
    .sort((a, b) => b.rate - a.rate || b.won - a.won);
  const writeLine = !settings.writeScores
    ? 'Scores were not written (the agent is set to report only).'
    : `Written to the leads: ${writes.written} changed scores (unchanged: ${scored.length - writes.changed}${writes.rejected ? `; skipped, as the lead changed meanwhile: ${writes.rejected}` : ''}).`;
  return {
    kind: 'lead_score_summary',
    severity: 'info',
    title: title(`Scored ${scored.length} open leads: ${bands.hot} hot, ${bands.warm} warm, ${bands.cold} cold`),
    body: body([
      `Scores come from the tenant's own history: ${model.won} converted and ${model.lost} lost leads (conversion rate ${percent(round(model.baseRate * 100, 1))}).`,
      model.learnt
        ? 'Each lead is compared with closed leads of the same source, contact details, activity and ownership; status and recency add fixed amounts.'
        : `Only ${model.won + model.lost} leads are closed (fewer than ${settings.minHistory}): nothing was learnt from them yet, scores use the overall rate, status and recency.`,
      writeLine,
      `Hot (60+): ${bands.hot} · warm (30-59): ${bands.warm} · cold (under 30): ${bands.cold}.`,
      sources.length
        ? '**Conversion by source**\n\n' + table(['Source', 'Converted', 'Lost', 'Rate'], sources.map((s) => [esc(s.source), s.won, s.lost, percent(s.rate * 100)]))
        : '',
    ]),
    evidence: {
      scored: scored.length,
      written: writes.written,
      unchanged: scored.length - writes.changed,
      skipped: writes.rejected,
      history: { won: model.won, lost: model.lost },
      baseRate: round(model.baseRate, 4),
      learnt: model.learnt,
      bands,
      sources,
    },
  };
}

export const leadScorer: AgentKindDefinition = {
  kind: 'LEAD_SCORER',
  description:
    "Scores every open lead 0-100 against the tenant's own conversion history (source, contact details, activity, owner, status, recency), explains each score and writes it to the lead.",
  needsModel: false,
  settings: leadScorerSettings,
  run,
};
