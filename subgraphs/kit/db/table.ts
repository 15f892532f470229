/**
 * A table as the kit's row helpers see it: its schema-qualified name and the columns its reads
 * return and its writes give back (RETURNING). For reads, `name` may be a join (then the key
 * columns are qualified: `p.id`).
 *
 *   const LEADS: Table = { name: 'crm.leads', columns: 'id, name, email, status, created_at' };
 */
export interface Table {
  name: string;
  columns: string;
}

const columnLists = new WeakMap<Table, readonly string[] | null>();
/** A table's columns when they are plain names (else null), split once per table object. */
function plainColumns(table: Table): readonly string[] | null {
  let all = columnLists.get(table);
  if (all === undefined) {
    const names = table.columns.split(',').map((column) => column.trim());
    all = names.every((column) => /^[a-z_][a-z0-9_]*$/.test(column)) ? names : null;
    columnLists.set(table, all);
  }
  return all;
}

/**
 * `table` reading only the columns `fields` need: `needs` maps each GraphQL field of the row's
 * type to the columns its resolver reads (`owner: ['owner_id']`; none for a field computed
 * elsewhere, such as `__typename`), and `key` columns are always read. A page of 50 leads asked
 * for two fields parses 3 of 16 columns: row parsing was a fifth of crm's CPU on such a page.
 * Every column when a field has no entry in `needs` (a field added to the schema reads a whole
 * row, never a missing column) or when `columns` holds more than plain names.
 *
 *   listPage(tx, columnsFor(LEADS, selectedFields(info, ['edges', 'node']), LEAD_NEEDS), ...)
 */
export function columnsFor(
  table: Table,
  fields: ReadonlySet<string>,
  needs: Readonly<Record<string, readonly string[]>>,
  key: readonly string[] = ['id'],
): Table {
  const all = plainColumns(table);
  if (!all) return table;
  const wanted = new Set(key);
  for (const field of fields) {
    const columns = Object.hasOwn(needs, field) ? needs[field] : undefined;
    if (!columns) return table;
    for (const column of columns) wanted.add(column);
  }
  const unknown = [...wanted].filter((column) => !all.includes(column));
  if (unknown.length) throw new Error(`${table.name} has no column ${unknown.join(', ')}`);
  if (wanted.size >= all.length) return table;
  return { name: table.name, columns: all.filter((column) => wanted.has(column)).join(', ') };
}

/**
 * `table` also reading, as `as`, the id of the row of `other` whose `key` column refers to this
 * row (unique per tenant in `other`: `UNIQUE (tenant_id, key)`), in the row's own statement and
 * under the same row-level security. A reference asked for by its id alone (`convertedContact {
 * id }`) then costs no second statement reading whole rows. `table` is one plain table; `when`:
 * an SQL condition on its row outside which there is no such row (not looked up, null).
 *
 *   withReferringId(LEADS, 'crm.contacts', 'lead_id', 'converted_contact_id', "status = 'converted'")
 */
export function withReferringId(table: Table, other: string, key: string, as: string, when?: string): Table {
  const self = table.name;
  const lookup = `(SELECT o.id FROM ${other} o WHERE o.tenant_id = ${self}.tenant_id AND o.${key} = ${self}.id)`;
  return { name: self, columns: `${table.columns}, ${when ? `CASE WHEN ${when} THEN ${lookup} END` : lookup} AS ${as}` };
}
