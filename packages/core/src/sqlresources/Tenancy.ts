/**
 * Which namespaces may manage SQL objects in a DoltDB, and which accounts no SQL resource may touch.
 *
 * The tenancy model (docs/security.md): a Database, User or Grant manages SQL objects only in a DoltDB of its own
 * namespace, unless that DoltDB lists the object's namespace in `spec.tenancy.allowedNamespaces` (CloudNativePG's
 * rule — its Database names its Cluster by a local reference — with an opt-in the DoltDB's owner controls, where
 * mariadb-operator lets any namespace name any MariaDB). An object from another namespace is a tenant: it never
 * adopts an existing database, account or privilege, and grants only on databases created by its own namespace's
 * Database objects. No object, from any namespace, manages the admin account or Dolt's built-in accounts.
 */

export interface TenancyPolicy {
  readonly namespace: string
  readonly allowedNamespaces?: ReadonlyArray<string> | undefined
}

export type ReferenceAccess =
  | { readonly _tag: "Own" }
  | { readonly _tag: "Tenant" }
  | { readonly _tag: "Refused"; readonly reason: string }

/** Whether an object in `objectNamespace` may manage SQL objects in the DoltDB `name` that `policy` describes. */
export const referenceAccess = (objectNamespace: string, name: string, policy: TenancyPolicy): ReferenceAccess => {
  if (objectNamespace === policy.namespace) return { _tag: "Own" }
  if (policy.allowedNamespaces?.includes(objectNamespace) === true) return { _tag: "Tenant" }
  return {
    _tag: "Refused",
    reason: `DoltDB ${policy.namespace}/${name} does not allow SQL resources from namespace ${objectNamespace} (add it to the DoltDB's spec.tenancy.allowedNamespaces)`
  }
}

/**
 * Dolt's own accounts: `root` (the superuser Dolt >= 1.49 creates from DOLT_ROOT_PASSWORD) and the account the
 * dolt CLI uses against a running server.
 */
export const BuiltInAccounts: ReadonlyArray<string> = ["root", "__dolt_local_user__"]

/** The account names no User or Grant may manage: Dolt's, the admin (operator) account, the MCP server's. */
export const reservedAccountNames = (
  adminUser: string | undefined,
  extra: ReadonlyArray<string | undefined> = []
): ReadonlyArray<string> =>
  [...BuiltInAccounts, adminUser, ...extra].filter((n): n is string => n !== undefined && n !== "")
