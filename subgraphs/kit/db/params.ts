/**
 * The positional parameters of one statement, for SQL built from optional parts (filters, the
 * columns an update changes): `add` keeps the value and returns its placeholder.
 *
 *   const p = new Params();
 *   const where = [`owner_id = ${p.add(ownerId)}`];
 *   tx.query(`SELECT ... WHERE ${where.join(' AND ')}`, p.values);
 */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    return `$${this.values.push(value)}`;
  }
}
