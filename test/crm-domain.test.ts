import { Kind, parse, type EnumTypeDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import crm from '../subgraphs/crm/index.ts';
import { ACTIVITY_TYPES, CURRENCY, LEAD_STATUSES, LIMITS, RANGES, SETTABLE_LEAD_STATUSES, STAGE_KINDS } from '../subgraphs/crm/domain.ts';
import { SALEOR_CHANNEL } from '../subgraphs/kit/formats.ts';
import { bearer, gql } from './support/graphql.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

// The CRM's domain rules are written once (subgraphs/crm/domain.ts) for the store, the input
// checks and the REST shim. Two other places hold them and cannot import it: the SDL the subgraph
// serves, and the CHECK constraints of the migrated database. These tests fail when either
// disagrees with the module, and write the values and the longest texts through GraphQL.

let stack: RunningSubgraphs;
let url: string;
let token: string;
/** The CHECK constraints of the crm schema: table and definition (as pg_get_constraintdef prints it). */
let checks: { table: string; def: string }[];

beforeAll(async () => {
  stack = await startSubgraphs([auth, crm]);
  url = stack.urls.crm!;
  token = await stack.login('owner@acme.example');
  checks = await stack.backends.db.withTenant({ tenantId: null, accountId: null }, async (tx) => {
    const { rows } = await tx.query<{ table: string; def: string }>(
      `SELECT c.conrelid::regclass::text AS table, pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c WHERE c.contype = 'c' AND c.connamespace = 'crm'::regnamespace ORDER BY 1, 2`,
    );
    return rows;
  });
});
afterAll(() => stack?.close());

const call = (query: string, variables: Record<string, unknown> = {}) => gql(url, query, variables, bearer(token));

/** The values a CHECK allows a column, from `CHECK ((status = ANY (ARRAY['new'::text, ...])))`. */
function allowedValues(table: string, column: string): string[] {
  const pattern = new RegExp(`\\(${column} = ANY \\(ARRAY\\[([^\\]]*)\\]\\)\\)`);
  const found = checks.filter((c) => c.table === table).map((c) => pattern.exec(c.def)).find(Boolean);
  if (!found) throw new Error(`no CHECK of the values of ${table}.${column}: ${JSON.stringify(checks.filter((c) => c.table === table))}`);
  return [...found[1]!.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
}

/** Every `length(column) <= n` of the schema, as `table.column` -> n. */
function lengthChecks(): Map<string, number> {
  const lengths = new Map<string, number>();
  for (const { table, def } of checks) {
    for (const [, column, max] of def.matchAll(/length\((\w+)\) <= (\d+)/g)) lengths.set(`${table}.${column}`, Number(max));
  }
  return lengths;
}

/** `[min, max]` of a `column >= min AND column <= max` CHECK. */
function range(table: string, column: string): [number, number] {
  const def = checks.find((c) => c.table === table && c.def.includes(`(${column} >=`))?.def ?? '';
  const min = new RegExp(`\\(${column} >= (-?\\d+)\\)`).exec(def);
  const max = new RegExp(`\\(${column} <= (-?\\d+)\\)`).exec(def);
  if (!min || !max) throw new Error(`no range CHECK of ${table}.${column}`);
  return [Number(min[1]), Number(max[1])];
}

/** The regular expression a `column ~ '...'` CHECK matches against. */
function pattern(table: string, column: string): string {
  const found = checks.filter((c) => c.table === table).map((c) => new RegExp(`\\(${column} ~ '([^']*)'`).exec(c.def)).find(Boolean);
  if (!found) throw new Error(`no pattern CHECK of ${table}.${column}`);
  return found[1]!;
}

/** Which limit of domain.ts each length CHECK of the database is. */
const COLUMN_LIMITS: Record<string, number> = {
  'crm.leads.name': LIMITS.name,
  'crm.leads.email': LIMITS.email,
  'crm.leads.phone': LIMITS.phone,
  'crm.leads.company': LIMITS.company,
  'crm.leads.title': LIMITS.title,
  'crm.leads.source': LIMITS.source,
  'crm.leads.notes': LIMITS.notes,
  'crm.contacts.name': LIMITS.name,
  'crm.contacts.email': LIMITS.email,
  'crm.contacts.phone': LIMITS.phone,
  'crm.contacts.company': LIMITS.company,
  'crm.contacts.title': LIMITS.title,
  'crm.contacts.notes': LIMITS.notes,
  'crm.deals.title': LIMITS.title,
  'crm.deals.notes': LIMITS.notes,
  'crm.deal_products.product_id': LIMITS.productId,
  'crm.activities.subject': LIMITS.subject,
  'crm.activities.body': LIMITS.notes,
  'crm.pipeline_stages.name': LIMITS.stageName,
  'crm.lead_forms.name': LIMITS.formName,
  'crm.lead_forms.source': LIMITS.source,
};

describe('the enums', () => {
  const ENUMS = [
    { sdl: 'LeadStatus', values: LEAD_STATUSES, table: 'crm.leads', column: 'status' },
    { sdl: 'ActivityType', values: ACTIVITY_TYPES, table: 'crm.activities', column: 'type' },
    { sdl: 'PipelineStageKind', values: STAGE_KINDS, table: 'crm.pipeline_stages', column: 'kind' },
  ];

  it('the SDL the subgraph serves has the values of domain.ts, upper-cased', async () => {
    const { data } = await gql(url, '{ _service { sdl } }');
    const definitions = parse(data!._service.sdl).definitions;
    for (const { sdl, values } of ENUMS) {
      const node = definitions.find((d): d is EnumTypeDefinitionNode => d.kind === Kind.ENUM_TYPE_DEFINITION && d.name.value === sdl);
      expect(node?.values?.map((v) => v.name.value), sdl).toEqual(values.map((v) => v.toUpperCase()));
    }
  });

  it("the database's CHECK constraints allow exactly the values of domain.ts", () => {
    for (const { table, column, values } of ENUMS) expect(allowedValues(table, column).sort(), `${table}.${column}`).toEqual([...values].sort());
  });

  it('every value is written and read back through GraphQL, and filters by it', async () => {
    const created: string[] = [];
    for (const status of SETTABLE_LEAD_STATUSES) {
      const result = await call('mutation($s: LeadStatus) { createLead(input: { name: "Domain lead", status: $s }) { lead { id status } errors { code } } }', {
        s: status.toUpperCase(),
      });
      expect(result.data!.createLead).toMatchObject({ lead: { status: status.toUpperCase() }, errors: [] });
      created.push(result.data!.createLead.lead.id);
    }
    const lead = created[0]!;
    for (const type of ACTIVITY_TYPES) {
      const result = await call('mutation($t: ActivityType!, $l: ID!) { logActivity(input: { type: $t, subject: "Domain", leadId: $l }) { activity { type } errors { code } } }', {
        t: type.toUpperCase(),
        l: lead,
      });
      expect(result.data!.logActivity).toEqual({ activity: { type: type.toUpperCase() }, errors: [] });
    }
    for (const kind of STAGE_KINDS) {
      const result = await call('mutation($k: PipelineStageKind, $n: String!) { createPipelineStage(input: { name: $n, kind: $k }) { stage { kind } errors { code } } }', {
        k: kind.toUpperCase(),
        n: `Domain ${kind}`,
      });
      expect(result.data!.createPipelineStage).toEqual({ stage: { kind: kind.toUpperCase() }, errors: [] });
    }
    const filtered = await call('query($s: [LeadStatus!]) { leads(first: 100, filter: { status: $s, search: "Domain" }) { edges { node { id } } } }', {
      s: SETTABLE_LEAD_STATUSES.map((s) => s.toUpperCase()),
    });
    expect(filtered.data!.leads.edges.map((e: any) => e.node.id).sort()).toEqual([...created].sort());
  });
});

describe('lengths, ranges and formats', () => {
  it("every length the database CHECKs is domain.ts's limit for that field", () => {
    const lengths = Object.fromEntries(lengthChecks());
    expect(lengths).toEqual(COLUMN_LIMITS);
  });

  it("the database's ranges, currency and channel patterns are domain.ts's and the kit's", () => {
    expect(range('crm.leads', 'score')).toEqual([RANGES.score.min, RANGES.score.max]);
    expect(range('crm.deals', 'probability')).toEqual([RANGES.probability.min, RANGES.probability.max]);
    expect(range('crm.pipeline_stages', 'probability')).toEqual([RANGES.probability.min, RANGES.probability.max]);
    expect(pattern('crm.deals', 'currency')).toBe(CURRENCY.source);
    expect(pattern('crm.deal_products', 'channel')).toBe(SALEOR_CHANNEL.source);
    const tags = checks.filter((c) => /cardinality\(tags\) <= (\d+)/.test(c.def)).map((c) => Number(/cardinality\(tags\) <= (\d+)/.exec(c.def)![1]));
    expect(tags.length).toBeGreaterThan(0);
    expect(new Set(tags)).toEqual(new Set([LIMITS.tags]));
  });

  it('a text of the longest length is stored; one character more is refused before the database', async () => {
    const CREATE = 'mutation($i: LeadCreateInput!) { createLead(input: $i) { lead { id } errors { field code } } }';
    const fields = { name: LIMITS.name, phone: LIMITS.phone, company: LIMITS.company, title: LIMITS.title, source: LIMITS.source, notes: LIMITS.notes };
    const longest = Object.fromEntries(Object.entries(fields).map(([field, max]) => [field, 'x'.repeat(max)]));
    const stored = await call(CREATE, { i: longest });
    expect(stored.data!.createLead.errors).toEqual([]);
    for (const [field, max] of Object.entries(fields)) {
      const refused = await call(CREATE, { i: { name: 'Too long', [field]: 'x'.repeat(max + 1) } });
      expect(refused.data!.createLead.errors, field).toEqual([{ field, code: 'TOO_LONG' }]);
    }
    const email = `${'a'.repeat(64)}@${'b'.repeat(LIMITS.email - 64 - 1 - 4)}.com`;
    expect(email).toHaveLength(LIMITS.email);
    expect((await call(CREATE, { i: { name: 'Longest email', email } })).data!.createLead.errors).toEqual([]);
  });
});
