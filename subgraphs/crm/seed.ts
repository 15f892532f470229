import { randomUUID } from 'node:crypto';
import type { SubgraphDeps } from '../kit/deps.ts';
import type { Tx } from '../kit/db/database.ts';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../auth/seed.ts';
import { products as catalog } from '../saleor/catalog.ts';
import { toGlobalId } from '../saleor/ids.ts';
import { ACTIVITY_TYPES, SETTABLE_LEAD_STATUSES, type ActivityTypeValue } from './domain.ts';
import { formKeyHash, newFormKey } from './forms.ts';
import * as store from './store.ts';

/*
 * Demo CRM data for the demo tenants: leads (a fifth of them converted into a contact and a
 * deal), more contacts and deals spread over the default pipeline, deal products that exist in
 * the Saleor stand-in's catalog for the tenant's channel, activities, and one lead form whose
 * key is public (like the demo password). Deterministic apart from ids; written only when the
 * tenant has no leads yet, so it is idempotent.
 */

export const DEMO_SIZES: Record<string, { leads: number; contacts: number; deals: number; currency: string }> = {
  acme: { leads: 300, contacts: 100, deals: 80, currency: 'USD' },
  globex: { leads: 150, contacts: 50, deals: 40, currency: 'EUR' },
};

/** The demo lead forms' keys (public demo data, like DEMO_PASSWORD). */
export const DEMO_FORM_KEYS: Record<string, string> = Object.fromEntries(
  DEMO_TENANTS.map((t) => [t.slug, `lf_${`demo_${t.slug}_website_form`.padEnd(32, '0')}`]),
);

/** Newest demo lead; lead i was created i * 9.5 hours before. */
const BASE = Date.UTC(2026, 0, 15, 12);
const HOUR = 3_600_000;
const at = (ms: number) => new Date(ms).toISOString();

const FIRST = ['Ava', 'Ben', 'Chloe', 'Dan', 'Elena', 'Finn', 'Grace', 'Hugo', 'Iris', 'Jonas', 'Kira', 'Liam', 'Maya', 'Noah', 'Olga', 'Paul', 'Quinn', 'Rosa', 'Sam', 'Tara', 'Umar', 'Vera', 'Wes', 'Yara', 'Zoe'];
const LAST = ['Adler', 'Brooks', 'Castro', 'Dietrich', 'Evans', 'Fischer', 'Garcia', 'Hansen', 'Ito', 'Jensen', 'Kowalski', 'Larsen', 'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Quist', 'Rossi', 'Silva', 'Tanaka', 'Ueda', 'Vogel'];
const COMPANIES = ['Northwind', 'Contoso', 'Fabrikam', 'Initech', 'Umbrella', 'Stark Industries', 'Wayne Enterprises', 'Hooli', 'Vandelay', 'Soylent', 'Tyrell', 'Cyberdyne', 'Aperture', 'Gringotts', 'Monarch', 'Wonka', 'Oceanic', 'Pied Piper', 'Dunder Mifflin', 'Prestige'];
const TITLES = ['CEO', 'CTO', 'Head of Marketing', 'Marketing Manager', 'Procurement Lead', 'Founder', 'Operations Director', 'Brand Manager', 'E-commerce Lead'];
const SOURCES = ['website', 'referral', 'linkedin', 'event', 'cold-call', 'partner', 'webinar'];
const TAGS = ['vip', 'enterprise', 'smb', 'newsletter', 'hot', 'cold', 'retail', 'saas', 'agency'];
const STATUSES = SETTABLE_LEAD_STATUSES;
const SUBJECTS: Record<ActivityTypeValue, string[]> = {
  call: ['Intro call', 'Discovery call', 'Follow-up call', 'Pricing call'],
  email: ['Sent brochure', 'Sent proposal', 'Replied to questions', 'Sent case study'],
  meeting: ['Demo meeting', 'On-site visit', 'Kick-off meeting', 'Quarterly review'],
  note: ['Budget confirmed', 'Decision maker identified', 'Prefers email', 'Competitor in play'],
  task: ['Prepare quote', 'Schedule demo', 'Send contract', 'Check in next week'],
};

const pick = <T>(list: readonly T[], i: number) => list[i % list.length]!;
const person = (i: number) => `${pick(FIRST, i)} ${pick(LAST, Math.floor(i / FIRST.length) + i * 7)}`;
const emailOf = (name: string, company: string, i: number) =>
  `${name.toLowerCase().replace(/\s+/g, '.')}${i}@${company.toLowerCase().replace(/[^a-z]+/g, '')}.example`;
const tagsOf = (i: number) => (i % 4 === 0 ? [] : [pick(TAGS, i), ...(i % 3 === 0 ? [pick(TAGS, i + 4)] : [])]);

export async function seedDemoData(deps: SubgraphDeps): Promise<void> {
  for (const tenant of DEMO_TENANTS) {
    const sizes = DEMO_SIZES[tenant.slug]!;
    await deps.db.withTenant({ tenantId: tenant.id, accountId: null }, async (tx) => {
      if ((await store.countLeads(tx)) > 0) return;
      const wanted = DEMO_ACCOUNTS.filter((a) => a.tenant === tenant.slug).map((a) => a.id);
      // Owners must be members (foreign key): the auth demo data comes first.
      const { rows } = await tx.query<{ account_id: string }>(
        'SELECT account_id FROM auth.memberships WHERE account_id = ANY($1::uuid[]) ORDER BY account_id',
        [wanted],
      );
      const owners = rows.map((r) => r.account_id);
      if (!owners.length) return;
      await seedTenant(tx, tenant, owners, sizes);
    });
  }
}

async function seedTenant(
  tx: Tx,
  tenant: (typeof DEMO_TENANTS)[number],
  owners: string[],
  sizes: (typeof DEMO_SIZES)[string],
) {
  const stages = await store.stages(tx);
  const channelProducts = catalog.filter((p) => p.listings[tenant.saleorChannel]).map((p) => toGlobalId('Product', p.pk));
  const leads: object[] = [];
  const contacts: object[] = [];
  const deals: object[] = [];
  const dealProducts: object[] = [];
  const activities: object[] = [];
  let n = 0; // activity counter

  const addActivities = (count: number, target: { lead_id?: string; contact_id?: string; deal_id?: string }, from: number, i: number) => {
    for (let k = 0; k < count; k++) {
      const type = pick(ACTIVITY_TYPES, i + k + n);
      const created = from + (k + 1) * 26 * HOUR;
      const isTask = type === 'task';
      activities.push({
        id: randomUUID(),
        type,
        subject: pick(SUBJECTS[type], i + k),
        body: type === 'note' || type === 'meeting' ? `${pick(SUBJECTS[type], i + k + 1)}; next step agreed.` : null,
        due_at: isTask ? at(created + 3 * 24 * HOUR) : null,
        done: !isTask || (i + k) % 3 !== 0,
        completed_at: !isTask || (i + k) % 3 !== 0 ? at(created) : null,
        account_id: pick(owners, i + k),
        lead_id: target.lead_id ?? null,
        contact_id: target.contact_id ?? null,
        deal_id: target.deal_id ?? null,
        created_at: at(created),
        updated_at: at(created),
      });
      n++;
    }
  };

  const addDeal = (i: number, created: number, fields: { title: string; contact_id: string | null; lead_id: string | null; owner_id: string | null }) => {
    const stage = pick(stages, i);
    const id = randomUUID();
    deals.push({
      id,
      ...fields,
      amount: 500 + ((i * 1237) % 49_500),
      currency: sizes.currency,
      stage_id: stage.id,
      probability: stage.probability,
      expected_close_date: at(created + (30 + (i % 60)) * 24 * HOUR).slice(0, 10),
      tags: tagsOf(i + 1),
      notes: i % 2 ? 'Decision expected this quarter.' : null,
      closed_at: stage.kind === 'open' ? null : at(created + 20 * 24 * HOUR),
      created_at: at(created),
      updated_at: at(created),
    });
    for (let k = 0; k < 1 + (i % 3); k++) {
      dealProducts.push({ deal_id: id, product_id: pick(channelProducts, i * 5 + k * 11), channel: tenant.saleorChannel, position: k });
    }
    addActivities(2, { deal_id: id }, created, i);
  };

  for (let i = 0; i < sizes.leads; i++) {
    const id = randomUUID();
    const created = BASE - i * 9.5 * HOUR;
    const name = person(i);
    const company = pick(COMPANIES, i * 3);
    const converted = i % 5 === 0;
    const owner = i % 7 === 3 ? null : pick(owners, i);
    leads.push({
      id,
      name,
      email: emailOf(name, company, i),
      phone: i % 3 ? `+1 555 01${String(i).padStart(2, '0')}` : null,
      company,
      title: pick(TITLES, i),
      source: pick(SOURCES, i),
      status: converted ? 'converted' : pick(STATUSES, i),
      score: (i * 37) % 101,
      tags: tagsOf(i),
      owner_id: owner,
      notes: i % 4 === 1 ? `Met at ${pick(['a trade fair', 'a webinar', 'a partner dinner'], i)}; interested in ${pick(['storefront', 'SEO', 'campaigns', 'analytics'], i)}.` : null,
      converted_at: converted ? at(created + 48 * HOUR) : null,
      created_at: at(created),
      updated_at: at(converted ? created + 48 * HOUR : created),
    });
    addActivities(i % 3, { lead_id: id }, created, i);
    if (converted) {
      const contactId = randomUUID();
      contacts.push({
        id: contactId,
        name,
        email: emailOf(name, company, i),
        phone: null,
        company,
        title: pick(TITLES, i),
        tags: tagsOf(i),
        owner_id: owner,
        notes: null,
        lead_id: id,
        created_at: at(created + 48 * HOUR),
        updated_at: at(created + 48 * HOUR),
      });
      addDeal(i, created + 48 * HOUR, { title: `${company}: ${pick(['storefront', 'SEO retainer', 'campaign', 'analytics setup'], i)}`, contact_id: contactId, lead_id: id, owner_id: owner });
    }
  }
  // Contacts that did not come from a lead, and deals of their own.
  for (let j = 0; j < sizes.contacts; j++) {
    const i = 1000 + j;
    const created = BASE - j * 40 * HOUR;
    const name = person(i);
    const company = pick(COMPANIES, i);
    const contactId = randomUUID();
    contacts.push({
      id: contactId,
      name,
      email: emailOf(name, company, i),
      phone: `+44 20 7946 0${String(j).padStart(3, '0')}`,
      company,
      title: pick(TITLES, i),
      tags: tagsOf(i),
      owner_id: pick(owners, j),
      notes: null,
      lead_id: null,
      created_at: at(created),
      updated_at: at(created),
    });
    addActivities(1, { contact_id: contactId }, created, i);
    if (j < sizes.deals) addDeal(i, created + 24 * HOUR, { title: `${company} expansion ${j + 1}`, contact_id: contactId, lead_id: null, owner_id: pick(owners, j) });
  }

  const common = { tags: 'text[]', created_at: 'timestamptz', updated_at: 'timestamptz' };
  await store.bulkInsert(tx, 'crm.leads', {
    id: 'uuid', name: 'text', email: 'text', phone: 'text', company: 'text', title: 'text', source: 'text', status: 'text',
    score: 'smallint', owner_id: 'uuid', notes: 'text', converted_at: 'timestamptz', ...common,
  }, leads);
  await store.bulkInsert(tx, 'crm.contacts', {
    id: 'uuid', name: 'text', email: 'text', phone: 'text', company: 'text', title: 'text', owner_id: 'uuid', notes: 'text',
    lead_id: 'uuid', ...common,
  }, contacts);
  await store.bulkInsert(tx, 'crm.deals', {
    id: 'uuid', title: 'text', amount: 'numeric', currency: 'text', stage_id: 'uuid', probability: 'smallint',
    expected_close_date: 'date', contact_id: 'uuid', owner_id: 'uuid', lead_id: 'uuid', notes: 'text', closed_at: 'timestamptz', ...common,
  }, deals);
  await store.bulkInsert(tx, 'crm.deal_products', { deal_id: 'uuid', product_id: 'text', channel: 'text', position: 'smallint' }, dealProducts);
  await store.bulkInsert(tx, 'crm.activities', {
    id: 'uuid', type: 'text', subject: 'text', body: 'text', due_at: 'timestamptz', done: 'boolean', completed_at: 'timestamptz',
    account_id: 'uuid', lead_id: 'uuid', contact_id: 'uuid', deal_id: 'uuid', created_at: 'timestamptz', updated_at: 'timestamptz',
  }, activities);
  await store.touchLeadsFromActivities(tx);

  const key = DEMO_FORM_KEYS[tenant.slug]!;
  await store.insertLeadForm(tx, {
    name: 'Website contact form',
    keyHash: formKeyHash(key),
    keyPrefix: key.slice(0, newFormKey().prefix.length),
    source: 'form:website',
    ownerId: owners[0]!,
    tags: ['inbound'],
  });
}
