import type { AccountRow, MembershipRow, TenantRow } from './store.ts';

// What each GraphQL type's resolvers receive as parent (see codegen.ts).
export type AccountModel = AccountRow;
export type TenantModel = TenantRow;
export type MembershipModel = MembershipRow;
export interface ViewerModel {
  accountId: string;
  tenantId: string;
}
export interface UserModel {
  email: string;
}
