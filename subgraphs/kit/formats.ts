/*
 * Text formats that the subgraphs and the gateway's REST shim check alike. One definition each,
 * so that what one entry point lets through, the others accept too.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Every id of ours is a UUID. Anything else cannot name a row, so it is refused (or found
 * nowhere) before it reaches SQL, where a `::uuid` cast would fail the whole statement.
 */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

/** An email address: a local part, a domain and a top-level domain, within RFC 5321's lengths. */
export const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{2,63}$/;

/** A Saleor channel slug (the crm and cms databases CHECK the same pattern). */
export const SALEOR_CHANNEL = /^[a-z0-9][a-z0-9_-]{0,99}$/;
