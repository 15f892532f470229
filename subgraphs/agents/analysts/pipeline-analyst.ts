import { z } from 'zod';
import { RunError } from '../run-error.ts';
import { collectAll, type Connection } from './connection.ts';
import { body, day, esc, money, percent, table, title } from './markdown.ts';
import { daysBetween, groupBy, median, round } from './stats.ts';
import type { AgentKindDefinition, AnalystContext, InsightDraft } from './types.ts';

/*
 * Pipeline analyst: deals stuck in their stage, overdue activities, the forecast by expected
 * close month and how deals move through the stages, from crm through the gateway.
 *
 * "Stuck": a deal's days in its stage (crm's Deal.stageEnteredAt) against the stage's norm, the
 * median days in stage of the stage's open deals (the whole pipeline's median when the stage has
 * fewer than `minDealsForNorm`). crm keeps only the current stage, not how long earlier deals
 * stayed, so the norm is taken over the deals there now; their stays are not over yet, so the
 * median runs short of a finished stay, which `stuckFactor` (default 2x) makes up for.
 */

export const pipelineAnalystSettings = z.object({
  stuckFactor: z.number().min(1).max(100).default(2).describe("A deal is stuck past this multiple of its stage's median days in stage."),
  minStuckDays: z.number().int().min(0).max(3650).default(7).describe('...and at least this many days in the stage.'),
  minDealsForNorm: z.number().int().min(1).max(1000).default(3).describe("Open deals a stage needs for a norm of its own (otherwise the pipeline's median)."),
  maxStuckDeals: z.number().int().min(0).max(100).default(20).describe('Stuck deals reported one by one (most overdue first); the rest are counted.'),
  forecastMonths: z.number().int().min(1).max(36).default(6).describe('Months of forecast from the current one; later close dates are summed as "later".'),
  maxOverdueListed: z.number().int().min(1).max(200).default(20).describe('Overdue activities listed in their insight (all are counted).'),
});
type Settings = z.infer<typeof pipelineAnalystSettings>;

interface Stage {
  id: string;
  name: string;
  position: number;
  probability: number;
  kind: 'OPEN' | 'WON' | 'LOST';
}
interface DealNode {
  id: string;
  title: string;
  amount: number | null;
  currency: string;
  probability: number;
  expectedCloseDate: string | null;
  stageEnteredAt: string;
  closedAt: string | null;
  stage: { id: string };
  owner: { id: string } | null;
}
interface ActivityNode {
  id: string;
  type: string;
  subject: string;
  dueAt: string;
  account: { id: string } | null;
  lead: { id: string; name: string } | null;
  contact: { id: string; name: string } | null;
  deal: { id: string; title: string } | null;
}

const STAGES = `query AgentPipeline { pipeline { stages { stage { id name position probability kind } } } }`;
const DEALS = `query AgentDeals($first: Int, $after: String) {
  deals(first: $first, after: $after, sortBy: { field: CREATED_AT, direction: DESC }) {
    edges { node { id title amount currency probability expectedCloseDate stageEnteredAt closedAt stage { id } owner { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const OVERDUE = `query AgentOverdue($first: Int, $after: String, $filter: ActivityFilter) {
  activities(first: $first, after: $after, filter: $filter, sortBy: { field: DUE_AT, direction: ASC }) {
    edges { node { id type subject dueAt account { id } lead { id name } contact { id name } deal { id title } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Sums per currency, as "12,000 USD; 300 EUR". */
class Amounts {
  readonly byCurrency = new Map<string, number>();
  add(currency: string, amount: number) {
    this.byCurrency.set(currency, (this.byCurrency.get(currency) ?? 0) + amount);
    return this;
  }
  toJSON() {
    return Object.fromEntries([...this.byCurrency].map(([c, a]) => [c, round(a, 2)]));
  }
  toString() {
    return [...this.byCurrency].map(([c, a]) => money(round(a, 2), c)).join('; ') || '0';
  }
}

async function run(ctx: AnalystContext) {
  const settings = pipelineAnalystSettings.parse(ctx.settings);
  await ctx.progress(5, 'Reading the pipeline');
  const pipeline = await ctx.gateway.query<{ pipeline: { stages: { stage: Stage }[] } | null }>(STAGES);
  if (!pipeline.pipeline) throw new RunError('UPSTREAM_ERROR', 'The pipeline could not be read.');
  const stages = pipeline.pipeline.stages.map((s) => s.stage).sort((a, b) => a.position - b.position);
  const stageById = new Map(stages.map((s) => [s.id, s]));
  await ctx.progress(15, 'Reading the deals');
  const deals = await collectAll<DealNode, { deals: Connection<DealNode> | null }>(ctx, DEALS, {}, (d) => d.deals);
  await ctx.progress(55, 'Reading overdue activities');
  const overdue = await collectAll<ActivityNode, { activities: Connection<ActivityNode> | null }>(
    ctx,
    OVERDUE,
    { filter: { done: false, dueBefore: ctx.now.toISOString() } },
    (d) => d.activities,
  );
  await ctx.progress(85, 'Analysing');
  // A deal whose stage was deleted meanwhile has none here: it is left out.
  const known = deals.filter((d) => stageById.has(d.stage.id));
  const open = known.filter((d) => stageById.get(d.stage.id)!.kind === 'OPEN');
  const { insights: stuck, perStage } = stuckDeals(open, stages, settings, ctx.now);
  const insights: InsightDraft[] = [...stuck];
  insights.push(stageInsight(known, stages, perStage));
  insights.push(forecastInsight(open, settings, ctx.now));
  if (overdue.length) insights.push(overdueInsight(overdue, settings, ctx.now));
  return { insights };
}

interface StageStats {
  stageId: string;
  openDeals: number;
  medianDays: number | null;
  /** Where the norm came from: the stage's own deals or, with too few, the whole pipeline's. */
  normFrom: 'stage' | 'pipeline';
  thresholdDays: number | null;
  stuck: number;
}

function stuckDeals(open: DealNode[], stages: Stage[], settings: Settings, now: Date) {
  const days = (d: DealNode) => daysBetween(d.stageEnteredAt, now);
  const pipelineMedian = median(open.map(days));
  const byStage = groupBy(open, (d) => d.stage.id);
  const perStage = new Map<string, StageStats>();
  const found: { deal: DealNode; stage: Stage; days: number; stats: StageStats }[] = [];
  for (const stage of stages.filter((s) => s.kind === 'OPEN')) {
    const inStage = byStage.get(stage.id) ?? [];
    const own = inStage.length >= settings.minDealsForNorm;
    const norm = own ? median(inStage.map(days)) : pipelineMedian;
    const threshold = norm == null ? null : Math.max(norm * settings.stuckFactor, settings.minStuckDays);
    const stats: StageStats = {
      stageId: stage.id,
      openDeals: inStage.length,
      medianDays: norm == null ? null : round(norm, 1),
      normFrom: own ? 'stage' : 'pipeline',
      thresholdDays: threshold == null ? null : round(threshold, 1),
      stuck: 0,
    };
    perStage.set(stage.id, stats);
    if (threshold == null) continue;
    for (const deal of inStage) {
      if (days(deal) > threshold) {
        stats.stuck++;
        found.push({ deal, stage, days: days(deal), stats });
      }
    }
  }
  // Most overdue relative to the stage's norm first.
  found.sort((a, b) => b.days / b.stats.thresholdDays! - a.days / a.stats.thresholdDays! || a.deal.id.localeCompare(b.deal.id));
  const insights = found.slice(0, settings.maxStuckDeals).map(({ deal, stage, days: d, stats }): InsightDraft => {
    const shown = Math.floor(d);
    const amount = deal.amount == null ? 'no amount' : money(deal.amount, deal.currency);
    return {
      kind: 'stuck_deal',
      severity: d >= 2 * stats.thresholdDays! ? 'critical' : 'warning',
      title: title(`${deal.title}: ${shown} days in ${stage.name} (usually ${Math.round(stats.medianDays!)})`),
      body: body([
        `**${esc(deal.title)}** (${esc(amount)}) has been in **${esc(stage.name)}** since ${day(deal.stageEnteredAt)}: ${shown} days.`,
        `The ${stats.normFrom === 'stage' ? `${stats.openDeals} open deals in this stage` : 'open deals of the pipeline'} have been in their stage ${stats.medianDays} days (median); a deal is flagged past ${stats.thresholdDays} days (${settings.stuckFactor}x the median, at least ${settings.minStuckDays}).`,
        deal.expectedCloseDate && deal.expectedCloseDate < day(now) ? `Its expected close date, ${deal.expectedCloseDate}, has passed.` : '',
      ]),
      subject: { type: 'Deal', id: deal.id },
      evidence: {
        stageId: stage.id,
        stage: stage.name,
        daysInStage: round(d, 1),
        stageEnteredAt: deal.stageEnteredAt,
        medianDaysInStage: stats.medianDays,
        normFrom: stats.normFrom,
        thresholdDays: stats.thresholdDays,
        openDealsInStage: stats.openDeals,
        amount: deal.amount,
        currency: deal.currency,
        expectedCloseDate: deal.expectedCloseDate,
      },
    };
  });
  return { insights, perStage, stuckTotal: found.length };
}

/*
 * How far deals get. crm knows each deal's current stage only, so a deal counts as having
 * reached every open stage up to its own, and a won deal every open stage; a lost deal's last
 * open stage is unknown, so lost deals count in the win rate only.
 */
function stageInsight(deals: DealNode[], stages: Stage[], perStage: Map<string, StageStats>): InsightDraft {
  const position = new Map(stages.map((s) => [s.id, s]));
  const won = deals.filter((d) => position.get(d.stage.id)!.kind === 'WON').length;
  const lost = deals.filter((d) => position.get(d.stage.id)!.kind === 'LOST').length;
  const openStages = stages.filter((s) => s.kind === 'OPEN');
  const openDeals = deals.filter((d) => position.get(d.stage.id)!.kind === 'OPEN');
  const rows = openStages.map((stage) => {
    const inStage = openDeals.filter((d) => d.stage.id === stage.id);
    const reached = openDeals.filter((d) => position.get(d.stage.id)!.position >= stage.position).length + won;
    const amounts = new Amounts();
    const weighted = new Amounts();
    for (const d of inStage) {
      amounts.add(d.currency, d.amount ?? 0);
      weighted.add(d.currency, ((d.amount ?? 0) * d.probability) / 100);
    }
    return { stage, deals: inStage.length, reached, amounts, weighted, stats: perStage.get(stage.id)! };
  });
  const withConversion = rows.map((row, i) => {
    const next = i + 1 < rows.length ? rows[i + 1]!.reached : won;
    return { ...row, toNext: row.reached ? round((next / row.reached) * 100, 1) : null };
  });
  const winRate = won + lost ? round((won / (won + lost)) * 100, 1) : null;
  const stuck = rows.reduce((a, r) => a + r.stats.stuck, 0);
  return {
    kind: 'stage_conversion',
    severity: 'info',
    title: title(`Pipeline: ${openDeals.length} open deals, win rate ${percent(winRate)}, ${stuck} stuck`),
    body: body([
      `${won} deals won and ${lost} lost so far: a win rate of ${percent(winRate)}.`,
      table(
        ['Stage', 'Open deals', 'Amount', 'Weighted', 'Median days in stage', 'Stuck', 'Reached', 'On to next'],
        withConversion.map((r) => [
          esc(r.stage.name),
          r.deals,
          r.amounts.toString(),
          r.weighted.toString(),
          r.stats.medianDays ?? '–',
          r.stats.stuck,
          r.reached,
          percent(r.toNext),
        ]),
      ),
      '"Reached" counts the deals in the stage or a later one, plus the won deals; "on to next" is the share of those that got to the next stage (after the last open stage: won). crm keeps only the current stage of a deal, so lost deals, whose last stage is unknown, count in the win rate only.',
    ]),
    evidence: {
      won,
      lost,
      winRate,
      openDeals: openDeals.length,
      stuck,
      stages: withConversion.map((r) => ({
        stageId: r.stage.id,
        stage: r.stage.name,
        position: r.stage.position,
        openDeals: r.deals,
        amounts: r.amounts.toJSON(),
        weighted: r.weighted.toJSON(),
        medianDaysInStage: r.stats.medianDays,
        normFrom: r.stats.normFrom,
        thresholdDays: r.stats.thresholdDays,
        stuck: r.stats.stuck,
        reached: r.reached,
        conversionToNext: r.toNext,
      })),
    },
  };
}

/** Open deals by expected close month (UTC): count, amount and amount x probability, per currency. */
function forecastInsight(open: DealNode[], settings: Settings, now: Date): InsightDraft {
  const thisMonth = day(now).slice(0, 7);
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + settings.forecastMonths - 1, 1));
  const lastMonth = day(last).slice(0, 7);
  const bucketOf = (d: DealNode) => {
    if (!d.expectedCloseDate) return 'no date';
    const month = d.expectedCloseDate.slice(0, 7);
    return month < thisMonth ? 'overdue' : month > lastMonth ? 'later' : month;
  };
  const buckets = new Map<string, { deals: number; amounts: Amounts; weighted: Amounts }>();
  for (const d of open) {
    const key = bucketOf(d);
    const b = buckets.get(key) ?? { deals: 0, amounts: new Amounts(), weighted: new Amounts() };
    b.deals++;
    b.amounts.add(d.currency, d.amount ?? 0);
    b.weighted.add(d.currency, ((d.amount ?? 0) * d.probability) / 100);
    buckets.set(key, b);
  }
  const months: string[] = [];
  for (let i = 0; i < settings.forecastMonths; i++) months.push(day(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i, 1))).slice(0, 7));
  const order = ['overdue', ...months, 'later', 'no date'];
  const rows = order.filter((k) => buckets.has(k) || months.includes(k)).map((k) => ({ bucket: k, ...(buckets.get(k) ?? { deals: 0, amounts: new Amounts(), weighted: new Amounts() }) }));
  const horizon = new Amounts();
  for (const r of rows) if (months.includes(r.bucket)) for (const [c, a] of r.weighted.byCurrency) horizon.add(c, a);
  const overdue = buckets.get('overdue')?.deals ?? 0;
  return {
    kind: 'forecast',
    severity: overdue ? 'warning' : 'info',
    title: title(`Forecast ${months[0]} to ${months.at(-1)}: ${horizon} weighted${overdue ? `; ${overdue} open deals past their close date` : ''}`),
    body: body([
      `Open deals by expected close month; "weighted" is each deal's amount times its probability.${overdue ? ` ${overdue} open deals have an expected close date that has passed ("overdue"): update or close them.` : ''}`,
      table(['Month', 'Deals', 'Amount', 'Weighted'], rows.map((r) => [r.bucket, r.deals, r.amounts.toString(), r.weighted.toString()])),
    ]),
    evidence: {
      months: rows.map((r) => ({ month: r.bucket, deals: r.deals, amounts: r.amounts.toJSON(), weighted: r.weighted.toJSON() })),
      weightedInHorizon: horizon.toJSON(),
      overdueDeals: overdue,
    },
  };
}

function overdueInsight(activities: ActivityNode[], settings: Settings, now: Date): InsightDraft {
  const daysLate = (a: ActivityNode) => Math.floor(daysBetween(a.dueAt, now));
  const on = (a: ActivityNode) =>
    a.deal ? `deal ${esc(a.deal.title)}` : a.lead ? `lead ${esc(a.lead.name)}` : a.contact ? `contact ${esc(a.contact.name)}` : '–';
  const byType: Record<string, number> = {};
  for (const a of activities) byType[a.type] = (byType[a.type] ?? 0) + 1;
  const oldest = Math.max(...activities.map(daysLate));
  return {
    kind: 'overdue_activities',
    severity: oldest >= 30 ? 'critical' : 'warning',
    title: title(`${activities.length} activities are overdue (the oldest by ${oldest} days)`),
    body: body([
      `${activities.length} open activities are past their due date.`,
      table(
        ['Due', 'Days late', 'Type', 'Subject', 'On'],
        activities.map((a) => [day(a.dueAt), daysLate(a), a.type, esc(a.subject), on(a)]),
        settings.maxOverdueListed,
      ),
    ]),
    evidence: {
      count: activities.length,
      oldestDaysLate: oldest,
      byType,
      // The ids (at most 500) so a client can link them.
      activityIds: activities.slice(0, 500).map((a) => a.id),
    },
  };
}

export const pipelineAnalyst: AgentKindDefinition = {
  kind: 'PIPELINE_ANALYST',
  description:
    "Finds deals stuck in a stage longer than the tenant's norm for it, overdue activities, the forecast by expected close month and how deals convert from stage to stage.",
  needsModel: false,
  settings: pipelineAnalystSettings,
  run,
};
