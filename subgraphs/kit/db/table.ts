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
