import type { Role as TokenRole } from '../kit/principal.ts';
import type { Role } from './__generated__/resolvers-types.ts';

// Tokens and the database carry lower-case roles; the GraphQL enum is upper-case.
export const toGraphQLRole = (role: TokenRole) => role.toUpperCase() as Role;
export const fromGraphQLRole = (role: Role) => role.toLowerCase() as TokenRole;
