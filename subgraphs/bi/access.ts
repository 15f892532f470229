import type { Principal } from '../kit/principal.ts';

/**
 * Whether the caller sees unpublished dashboards: analysts and above (owner, admin, analyst, the
 * roles of kit/shield.ts isAnalyst). For everyone else they do not exist: the store leaves them
 * out of every read, so `dashboard` answers NOT_FOUND and `dashboards` skips them.
 */
export const seesUnpublished = (principal: Principal): boolean =>
  principal.roles.some((role) => role === 'owner' || role === 'admin' || role === 'analyst');
