import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { bearer, gql } from './support/graphql.ts';
import { expectDocumented, openApiOperation, rest } from './support/rest.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

/*
 * `/api/brain/agents/*` (the CrewAI service's paths) over HTTP at the gateway, on real PostgreSQL
 * and Redis with the demo data: FastAPI's shapes (snake_case, `{items, total, page, size, pages}`,
 * `{"detail"}` errors, 422 for bad input), each answer checked against the OpenAPI document, the
 * runs' refusals (404, 403, 409, 429), and tenant isolation. The live events route has its own
 * file (agents-sse.test.ts).
 */

const GLOBEX = DEMO_TENANTS.find((t) => t.slug === 'globex')!.id;
const TERMINAL = ['succeeded', 'failed', 'cancelled'];

let stack: RunningSupergraph;
let api: string;
let document: any;
let owner: string;
let viewer: string;
let globex: string;
let agents: any[];
let run: any;

const agentOf = (kind: string) => agents.find((a) => a.kind === kind)!;

/** Polls the run until it has finished (the executor works it in the background). */
async function finished(id: string, token = owner) {
  for (let tries = 0; tries < 600; tries++) {
    const answer = await rest(`${api}/agents/runs/${id}`, { token });
    if (TERMINAL.includes(answer.body.status)) return answer.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${id} did not finish`);
}

beforeAll(async () => {
  stack = await startSupergraph();
  api = `${stack.base}/api/brain`;
  [owner, viewer, globex] = await Promise.all(['owner@acme.example', 'viewer@acme.example', 'owner@globex.example'].map((e) => stack.token(e)));
  document = (await rest(`${api}/openapi.json`)).body;
  agents = (await rest(`${api}/agents/agents`, { token: owner })).body.items;
  const started = await rest(`${api}/agents/agents/${agentOf('pipeline_analyst').id}/run`, { method: 'POST', token: owner });
  expect(started.status).toBe(202);
  run = await finished(started.body.id);
}, 120_000); // the whole supergraph, then a run to its end
afterAll(() => stack?.close());

describe('the agents REST paths', () => {
  it('are in the OpenAPI document, the events route as a text/event-stream', () => {
    const paths = Object.keys(document.paths).filter((p) => p.startsWith('/api/brain/agents/'));
    expect(paths.sort()).toEqual(
      [
        '/api/brain/agents/agents',
        '/api/brain/agents/agents/{id}/run',
        '/api/brain/agents/insights',
        '/api/brain/agents/runs/{id}',
        '/api/brain/agents/runs/{id}/cancel',
        '/api/brain/agents/runs/{id}/events',
      ].sort(),
    );
    const events = openApiOperation(document, 'agentsRunEvents');
    expect(Object.keys(events.responses['200'].content)).toEqual(['text/event-stream']);
    expect(events['x-graphql-operation']).toMatch(/agentRun\(id: \$id\)/);
    expect(events.responses['404']).toBeTruthy();
    expect(events.responses['429']).toBeTruthy();
    expect(openApiOperation(document, 'agentsRun').requestBody.required).toBe(false);
  });

  it('answer 401 without a token, in FastAPI’s words', async () => {
    for (const [method, path] of [
      ['GET', '/agents/insights'],
      ['GET', '/agents/agents'],
      ['POST', `/agents/agents/${agents[0].id}/run`],
      ['GET', `/agents/runs/${run.id}`],
      ['POST', `/agents/runs/${run.id}/cancel`],
    ]) {
      const answer = await rest(`${api}${path}`, { method });
      expect(answer.status, `${method} ${path}`).toBe(401);
      expect(answer.body).toEqual({ detail: 'Unauthorized' });
    }
  });

  it('list agents a page at a time, with filters', async () => {
    const all = await rest(`${api}/agents/agents`, { token: owner });
    expect(all.status).toBe(200);
    expectDocumented(document, 'agentsList', all.body);
    expect(all.body).toMatchObject({ total: 4, page: 1, size: 50, pages: 1 });
    expect(all.body.items.map((a: any) => a.kind).sort()).toEqual(['content_auditor', 'lead_scorer', 'pipeline_analyst', 'sales_summary']);
    const pipeline = all.body.items.find((a: any) => a.kind === 'pipeline_analyst');
    expect(pipeline).toMatchObject({ enabled: true, schedule: null, last_run: { id: run.id, status: run.status } });

    const first = await rest(`${api}/agents/agents?size=3`, { token: owner });
    const second = await rest(`${api}/agents/agents?size=3&page=2`, { token: owner });
    expect(first.body).toMatchObject({ total: 4, page: 1, size: 3, pages: 2 });
    expect(second.body).toMatchObject({ total: 4, page: 2, size: 3, pages: 2 });
    expect([...first.body.items, ...second.body.items].map((a: any) => a.id)).toEqual(all.body.items.map((a: any) => a.id));
    expect((await rest(`${api}/agents/agents?size=3&page=3`, { token: owner })).body).toMatchObject({ items: [], total: 4, page: 3 });

    const scorers = await rest(`${api}/agents/agents?kind=lead_scorer`, { token: owner });
    expect(scorers.body.items.map((a: any) => a.kind)).toEqual(['lead_scorer']);
    expect((await rest(`${api}/agents/agents?enabled=false`, { token: owner })).body.total).toBe(0);
  });

  it('refuse bad query parameters and bodies with 422 and FastAPI’s locations', async () => {
    const page = await rest(`${api}/agents/agents?page=0`, { token: owner });
    expect(page.status).toBe(422);
    expect(page.body.detail[0]).toMatchObject({ loc: ['query', 'page'] });
    const size = await rest(`${api}/agents/insights?size=101`, { token: owner });
    expect(size.status).toBe(422);
    expect(size.body.detail[0]).toMatchObject({ loc: ['query', 'size'] });
    const subject = await rest(`${api}/agents/insights?subject_id=x`, { token: owner });
    expect(subject.status).toBe(422);
    expect(subject.body.detail[0]).toMatchObject({ loc: ['query', 'subject_type'], msg: 'Field required' });
    const body = await rest(`${api}/agents/agents/${agents[0].id}/run`, { method: 'POST', token: owner, json: { brief: 'x', draft: 'poem' } });
    expect(body.status).toBe(422);
    expect(body.body.detail[0]).toMatchObject({ loc: ['body', 'draft'] });
  });

  it('read a run, its insights and their filters', async () => {
    const answer = await rest(`${api}/agents/runs/${run.id}`, { token: viewer });
    expect(answer.status).toBe(200);
    expectDocumented(document, 'agentsRunGet', answer.body);
    expect(answer.body).toMatchObject({ id: run.id, agent_id: agentOf('pipeline_analyst').id, status: 'succeeded', trigger: 'manual', progress: 100, error: null });
    expect(answer.body.events_url).toBe(`${api}/agents/runs/${run.id}/events`);

    const insights = await rest(answer.body.insights_url, { token: owner });
    expect(insights.status).toBe(200);
    expectDocumented(document, 'agentsInsights', insights.body);
    const stored = await gql(stack.graphql, 'query($id: ID!) { agentRun(id: $id) { insights { id severity kind } } }', { id: run.id }, bearer(owner));
    const expected = stored.data!.agentRun.insights as { id: string; severity: string; kind: string }[];
    expect(expected.length).toBeGreaterThan(1);
    expect(insights.body.total).toBe(expected.length);
    expect(insights.body.items.map((i: any) => i.id).sort()).toEqual(expected.map((i) => i.id).sort());
    expect(insights.body.items.every((i: any) => i.run_id === run.id && i.agent_id === run.agent_id)).toBe(true);

    // Pages of one cover the list once, in the same order.
    const byRun = `${api}/agents/insights?run_id=${run.id}`;
    const pages = [];
    for (let page = 1; page <= expected.length; page++) pages.push(...(await rest(`${byRun}&size=1&page=${page}`, { token: owner })).body.items);
    expect(pages.map((i: any) => i.id)).toEqual(insights.body.items.map((i: any) => i.id));

    const severity = expected[0]!.severity.toLowerCase();
    const filtered = await rest(`${byRun}&severity=${severity}&kind=${expected[0]!.kind}`, { token: owner });
    expect(filtered.body.total).toBe(expected.filter((i) => i.severity.toLowerCase() === severity && i.kind === expected[0]!.kind).length);
    expect(filtered.body.items.every((i: any) => i.severity === severity)).toBe(true);

    // Dismissed ones: only when asked for.
    const target = insights.body.items[0];
    const dismissed = await gql(stack.graphql, 'mutation($id: ID!) { dismissInsight(id: $id) { errors { code } } }', { id: target.id }, bearer(owner));
    expect(dismissed.data!.dismissInsight.errors).toEqual([]);
    expect((await rest(byRun, { token: owner })).body.total).toBe(expected.length - 1);
    const onlyDismissed = (await rest(`${byRun}&dismissed=true`, { token: owner })).body;
    expect(onlyDismissed.items).toEqual([expect.objectContaining({ id: target.id, dismissed_by: expect.any(String), dismissed_at: expect.any(String) })]);
    expect((await rest(`${byRun}&dismissed=all`, { token: owner })).body.total).toBe(expected.length);

    const withSubject = insights.body.items.find((i: any) => i.subject);
    if (withSubject) {
      const about = await rest(`${api}/agents/insights?dismissed=all&subject_type=${withSubject.subject.type}&subject_id=${encodeURIComponent(withSubject.subject.id)}`, { token: owner });
      expect(about.body.items.map((i: any) => i.id)).toContain(withSubject.id);
      expect(about.body.items.every((i: any) => i.subject?.id === withSubject.subject.id)).toBe(true);
    }
  });

  it('run an agent (202) and refuse what the graph refuses: 404, 409 for a disabled agent, 429 past the daily quota', async () => {
    expect((await rest(`${api}/agents/agents/00000000-0000-4000-8000-000000000000/run`, { method: 'POST', token: owner })).body).toEqual({ detail: 'Agent not found' });
    expect((await rest(`${api}/agents/agents/nope/run`, { method: 'POST', token: owner })).status).toBe(404);

    const auditor = agentOf('content_auditor');
    const disable = 'mutation($id: ID!, $enabled: Boolean!) { updateAgent(id: $id, input: { enabled: $enabled }) { errors { code } } }';
    await gql(stack.graphql, disable, { id: auditor.id, enabled: false }, bearer(owner));
    try {
      const refused = await rest(`${api}/agents/agents/${auditor.id}/run`, { method: 'POST', token: owner, json: {} });
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toEqual(expect.any(String));
    } finally {
      await gql(stack.graphql, disable, { id: auditor.id, enabled: true }, bearer(owner));
    }

    // globex has used up today's runs (written as the quota counts them).
    const quota = Number(stack.backends.env.AGENTS_DAILY_RUNS ?? 200);
    await stack.backends.db.withTenant({ tenantId: GLOBEX, accountId: null }, (tx) =>
      tx.query(
        `INSERT INTO agents.daily_usage (tenant_id, day, runs) VALUES ($1, (now() AT TIME ZONE 'UTC')::date, $2)
         ON CONFLICT (tenant_id, day) DO UPDATE SET runs = $2`,
        [GLOBEX, quota],
      ),
    );
    const theirs = (await rest(`${api}/agents/agents`, { token: globex })).body.items[0];
    const over = await rest(`${api}/agents/agents/${theirs.id}/run`, { method: 'POST', token: globex });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.body.detail).toEqual(expect.any(String));
  });

  it('cancel: who started the run or an admin; a finished run stays as it was', async () => {
    const forbidden = await rest(`${api}/agents/runs/${run.id}/cancel`, { method: 'POST', token: viewer });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.detail).toEqual(expect.any(String));
    const cancelled = await rest(`${api}/agents/runs/${run.id}/cancel`, { method: 'POST', token: owner });
    expect(cancelled.status).toBe(200);
    expectDocumented(document, 'agentsRunCancel', cancelled.body);
    expect(cancelled.body).toMatchObject({ id: run.id, status: 'succeeded' });

    // A viewer's own run is the viewer's to cancel.
    const started = await rest(`${api}/agents/agents/${agentOf('sales_summary').id}/run`, { method: 'POST', token: viewer });
    expect(started.status).toBe(202);
    expectDocumented(document, 'agentsRun', started.body, '202');
    const own = await rest(`${api}/agents/runs/${started.body.id}/cancel`, { method: 'POST', token: viewer });
    expect(own.status).toBe(200);
    expect(['cancelled', 'succeeded', 'failed']).toContain((await finished(started.body.id, viewer)).status);
  });

  it('keep tenants apart: globex sees none of acme’s runs and insights', async () => {
    expect((await rest(`${api}/agents/runs/${run.id}`, { token: globex })).body).toEqual({ detail: 'Run not found' });
    expect((await rest(`${api}/agents/runs/${run.id}/cancel`, { method: 'POST', token: globex })).status).toBe(404);
    expect((await rest(`${api}/agents/agents/${agentOf('lead_scorer').id}/run`, { method: 'POST', token: globex })).status).toBe(404);
    const theirs = await rest(`${api}/agents/insights?dismissed=all&run_id=${run.id}`, { token: globex });
    expect(theirs.body).toMatchObject({ items: [], total: 0 });
    const agentsOfGlobex = (await rest(`${api}/agents/agents`, { token: globex })).body.items.map((a: any) => a.id);
    expect(agentsOfGlobex.some((id: string) => agents.some((a) => a.id === id))).toBe(false);
  });
});
