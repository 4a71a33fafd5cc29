/**
 * Planners for the SQL resources (Database, User, Grant): pure functions from an observed value to a plan and the
 * status the object has once the plan ran (`SqlResource.ts` has the shared flow).
 *
 * Runtime contract:
 * - Observe: resolve `parentRefOf(object)`; `Missing` when that DoltDB does not exist, `NotReady(reason)` when its
 *   primary does not serve or a read below failed (a stable reason, no timestamps), else `Ready` with the reads,
 *   all on the current primary: Database `listDatabases` (+ branches, committed dolt_ignore patterns, charset and
 *   collation of `spec.name` when it exists); User `userExists` for each of `userAccountsToRead`, plus the password
 *   Secret's resourceVersion and key names; Grant `showGrants` for each of `grantAccountsToRead`.
 * - Execute the actions in order, stopping at the first failure; keep that failure (`SqlFailure`) per object and pass
 *   it as `lastFailure` to the next plan; clear it once a plan ran through.
 * - Time comes from `Clock` (`now`, epoch millis).
 */
export { parseGoDuration } from "../api/GoDuration.ts"
export { type NormalizedPrivileges, normalizePrivileges } from "./Privileges.ts"
export {
  CharsetCollationCondition,
  type DatabaseDetails,
  type DatabaseObserved,
  type DatabaseReads,
  type DatabaseResourceStatus,
  planDatabase,
  RetainedCondition
} from "./planDatabase.ts"
export {
  type AccountGrants,
  type AppliedGrant,
  type GrantObserved,
  type GrantReads,
  type GrantResourceStatus,
  grantAccountsToRead,
  planGrant
} from "./planGrant.ts"
export {
  type AppliedPasswordSecret,
  type PasswordSecret,
  planUser,
  type UserObserved,
  type UserReads,
  type UserResourceStatus,
  userAccountsToRead
} from "./planUser.ts"
export { type HeldGrant, parseGrantLine, parseShowGrants } from "./ShowGrants.ts"
export { describeSqlOp } from "./SqlFailures.ts"
export {
  defaultPlannerOptions,
  Finalizers,
  type ParentDoltDB,
  type PlannerOptions,
  type PlanResult,
  parentRefOf,
  ReadyReason,
  type ResourceStatus,
  type SqlFailure,
  type SqlResourceKind,
  type SqlResourceObject
} from "./SqlResource.ts"
export {
  BuiltInAccounts,
  type ReferenceAccess,
  referenceAccess,
  reservedAccountNames,
  type TenancyPolicy
} from "./Tenancy.ts"
