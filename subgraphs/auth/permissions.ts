import { allow, isAdmin, isAuthenticated, isMember, type Permissions } from '../kit/shield.ts';

/**
 * Who may call what in the auth subgraph (row-level security then decides which rows exist).
 * Logging in, refreshing and logging out need no access token: the credentials are the input.
 */
export const permissions: Permissions = {
  Query: {
    viewer: allow,
    tenant: isMember,
    members: isMember,
  },
  Mutation: {
    login: allow,
    refreshSession: allow,
    logout: allow,
    switchTenant: isAuthenticated,
    changePassword: isAuthenticated,
    inviteMember: isAdmin,
    updateMemberRole: isAdmin,
    removeMember: isAdmin,
    // The platform-admin flag is checked against the database in the resolver.
    createTenant: isAuthenticated,
  },
  Viewer: isAuthenticated,
  Account: isMember,
  Tenant: isMember,
  Membership: isMember,
  User: allow,
};
